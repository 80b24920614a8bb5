"""Run every benchmark in bench/ and write docs/BENCHMARKS.md.

Each `bench/bench_*.py` is a script whose stdout carries JSON lines of the form
`{"name": ..., "value": ..., "unit": ..., "reference": ..., "reference_name": ..., "ratio": ...,
"aim": ...}`; anything else it prints is ignored. Every figure is measured beside its reference
in the same run, on this machine, and only local servers are used.

Usage: `python bench/run_all.py [--only NAME ...] [--out docs/BENCHMARKS.md]`
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent


class Figure(BaseModel):
    """One measured figure and its reference."""

    name: str
    value: float
    unit: str = ""
    reference: float | None = None
    reference_name: str = ""
    ratio: float | None = None
    aim: str = ""
    note: str = ""


class BenchRun(BaseModel):
    script: str
    seconds: float
    figures: list[Figure]
    error: str = ""


def run_script(path: Path, timeout_s: float) -> BenchRun:
    """Run one bench script and collect its figures; a failure is reported, not raised."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, str(path)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        error = f"timed out after {timeout_s:.0f} s"
        return BenchRun(script=path.name, seconds=timeout_s, figures=[], error=error)
    figures: list[Figure] = []
    for line in proc.stdout.splitlines():
        if not line.startswith("{"):
            continue
        try:
            figures.append(Figure.model_validate(json.loads(line)))
        except (ValueError, ValidationError):
            continue
    error = "" if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.strip()[-500:]}"
    return BenchRun(script=path.name, seconds=time.perf_counter() - started, figures=figures, error=error)


def machine_summary() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores, {cpu}, {system}, Python {platform.python_version()}"


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def render(runs: list[BenchRun]) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine_summary()}.",
        "Every figure is measured beside its reference in the same run, against local servers only.",
        "Regenerate with `python bench/run_all.py`.",
        "",
        "| benchmark | figure | value | reference | ratio | aim |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        for fig in run.figures:
            ref = ""
            if fig.reference is not None:
                named = f" ({fig.reference_name})" if fig.reference_name else ""
                ref = f"{_fmt(fig.reference)} {fig.unit}".rstrip() + named
            value = f"{_fmt(fig.value)} {fig.unit}".rstrip()
            lines.append(f"| {run.script} | {fig.name} | {value} | {ref} | {_fmt(fig.ratio)} | {fig.aim} |")
        if run.error:
            lines.append(f"| {run.script} | (failed) | {run.error.splitlines()[0][:120]} | | | |")
    notes = [f"- {run.script}: {fig.name}: {fig.note}" for run in runs for fig in run.figures if fig.note]
    if notes:
        lines += ["", "Notes:", "", *notes]
    return "\n".join(lines) + "\n"


BY_HAND = "\n## Measured by hand"
"""A section of BENCHMARKS.md from this heading on is kept when the table is regenerated: one-off
comparisons (e.g. against an earlier commit) that are not benchmarks of their own."""


def _by_hand(out: Path) -> str:
    try:
        text = out.read_text(encoding="utf-8")
    except OSError:
        return ""
    at = text.find(BY_HAND)
    return text[at:] if at >= 0 else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="bench script names (without .py)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per script")
    args = parser.parse_args()
    scripts = sorted(BENCH_DIR.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem in args.only or s.stem.removeprefix("bench_") in args.only]
    runs = []
    for script in scripts:
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        run = run_script(script, args.timeout)
        runs.append(run)
        for fig in run.figures:
            print(f"  {fig.name}: {_fmt(fig.value)} {fig.unit} (ratio {_fmt(fig.ratio)})", file=sys.stderr)
        if run.error:
            print(f"  FAILED: {run.error.splitlines()[0]}", file=sys.stderr)
    args.out.write_text(render(runs) + _by_hand(args.out), encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if any(run.error for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
