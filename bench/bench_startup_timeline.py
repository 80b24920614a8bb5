"""Where the wall goes on the way to the first request: a timeline of every thread of `subagent run`.

Each round runs `subagent run "say hi" -o json` (or `-p`) against the local Messages API server
and records, until the process connects to it: every top-level import (per thread), the run's
set-up steps (`STEPS`, wrapped where they are defined), and the moments the event loop waits
with nothing to run. Rows are medians over the rounds, in milliseconds from exec and as a share
of the time to the connect. The figure it emits is the wall to the connect over the CPU time of
all the process's threads: near 1, the path is one thread at a time (moving Python work to a
thread saves nothing); well above 1 on a quiet machine, something waits.

Wall times move with the machine's load: read the shares, and the CPU beside each row.

Run: python bench/bench_startup_timeline.py [--rounds N] [--command headless] [--min-ms 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._figures import emit  # noqa: E402
from tests.model import sse  # noqa: E402
from tests.model.messages_server import MessagesServer  # noqa: E402

STEPS = (
    "agent.runtime.options:RunOptions.build",
    "agent.runtime.assembly:default_model_client",
    "agent.runtime.assembly:environment_block",
    "agent.runtime.parts:_load_registry",
    "agent.runtime.parts:_open_store",
    "agent.runtime.assembly:open_session",
    "agent.runtime.parts:_sandbox_programs",
    "agent.runtime.assembly:policy_for",
    "agent.runtime.parts:_make_sandbox",
    "agent.runtime.parts:_make_gate",
    "agent.runtime.parts:_load_tools",
    "agent.runtime.assembly:servers_for_run",
    "agent.runtime.assembly:checkpointer",
    "agent.runtime.assembly:run_loop",
    "agent.prompt.request:build_request",
    "agent.model._http:_build",
    "agent.model._http:tls_context",
    "agent.model.anthropic_client:AnthropicModel._client",
    "agent.headless.session:_prompt_names",
)
"""`module:attribute` wrapped when the module is imported (an async one is timed to its end)."""

_CHILD = r"""
import functools, importlib._bootstrap as bootstrap, inspect, json, os, selectors, sys, threading, time
port, rows, local = int(os.environ["SERVER_PORT"]), [], threading.local()
pending = {}
for spec in os.environ["STEPS"].split(","):
    module, attribute = spec.split(":")
    pending.setdefault(module, []).append(attribute)

def row(start, kind, name, cpu):
    rows.append((start, time.time(), threading.current_thread().name.split("_")[0], kind, name, cpu))

def wrap(function, name):
    if inspect.iscoroutinefunction(function):
        async def timed_async(*args, **kwargs):
            start = time.time()
            try:
                return await function(*args, **kwargs)
            finally:
                row(start, "step", name, None)
        return functools.wraps(function)(timed_async)
    def timed(*args, **kwargs):
        start, cpu = time.time(), time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            row(start, "step", name, time.thread_time() - cpu)
    return functools.wraps(function)(timed)

def patch(module):
    for attribute in pending.pop(module, []) if module in sys.modules else []:
        owner, *path = [sys.modules[module], *attribute.split(".")]
        for part in path[:-1]:
            owner = getattr(owner, part)
        setattr(owner, path[-1], wrap(getattr(owner, path[-1]), f"{module}:{attribute}"))

find_and_load = bootstrap._find_and_load
def timed_import(name, import_):
    depth = getattr(local, "depth", 0)
    local.depth = depth + 1
    start, cpu, top = time.time(), time.thread_time(), depth == 0 and name not in sys.modules
    try:
        return find_and_load(name, import_)
    finally:
        local.depth = depth
        if top:
            row(start, "import", name, time.thread_time() - cpu)
        patch(name)
bootstrap._find_and_load = timed_import

select = selectors.EpollSelector.select
def waiting(self, timeout=None):
    start = time.time()
    try:
        return select(self, timeout)
    finally:
        if threading.current_thread() is threading.main_thread():
            row(start, "wait", "the event loop waits", None)
selectors.EpollSelector.select = waiting

def at_connect(event, args):
    if event == "socket.connect" and args[1][1:2] == (port,):
        out = dict(connect=time.time(), cpu=time.process_time(), rows=rows)
        open(os.environ["TIMELINE_OUT"], "w").write(json.dumps(out))
        os._exit(0)
