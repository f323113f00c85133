"""The `rasplat` command line. Library errors become one-line messages and exit status 1."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__
from .errors import KernelPanic, RasplatError


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo()


def _cmd_run(args: argparse.Namespace) -> int:
    from .platform import Platform
    from .scenarios import SCENARIOS, run_scenario

    if args.list or not args.target:
        for s in SCENARIOS.values():
            print(f"{s.name:<16} {s.caller:<28} {s.about}")
        return 0
    if args.target.endswith(".elf"):
        return _run_elf(args)
    plat = Platform.from_devicetree(args.devicetree) if args.devicetree else Platform.default()
    if args.policy:
        plat.policy = args.policy
    if args.memory_failure:
        plat.memory_failure = args.memory_failure
    outcome = run_scenario(args.target, plat)
    from .demo import describe_event

    for e in plat.events:
        if e["kind"] not in ("elf.load", "boot", "ras.setup"):
            print(f"  t={e['t']:>8}  {e['kind']:<15} {describe_event(plat, e)}")
    print(f"outcome: {outcome}")
    return 0


def _run_elf(args: argparse.Namespace) -> int:
    from .hart.trap import PRIV_NAMES
    from .platform import Platform

    plat = Platform.from_devicetree(args.devicetree) if args.devicetree else Platform.default()
    image = plat.load_elf(args.target)
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
    from .reri import ReriBank

    logged = {}
    for region, (bank, record) in plat.ras.banks.items():  # type: ignore[attr-defined]
        logged.setdefault(bank.name, []).append(f"{region} (record {record})")
    for name, bank in plat.devices.items():  # type: ignore[attr-defined]
        if isinstance(bank, ReriBank):
            routes = ", ".join(f"{sig} -> {'APLIC source' if how == 'aplic' else 'local interrupt'} {n}"
                               for sig, (how, n) in sorted(bank.routes.items())) or "no signals routed"
            out.append(f"  RERI  {name}: {bank.n_records} records; {routes}; logs {', '.join(logged.get(name, ['-']))}")
    out.append(f"  RAS delivery: {plat.ras_delivery}")  # type: ignore[attr-defined]
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


def _cmd_verify_copy(args: argparse.Namespace) -> int:
    from .campaign import make_executor
    from .verify import Routine, RoutineInfo, Sweep, parse_ints, report_lines, rig_for, verify, write_html

    if args.elf and not args.symbol:
        raise RasplatError("verify-copy: --elf needs --symbol NAME (the routine to verify)")
    sides = ("src", "dst") if args.side == "both" else (args.side,)
    sweep = Sweep(
        routine=Routine(args.symbol or "__memcpy_mc", args.elf),
        lengths=tuple(parse_ints(args.lengths, "--lengths")),
        src_aligns=tuple(parse_ints(args.src_align, "--src-align")),
        dst_aligns=tuple(parse_ints(args.dst_align, "--dst-align")),
        sides=sides, fault_step=args.fault_step, brute=args.brute_force,
        platform=args.devicetree or "default", maps=bool(args.html),
    )  # fmt: skip
    with make_executor(args.workers, args.dask) as handle:
        summary = verify(sweep, handle, progress=not args.no_progress)
    info = RoutineInfo.of(rig_for(sweep.routine, max(sweep.lengths), sweep.platform))
    print("\n".join(report_lines(summary, info)))
    if args.html:
        path, plots = write_html(summary, args.html, info)
        note = "" if plots else " (tables only: matplotlib is not installed; pip install 'rasplat[report]')"
        print(f"report: {path}{note}")
    return 0 if summary.safe else 1


def _cmd_campaign(args: argparse.Namespace) -> int:
    from .campaign import load_spec, make_executor, run_campaign, summary_lines

    spec = load_spec(args.spec)
    results = args.results or str(Path(args.spec).with_suffix(".results.msgpack"))
    with make_executor(args.workers, args.dask) as handle:
        result = run_campaign(spec, results, handle, progress=not args.no_progress)
    print("\n".join(summary_lines(result)))
    return 0


def _cmd_trace(args: argparse.Namespace) -> int:
    from . import trace

    recorded = trace.load(args.file)
    if args.trace_command == "show":
        from .timeline import trace_lines

        for text in trace_lines(recorded, kinds=args.kind, platform=args.platform):
            print(text)
        return 0
    if args.trace_command == "export":
        from .export import export

        path = export(recorded, args.format, args.output, platform=args.platform)
        print(f"{args.format}: {path}")
        return 0
    from .replay import replay

    def execute(inputs: dict[str, str], scratch: Path) -> int:
        """The recorded command line again, reading the recorded input bytes and writing into scratch."""
        again = build_parser().parse_args(recorded.recipe["argv"])  # type: ignore[index]
        if not hasattr(again, "trace_inputs"):
            raise RasplatError(f"{args.file}: `rasplat {again.command}` cannot be replayed (it takes no --trace)")
        for dest, path in inputs.items():
            setattr(again, dest, path)
        for dest in again.trace_outputs:
            if getattr(again, dest, None) is not None:
                setattr(again, dest, str(scratch / dest))
        again.trace = None
        return again.func(again)

    identical, lines = replay(recorded, execute)
    print("\n".join(lines))
    return 0 if identical else 1


def _traceable(cmd: argparse.ArgumentParser, inputs: dict[str, str | None] | None = None,
               outputs: tuple[str, ...] = ()) -> None:  # fmt: skip
    """`--trace FILE` for a command that builds platforms. `inputs`: options naming input files, whose bytes
    the trace keeps for replay (option -> suffix the value must have to be a file, or None); `outputs`:
    options naming files or directories the command writes, which a replay points into a scratch directory."""
    text = "record every event of every platform into FILE (rasplat trace show|export|replay)"
    cmd.add_argument("--trace", metavar="FILE", help=text)
    cmd.set_defaults(trace_inputs=inputs or {}, trace_outputs=outputs)


def _field(key: str, value: object) -> str:
    is_number = isinstance(value, int) and not isinstance(value, bool)
    return f"{key}={value:#x}" if is_number else f"{key}={value}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rasplat", description="A RISC-V platform model for RAS work.")
    parser.add_argument("--version", action="version", version=f"rasplat {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="copy a page with one poisoned line, without and with copy_mc")
    demo.set_defaults(func=_cmd_demo)
    _traceable(demo)
    run = sub.add_parser("run", help="run a scenario (a caller of copy_mc with a poisoned page) or an ELF file")
    run.add_argument("target", nargs="?", help="scenario name (see --list) or a linked RV64 ELF file")
    run.add_argument("--list", action="store_true", help="list the scenarios")
    run.add_argument("--devicetree", help="platform device tree (.dts/.dtb); default: the embedded platform")
    run.add_argument("--policy", help="recovery policy to ask the plugins for (default: linux)")
    run.add_argument("--memory-failure", choices=("riscv-today", "supported"),
                     help="RISC-V today (memory_failure_queue is a stub) or a platform with memory_failure")
    run.add_argument("--max-steps", type=int, default=10_000_000, help="instruction budget for an ELF (10M)")
    run.set_defaults(func=_cmd_run)
    _traceable(run, inputs={"devicetree": None, "target": ".elf"})
    dt = sub.add_parser("dt", help="device trees: check one, or show the platform it builds")
    dt_sub = dt.add_subparsers(dest="dt_command", required=True)
    for name, text in (("check", "report problems in a .dts/.dtb (exit 1 on error)"),
                       ("show", "print the platform a .dts/.dtb builds: harts, address map, interrupt wiring")):
        cmd = dt_sub.add_parser(name, help=text)
        cmd.add_argument("file", help="a .dts or .dtb file")
        cmd.set_defaults(func=_cmd_dt)
    plugins = sub.add_parser("plugins", help="list the plugins loaded, the hooks each implements, and failures")
    plugins.set_defaults(func=_cmd_plugins)
    verify = sub.add_parser("verify-copy", help="run a copy routine against every fault position and classify "
                            "how it keeps the 'bytes not copied' contract (exit 1 on any unsafe case)")  # fmt: skip
    verify.add_argument("--symbol", help="routine to verify (default __memcpy_mc; e.g. __memcpy_mc_exact)")
    verify.add_argument("--elf", help="an RV64 ELF holding --symbol, loaded like a kernel module")
    verify.add_argument("--lengths", default="1..1200", help="copy lengths, e.g. 1..64,4096 (default 1..1200)")
    verify.add_argument("--src-align", default="0", help="source offsets from an aligned base (default 0)")
    verify.add_argument("--dst-align", default="0..7", help="destination offsets from an aligned base (default 0..7)")
    side_help = "fault the source loads (hardware error) or the destination stores (access fault)"
    verify.add_argument("--side", choices=("src", "dst", "both"), default="src", help=side_help)
    verify.add_argument("--fault-step", type=int, default=1, help="fault every K-th byte offset (default 1: all)")
    verify.add_argument("--brute-force", action="store_true", help="run every case from the start (no pruning)")
    verify.add_argument("--html", metavar="DIR", help="write an HTML report with plots to DIR")
    verify.add_argument("--devicetree", metavar="FILE", help="platform to run on (default: the embedded one)")
    campaign = sub.add_parser("campaign", help="run a fault campaign from a TOML spec (resumes its results file)")
    campaign.add_argument("spec", help="campaign spec (.toml)")
    campaign.add_argument("--results", metavar="FILE", help="results file (default: SPEC with .results.msgpack)")
    for cmd in (verify, campaign):
        cmd.add_argument("--workers", type=int, help="local worker processes (default: the CPU count)")
        cmd.add_argument("--dask", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://host:8786")
        cmd.add_argument("--no-progress", action="store_true", help="no progress bar")
    verify.set_defaults(func=_cmd_verify_copy)
    campaign.set_defaults(func=_cmd_campaign)
    tr = sub.add_parser("trace", help="event traces written with --trace: show, export, replay")
    tr_sub = tr.add_subparsers(dest="trace_command", required=True)
    show = tr_sub.add_parser("show", help="print the timeline: one line per event")
    show.add_argument("--kind", action="append", metavar="PATTERN", help="only these kinds (e.g. trap, 'cxl*')")
    export = tr_sub.add_parser("export", help="write Perfetto/Chrome JSON, VCD or a rasdaemon-layout sqlite file")
    export.add_argument("--format", required=True, help="perfetto (trace-event JSON), vcd, rasdaemon (sqlite)")
    export.add_argument("-o", "--output", required=True, metavar="OUT", help="file to write")
    replay = tr_sub.add_parser("replay", help="re-run the recorded command; exit 1 at the first divergence")
    for cmd in (show, export, replay):
        cmd.add_argument("file", help="a trace written by --trace (or a failing test's artifact)")
        cmd.set_defaults(func=_cmd_trace)
    for cmd in (show, export):
        cmd.add_argument("--platform", type=int, metavar="N", help="only platform N of the trace")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "trace", None):
            from .replay import record

            return record(args, argv)
        return args.func(args)
    except KernelPanic as e:
        print(f"rasplat: {e}", file=sys.stderr)
        return 1
    except RasplatError as e:
        print(f"rasplat: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `rasplat trace show FILE | head`: the reader has gone, so has our output
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
