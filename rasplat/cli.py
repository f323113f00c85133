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


def _cmd_dt(args: argparse.Namespace) -> int:
    from .platform import Platform

    plat = Platform.from_devicetree(args.file)
    if args.dt_command == "check":
        unknown = plat.description.get("unknown", {})
        note = f"; skipped unknown compatibles: {', '.join(sorted(unknown))}" if unknown else ""
        regions = len(plat.bus.regions)
        print(f"{args.file}: ok ({len(plat.harts)} hart(s), {regions} mapped region(s){note})")
        return 0
    print("\n".join(describe_platform(plat)))
    return 0


def describe_platform(plat: object) -> list[str]:
    """`rasplat dt show`: harts, address map and interrupt wiring as readable tables."""
    d = plat.description  # type: ignore[attr-defined]
    out = [f"platform from {d.get('source', '?')}", "", "harts:", f"  {'hart':<5} {'node':<24} {'isa':<36} mmu"]
    out += [f"  {c['hart']:<5} {c['node']:<24} {c['isa']:<36} {c['mmu']}" for c in d.get("cpus", [])]
    out += ["", "address map:", f"  {'base':<18} {'end':<18} {'size':>10}  {'kind':<7} {'model':<12} node"]
    for r in plat.bus.regions:  # type: ignore[attr-defined]
        model = type(r.target).__name__
        out.append(f"  {r.base:#018x} {r.end:#018x} {_size(r.size):>10}  {r.kind:<7} {model:<12} {r.name}")
    out += ["", "interrupt wiring:"]
    for imsic in d.get("imsics", []):
        levels = sorted({h["level"] for h in imsic["harts"]})
        harts = ", ".join(str(h["hart"]) for h in imsic["harts"])
        out.append(f"  IMSIC {'/'.join(levels)}-level {imsic['node']}: harts {harts}, {imsic['num_ids']} identities")
    for aplic in d.get("aplics", []):
        mode = f"MSI -> {aplic['msi_parent']}" if aplic["msi_parent"] else "direct"
        line = f"  APLIC {aplic['node']}: {aplic['num_sources']} sources, {mode}"
        for dlg in aplic["delegation"]:
            line += f"; delegates {dlg['first']}-{dlg['last']} to {dlg['child']}"
        out.append(line)
    if not d.get("imsics") and not d.get("aplics"):
        out.append("  (no AIA interrupt controllers)")
    unknown = d.get("unknown", {})
    if unknown:
        out += ["", "skipped (no model for these compatibles):"]
        out += [f"  {c:<28} {', '.join(paths)}" for c, paths in sorted(unknown.items())]
    return out


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n:#x}"


def _cmd_plugins(args: argparse.Namespace) -> int:
    from .plugins import Plugins

    plugins = Plugins()
    for p in plugins.info:
        state = f"FAILED: {p.error}" if p.error else ", ".join(p.hooks) or "no hooks"
        print(f"{p.name:<20} {p.dist:<32} {state}")
    for title, registry in (("devices", plugins.devices), ("backends", plugins.backends),
                            ("error sources", plugins.error_sources)):  # fmt: skip
        print(f"{title}: {', '.join(sorted(registry)) or '-'}")
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
    dt = sub.add_parser("dt", help="device trees: check one, or show the platform it builds")
    dt_sub = dt.add_subparsers(dest="dt_command", required=True)
    for name, text in (("check", "report problems in a .dts/.dtb (exit 1 on error)"),
                       ("show", "print the platform a .dts/.dtb builds: harts, address map, interrupt wiring")):
        cmd = dt_sub.add_parser(name, help=text)
        cmd.add_argument("file", help="a .dts or .dtb file")
        cmd.set_defaults(func=_cmd_dt)
    plugins = sub.add_parser("plugins", help="list the plugins loaded, the hooks each implements, and failures")
    plugins.set_defaults(func=_cmd_plugins)
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