sys.addaudithook(at_connect)
sys.argv = ["subagent", *sys.argv[1:]]
import runpy
runpy.run_module("agent", run_name="__main__")
"""
"""`subagent`, its imports and `STEPS` timed per thread, leaving when it connects to the server."""

COMMANDS = {"run": ("run", "say hi", "-o", "json"), "headless": ("-p", "say hi", "--output-format", "json")}


def _round(tmp: Path, command: str) -> dict[str, object]:
    out = tmp / "timeline.json"
    with MessagesServer(lambda _: sse.reply(sse.text_block(0, "hi"))) as server:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(
            HOME=str(tmp / "home"), ANTHROPIC_API_KEY="sk-ant-bench", ANTHROPIC_BASE_URL=server.url,
            PYTHONPATH=str(ROOT), SUBAGENT_HOME=str(tmp / "data"), TIMELINE_OUT=str(out),
            SERVER_PORT=server.url.rsplit(":", 1)[1].strip("/"), STEPS=",".join(STEPS),
        )  # fmt: skip
        exec_at = time.time()
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, *COMMANDS[command]], cwd=tmp / "ws", env=env, capture_output=True
        )
    if not out.exists():
        raise RuntimeError(f"no timeline: {proc.stderr.decode(errors='replace')[-800:]}")
    data: dict[str, object] = json.loads(out.read_text())
    out.unlink()
    data["exec"] = exec_at
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--command", choices=sorted(COMMANDS), default="run")
    parser.add_argument("--min-ms", type=float, default=1.0, help="leave out shorter rows")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-timeline-"))
    (tmp / "home").mkdir()
    (tmp / "ws").mkdir()
    subprocess.run(["git", "init", "-q", str(tmp / "ws")], check=True)
    rounds = [_round(tmp, args.command) for _ in range(args.rounds + 1)][1:]  # the first compiles bytecode
    walls = [(r["connect"] - r["exec"]) * 1e3 for r in rounds]  # type: ignore[operator]
    cpus = [r["cpu"] * 1e3 for r in rounds]  # type: ignore[operator]
    wall = statistics.median(walls)
    seen: dict[tuple[str, str, str], list[tuple[float, float, float | None]]] = {}
    for r in rounds:
        counts: dict[tuple[str, str, str], int] = {}
        for start, end, thread, kind, name, cpu in r["rows"]:  # type: ignore[attr-defined]
            key = (thread, kind, name)
            counts[key] = counts.get(key, 0) + 1
            if kind == "wait":  # the n-th wait of a round lines up with the n-th of the others
                key = (thread, kind, f"{name} #{counts[key]}")
            elif counts[key] > 1:
                continue
            at = r["exec"]
            seen.setdefault(key, []).append(((start - at) * 1e3, (end - at) * 1e3, cpu))  # type: ignore[operator]
    print(f"{'from':>7} {'to':>7} {'ms':>6} {'share':>6} {'cpu':>6}  thread / kind / name")
    rows = []
    for (thread, kind, name), spans in seen.items():
        start = statistics.median(s for s, _, _ in spans)
        end = statistics.median(e for _, e, _ in spans)
        cpu = [c * 1e3 for _, _, c in spans if c is not None]
        rows.append((start, end, statistics.median(cpu) if cpu else None, thread, kind, name, len(spans)))
    for start, end, cpu, thread, kind, name, n in sorted(rows):
        if end - start >= args.min_ms:
            cpu_text = f"{cpu:6.1f}" if cpu is not None else "     -"
            partial = "" if n == len(rounds) else f" ({n} of {len(rounds)} rounds)"
            print(f"{start:7.1f} {end:7.1f} {end - start:6.1f} {(end - start) / wall:6.1%} {cpu_text}  "
                  f"{thread} / {kind} / {name}{partial}")  # fmt: skip
    emit(f"{args.command}_wall_to_first_request_over_cpu", wall, statistics.median(cpus), unit="ms",
         reference_name="CPU of all threads to the first request (median)")  # fmt: skip
    emit("load_average_1min", os.getloadavg()[0], os.cpu_count(), reference_name="cores")


if __name__ == "__main__":
    main()
