"""``python -m bench`` (``make bench``): every measurement of issue 6, a table, ``bench/results.json``.

Options::

    --smoke           tiny sizes (the whole suite in well under a minute; CI runs this)
    --only A,B        run only these measurements (names as in results.json); repeatable
    --output PATH     where to write the JSON (default bench/results.json, or
                      bench/results-smoke.json with --smoke); entries of measurements not run
                      this time are kept from the existing file, so --only updates in place
    --serial          do not overlap the wall-clock-bound measurements
    --no-variants     skip the side experiments (telegram_ceiling with a wider rate margin)
    --variants        include them with --smoke too (a smoke run skips them by default)
    --profile         pyinstrument profiles of the engine runs and the webhook process (in --workdir)
    --strict          exit 1 when a target is missed (default: exit 0; 2 when a measurement crashed)
    --markdown        print the results file as a Markdown table (for docs/benchmarks.md); runs nothing

Light measurements (paced by platform limits, not by CPU) run concurrently with each other,
each against its own fake server and engine process: together they use a fraction of a core,
and running them back to back would only add minutes of waiting to the run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.common import NAMES, REPO, BenchError, Options, Result, machine

MODULES: dict[str, str] = {
    "telegram_ceiling_utilisation": "bench.telegram_ceiling",
    "telegram_paid_utilisation": "bench.telegram_paid",
    "group_limits": "bench.group_limits",
    "slack_channels": "bench.slack_channels",
    "engine_sqlite": "bench.engine_sqlite",
    "engine_postgres": "bench.engine_postgres",
    "vs_ptb_ratelimiter": "bench.vs_ptb",
    "command_latency_p99": "bench.command_latency",
    "memory_100k": "bench.memory",
    "crash_recovery": "bench.crash",
    "scheduler_first_message": "bench.scheduler",
    "slot_cost_curve": "bench.slot_curve",
    "slot_1m": "bench.slot_1m",
    "command_latency_fanout": "bench.command_latency_fanout",
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="briefcast benchmarks (issue 6)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--only", action="append", default=[], help="comma-separated measurement names")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--serial", action="store_true", help="run light measurements one after another")
    parser.add_argument("--no-variants", action="store_true", help="skip side experiments")
    parser.add_argument("--variants", action="store_true", help="with --smoke: include the variants too")
    parser.add_argument("--profile", action="store_true", help="pyinstrument profiles of engine runs")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--markdown", action="store_true", help="print results as Markdown; run nothing")
    parser.add_argument("--workdir", type=Path, default=None, help="where databases and profiles go")
    args = parser.parse_args(argv)
    only = [n.strip() for chunk in args.only for n in chunk.split(",") if n.strip()]
    unknown = [n for n in only if n not in MODULES]
    if unknown:
        parser.error(f"unknown measurement(s): {', '.join(unknown)}; known: {', '.join(NAMES)}")
    args.names = [n for n in NAMES if not only or n in only]
    if args.output is None:
        args.output = REPO / "bench" / ("results-smoke.json" if args.smoke else "results.json")
    return args


def _load(name: str) -> ModuleType:
    return importlib.import_module(MODULES[name])


def _safe(name: str, fn: Callable[[Options], Result], opts: Options) -> Result:
    """Run one measurement; a crash becomes a failed result with the error, not a lost run."""
    started = time.monotonic()
    try:
        result = fn(opts)
    except (BenchError, Exception) as e:  # a benchmark harness must report, not die
        traceback.print_exc()
        result = Result(name, float("nan"), "", "", False, {"error": f"{type(e).__name__}: {e}"[:2000]})
    result.details["wall_s"] = round(time.monotonic() - started, 1)
    print(f"  done {name}: {'PASS' if result.passed else 'FAIL'} ({result.details['wall_s']} s)", flush=True)
    return result


def run_all(
    names: Sequence[str], opts: Options, *, serial: bool, save: Callable[[Result], None]
) -> list[Result]:
    """Run the measurements (light ones concurrently unless ``serial``); ``save`` each as it ends."""
    modules = {n: _load(n) for n in names}
    light = [n for n in names if getattr(modules[n], "LIGHT", False)] if not serial else []
    heavy = [n for n in names if n not in light]
    results: dict[str, Result] = {}
    for n in heavy:
        print(f"running {n} ...", flush=True)
        results[n] = _safe(n, modules[n].run, opts)
        save(results[n])
    if light:
        print(f"running concurrently: {', '.join(light)} ...", flush=True)
        with ThreadPoolExecutor(max_workers=len(light)) as pool:
            futures = {n: pool.submit(_safe, n, modules[n].run, opts) for n in light}
            for n, fut in futures.items():
                results[n] = fut.result()
                save(results[n])
    return [results[n] for n in names]


def merge(path: Path, fresh: Sequence[Result]) -> list[dict[str, Any]]:
    """The existing results with this run's entries replaced, in the canonical order."""
    entries: dict[str, dict[str, Any]] = {}
    if path.exists():
        try:
            for item in json.loads(path.read_text()):
                if isinstance(item, dict) and item.get("name") in MODULES:
                    entries[item["name"]] = item
        except ValueError:
            pass
    for r in fresh:
        entries[r.name] = r.to_json()
    return [entries[n] for n in NAMES if n in entries]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "—"
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def print_table(results: Sequence[Result], info: dict[str, Any], smoke: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    title = f"briefcast benchmarks{' (smoke sizes)' if smoke else ''} — {info['cores']} cores, {info['cpu']}"
    table = Table(title=title)
    for col in ("measurement", "value", "unit", "target", "result"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for r in results:
        verdict = "[green]PASS[/green]" if r.passed else "[red]FAIL[/red]"
        table.add_row(r.name, _fmt(r.value), r.unit, r.target, verdict)
    Console(width=160).print(table)
    for r in results:
        if r.name == "vs_ptb_ratelimiter" and "ratios" in r.details:
            print(f"briefcast vs PTB AIORateLimiter throughput ratios: {r.details['ratios']}")


def markdown(path: Path) -> str:
    """The results file as the Markdown table used in docs/benchmarks.md."""
    rows = ["| measurement | value | unit | target | result |", "|---|---:|---|---|---|"]
    for r in json.loads(path.read_text()):
        value = r["value"]
        shown = "—" if value is None else _fmt(float(value)) if isinstance(value, float) else str(value)
        verdict = "PASS" if r["pass"] else "**FAIL**"
        rows.append(f"| `{r['name']}` | {shown} | {r['unit']} | {r['target']} | {verdict} |")
    return "\n".join(rows)


def _write_meta(path: Path, run: dict[str, Any], info: dict[str, Any]) -> None:
    """Keep the machine and the last runs (a ``--only`` re-run must not hide the full run)."""
    meta: dict[str, Any] = {}
    if path.exists():
        try:
            meta = json.loads(path.read_text())
        except ValueError:
            meta = {}
    runs = [r for r in meta.get("runs", []) if isinstance(r, dict)][-9:]
    path.write_text(json.dumps({"machine": info, "runs": [*runs, run]}, indent=2) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.markdown:
        print(markdown(args.output))
        return 0
    info = machine()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="briefcast-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    opts = Options(
        smoke=args.smoke,
        workdir=workdir,
        profile=args.profile,
        variants=not args.no_variants and (args.variants or not args.smoke),
    )
    print(f"machine: {info['cores']} cores, {info['cpu']}; workdir {workdir}", flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)

    def save(result: Result) -> None:
        """Write each result as soon as it exists: a long run interrupted later keeps what it measured."""
        result.details.setdefault("machine_cores", info["cores"])
        merged = merge(args.output, [result])
        args.output.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")

    started = time.monotonic()
    results = run_all(args.names, opts, serial=args.serial, save=save)
    total = time.monotonic() - started
    run = {
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "total_wall_s": round(total, 1),
        "smoke": args.smoke,
        "variants": opts.variants,
        "names": list(args.names),
    }
    _write_meta(args.output.with_suffix(".meta.json"), run, info)
    print_table(results, info, args.smoke)
    print(f"total {total:.0f} s; wrote {args.output}")
    if any("error" in r.details for r in results):
        return 2
    return 1 if args.strict and not all(r.passed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
