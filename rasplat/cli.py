"""The `rasplat` command line. Library errors become one-line messages and exit status 1."""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .errors import KernelPanic, RasplatError


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo()


def _cmd_run(args: argparse.Namespace) -> int:
    from .hart.trap import PRIV_NAMES
    from .platform import Platform

    plat = Platform.default()
    image = plat.load_elf(args.elf)
    hart = plat.harts[0]
    hart.pc = image.entry
    ran = plat.run(args.max_steps)
    tohost = image.symbols.get("tohost")
    print(f"ran {ran} instructions; hart0 pc={hart.pc:#x} ({PRIV_NAMES[hart.priv]}-mode) instret={hart.instret}")
    for e in plat.events.of_kind("trap", "poison.consume", "panic"):
        fields = ", ".join(_field(k, v) for k, v in e.items() if k not in ("t", "kind"))
        print(f"  t={e['t']:>8} {e['kind']}: {fields}")
    if tohost is not None:
        value = int.from_bytes(plat.bus.peek(tohost, 8), "little")
        print(f"tohost = {value:#x}" + (" (pass)" if value == 1 else f" (fail: test {value >> 1})" if value else ""))
        return 0 if value == 1 else 1
    return 0


def _field(key: str, value: object) -> str:
    is_number = isinstance(value, int) and not isinstance(value, bool)
    return f"{key}={value:#x}" if is_number else f"{key}={value}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rasplat", description="A RISC-V platform model for RAS work.")
    parser.add_argument("--version", action="version", version=f"rasplat {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="copy a page with one poisoned line, without and with copy_mc")
    demo.set_defaults(func=_cmd_demo)
    run = sub.add_parser("run", help="load a linked RV64 ELF on the default platform and run it from its entry")
    run.add_argument("elf", help="path to the ELF file")
    run.add_argument("--max-steps", type=int, default=10_000_000, help="instruction budget (default 10M)")
    run.set_defaults(func=_cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KernelPanic as e:
        print(f"rasplat: {e}", file=sys.stderr)
        return 1
    except RasplatError as e:
        print(f"rasplat: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
