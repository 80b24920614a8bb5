"""Where `subagent run`'s start goes: CPU (and instructions) to the first request, beside the
libraries on that path alone and, with `--base REF`, beside another commit of this repository.

Load-independent where it can be: CPU time of all the process's threads up to the moment it
connects to the local Messages API server (an audit hook on `socket.connect`), medians of
interleaved rounds; with `--callgrind`, instructions to that moment under valgrind (the process
leaves there), which no other job on the machine changes. The floor is a process that imports
what the path cannot do without (asyncio, sqlite3, pydantic, httpx2); everything above it
is our own code and setup (`run` parses its command line without typer: agent/cli/params.py).

`--command headless` measures Claude Code's form, `subagent -p "say hi"`, instead of `run`.

Run: python bench/bench_startup_budget.py [--rounds N] [--base REF] [--callgrind] [--command headless]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._figures import emit  # noqa: E402
from tests.model import sse  # noqa: E402
from tests.model.messages_server import MessagesServer  # noqa: E402

_HOOK = (
    "import os, sys, time; port = int(os.environ['SERVER_PORT'])\n"
    "def hook(event, args):\n"
    "    if event == 'socket.connect' and args[1][1:2] == (port,):\n"
    "        open(os.environ['CPU_OUT'], 'w').write(repr(time.process_time()))\n"
    "        os.environ.get('LEAVE_AT_CONNECT') and os._exit(0)\n"
    "sys.addaudithook(hook)\n"
)
"""Writes the process's CPU time when it connects to the server (and, asked to, leaves there)."""

_AT_CONNECT = (
    _HOOK
    + "sys.argv = ['subagent', *sys.argv[1:]]; import runpy; runpy.run_module('agent', run_name='__main__')"
)
"""`subagent`, measured to its first request."""

_FLOOR = _HOOK + (
    "os.environ['PYDANTIC_DISABLE_PLUGINS'] = '__all__'\n"
    "import asyncio, socket, sqlite3, pydantic, httpx2\n"
    "try: socket.create_connection(('127.0.0.1', port))\n"
    "except OSError: pass"
)
"""The libraries on the way to the first request, measured the same way (with the same audit hook,
which costs instructions of its own at every import)."""


class Side:
    """One checkout's `subagent` (this one, or `--base` extracted with `git archive`)."""

    def __init__(self, name: str, root: Path, tmp: Path) -> None:
        self.name, self.root, self.tmp = name, root, tmp
        self.workspace = tmp / f"ws-{name}"
        self.workspace.mkdir()
        subprocess.run(["git", "init", "-q", str(self.workspace)], check=True)

    def env(self, url: str, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        return dict(
            env, HOME=str(self.tmp / "home"), ANTHROPIC_API_KEY="sk-ant-bench", ANTHROPIC_BASE_URL=url,
            PYTHONPATH=str(self.root), SUBAGENT_HOME=str(self.tmp / f"data-{self.name}"),
            SERVER_PORT=url.rsplit(":", 1)[1].strip("/"), CPU_OUT=str(self.tmp / "cpu"), **extra,
        )  # fmt: skip


COMMANDS = {"run": ("run", "say hi"), "headless": ("-p", "say hi")}
"""The command lines measured (text output); the CPU rounds add JSON output (`JSON_OUTPUT`)."""
JSON_OUTPUT = {"run": ("-o", "json"), "headless": ("--output-format", "json")}


def _reply(_: object) -> str:
    return sse.reply(sse.text_block(0, "hi"))


def run_cpu(side: Side, command: str) -> float:
    """CPU seconds of `subagent run "say hi" -o json` (or `command`'s) up to its first request."""
    with MessagesServer(_reply) as server:
        argv = [sys.executable, "-c", _AT_CONNECT, *COMMANDS[command], *JSON_OUTPUT[command]]
        proc = subprocess.run(argv, cwd=side.workspace, env=side.env(server.url), capture_output=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{side.name}: {proc.stderr.decode(errors='replace')[-800:]}")
    return float((side.tmp / "cpu").read_text())


def floor_cpu(side: Side) -> float:
    subprocess.run([sys.executable, "-c", _FLOOR], env=side.env("http://127.0.0.1:9"), check=True)
    return float((side.tmp / "cpu").read_text())


def instructions(argv: list[str], env: dict[str, str], cwd: Path) -> int:
    """Instructions valgrind counts for `argv` (its children not followed)."""
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
                          env=env, cwd=cwd, capture_output=True, text=True)  # fmt: skip
    refs = [line for line in proc.stderr.splitlines() if "refs:" in line]
    if not refs:
        raise RuntimeError(f"valgrind gave no count: {proc.stderr[-800:]}")
    return int(refs[-1].rsplit(maxsplit=1)[-1].replace(",", ""))


def _extract(ref: str, tmp: Path) -> Path:
    folder = tmp / "base"
    folder.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--base", default="", help="a commit to measure beside this checkout")
    parser.add_argument("--callgrind", action="store_true", help="also count instructions (slow)")
    parser.add_argument("--command", choices=sorted(COMMANDS), default="run", help="the command measured")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-budget-"))
    try:
        (tmp / "home").mkdir()
        sides = [Side("this", ROOT, tmp)] + (
            [Side("base", _extract(args.base, tmp), tmp)] if args.base else []
        )
        samples: dict[str, list[float]] = {"floor": [], **{side.name: [] for side in sides}}
        for n in range(args.rounds + 1):  # round 0 compiles bytecode and fills caches; not counted
            for side in sides if n % 2 else sides[::-1]:
                value = run_cpu(side, args.command)
                if n:
                    samples[side.name].append(value)
            if n:
                samples["floor"].append(floor_cpu(sides[0]))
        ours, floor = (statistics.median(samples[k]) for k in ("this", "floor"))
        libraries = "the libraries on the path alone (asyncio, sqlite3, pydantic, httpx2)"
        emit(f"{args.command}_first_request_cpu_s", ours, floor, unit="s", reference_name=libraries)
        if args.base:
            base = statistics.median(samples["base"])
            emit(
                f"{args.command}_first_request_cpu_s_vs_base",
                ours,
                base,
                unit="s",
                reference_name=f"the same at {args.base}",
            )
        if args.callgrind:
            _count(sides, tmp, args.base, args.command)
        emit("load_average_1min", os.getloadavg()[0], os.cpu_count(), reference_name="cores")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _count(sides: list[Side], tmp: Path, base: str, command: str) -> None:
    counts = {}
    for side in sides:
        env = side.env("http://127.0.0.1:9", LEAVE_AT_CONNECT="1")
        counts[side.name] = instructions(
            [sys.executable, "-c", _AT_CONNECT, *COMMANDS[command]], env, side.workspace
        )
    floor = instructions(
        [sys.executable, "-c", _FLOOR], sides[0].env("http://127.0.0.1:9", LEAVE_AT_CONNECT="1"), tmp
    )
    emit(f"{command}_first_request_instructions", counts["this"], floor, unit="instructions", digits=0,
         reference_name="the libraries on the path alone (as above)")  # fmt: skip
    if base:
        emit(f"{command}_first_request_instructions_vs_base", counts["this"], counts["base"],
             unit="instructions", digits=0, reference_name=f"the same at {base}")  # fmt: skip


if __name__ == "__main__":
    main()
