"""Module hops: how many times control crosses from one `agent`/`tools` module to another on two walks.

1. From the CLI entry (`agent.cli.main.main`) to the first model request (the scripted model's
   `stream` is called), during `subagent run --script ... --agent backend-engineer`.
2. From a `tool_use` to its stored result: from the store's `append_message` of the assistant
   message that carries the `tool_use` to its `append_message` of the user message that carries
   the `tool_result` (one `read` call).

A hop is a call from one `agent.*`/`tools.*` module into another (through any library in between:
typer calling a command, pydantic a validator), each distinct function-to-function call counted
once, so a loop over six personas is one hop, not six. Returns are not hops, and neither is a
coroutine going on after an await. A function started as a task or in a thread
(`asyncio.to_thread`) is counted as called by the code that ran last before it, which made the
task or waits on the thread. Module code run by an import is not counted: the walks are the
control flow, not the loading. `revisits` counts the hops into a module the walk had already
visited: a walk that goes back and forth between modules has many.

Both walks start and end in modules that keep their names across the issue 17 regroup
(`agent.cli.main`, `agent.model.scripted`, `agent.sessions.store`), so the same script measures
any commit: copy it into that commit's `bench/` (e.g. unpacked with `git archive`) and run it there;
it imports the checkout it sits in. `--trace` prints each walk's hops.

Run: python bench/bench_hops.py [--runs N] [--trace]
"""

from __future__ import annotations

import argparse
import dis
import functools
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._figures import emit

BEFORE = {"first_request": 131, "tool_call": 48}
"""The same script on main before the regroup (ad15db7), median of 5 runs (docs/BENCHMARKS.md)."""

SCRIPT = """\
scripts:
  - replies:
      - tool_calls: [{name: read, id: toolu_read, input: {file_path: notes.txt}}]
      - text: done
"""


def _ours(module: str | None) -> bool:
    return module is not None and (module.split(".", 1)[0] in ("agent", "tools"))


_SCHEDULERS = ("asyncio.events", "concurrent.futures.thread", "threading")
"""Where a task or a thread starts: the code that runs it is not what called it."""

_SUSPENDABLE = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def _caller(frame: Any) -> Any:
    """The nearest frame up the stack that runs our code; None when a scheduler (the event loop, a
    thread pool) comes first: the frame was started as a task or in a thread."""
    frame = frame.f_back
    while frame is not None:
        module = frame.f_globals.get("__name__")
        if _ours(module):
            return frame
        if module in _SCHEDULERS:
            return None
        frame = frame.f_back
    return None


@functools.cache
def _first_resume(code: Any) -> int:
    return next(i.offset for i in dis.get_instructions(code) if i.opname == "RESUME")


def _resumed(frame: Any) -> bool:
    """A coroutine or generator going on after an await or a yield (not a call: its caller was
    counted when it started, and a sync return is no hop either)."""
    code = frame.f_code
    return bool(code.co_flags & _SUSPENDABLE) and frame.f_lasti != _first_resume(code)


class Walks:
    """A profile function that records each walk's hops: calls from one of our modules into another."""

    def __init__(self) -> None:
        self.walk: str | None = None
        self.hops: dict[str, list[tuple[str, str, str]]] = {"first_request": [], "tool_call": []}
        self.start: dict[str, str] = {}
        self._pairs: dict[str, set[tuple[Any, Any]]] = {"first_request": set(), "tool_call": set()}
        self._last: tuple[str, Any] | None = None  # the module and code our code last ran in
        self._importing = threading.local()
        self._first_request_done = False

    def _begin(self, walk: str, module: str) -> None:
        self.walk = walk
        self.start[walk] = module

    def _boundaries(self, frame: Any, module: str) -> bool:
        """Start or end a walk at this call; True when it ended one (the call is its last hop)."""
        name = frame.f_code.co_name
        if module == "agent.cli.main" and name == "main" and not self._first_request_done:
            self._begin("first_request", module)
        elif module == "agent.model.scripted" and name == "stream" and self.walk == "first_request":
            self._first_request_done = True
            return True
        elif module == "agent.sessions.store" and name == "append_message":
            role = frame.f_locals.get("role")
            content = frame.f_locals.get("content")
            kinds = {getattr(b, "type", None) for b in content} if isinstance(content, list) else set()
            if role == "assistant" and "tool_use" in kinds and "tool_call" not in self.start:
                self._begin("tool_call", module)
            elif role == "user" and "tool_result" in kinds and self.walk == "tool_call":
                return True
        return False

    def profile(self, frame: Any, event: str, arg: Any) -> None:
        if event not in ("call", "return"):  # c_call and c_return carry the calling frame
            return
        code = frame.f_code
        if code.co_name == "_find_and_load" and "importlib" in code.co_filename:  # returns also on a raise
            self._importing.depth = getattr(self._importing, "depth", 0) + (1 if event == "call" else -1)
            return
        if event != "call" or getattr(self._importing, "depth", 0):
            return
        module = frame.f_globals.get("__name__")
        if code.co_name == "<module>" or not _ours(module):
            return
        if _resumed(frame):
            self._last = (module, code)
            return
        ended = self._boundaries(frame, module)
        walk = self.walk
        caller = _caller(frame)
        # Started as a task or in a thread: by the code that ran last (it made the task, or waits on
        # the thread), as near as a profile can tell.
        source = (caller.f_globals["__name__"], caller.f_code) if caller is not None else self._last
        self._last = (module, code)
        if walk is not None and source is not None and source[0] != module:
            pair = (source[1], code)
            if pair not in self._pairs[walk]:  # a loop over six personas is one hop, not six
                self._pairs[walk].add(pair)
                self.hops[walk].append((source[0], module, code.co_name))
        if ended:
            self.walk = None


def figures(start: str, hops: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Hops and revisits of one walk (each distinct function-to-function call across modules once)."""
    seen = {start}
    revisits = 0
    for _, target, _ in hops:
        revisits += target in seen
        seen.add(target)
    return {
        "hops": len(hops),
        "revisits": revisits,
        "modules": len(seen),
        "walk": [f"{a} -> {b}.{fn}" for a, b, fn in hops],
    }


def measure_once() -> dict[str, Any]:
    """Run `subagent run` in this process under the profiler; both walks' figures."""
    with tempfile.TemporaryDirectory(prefix="bench-hops-") as tmp:
        root = Path(tmp)
        workspace = root / "ws"
        workspace.mkdir()
        (workspace / "notes.txt").write_text("a note\n")
        script = root / "script.yaml"
        script.write_text(SCRIPT)
        os.environ.update(
            SUBAGENT_HOME=str(root / "data"),
            XDG_CONFIG_HOME=str(root / "config"),
            XDG_DATA_HOME=str(root / "share"),
        )
        os.environ.pop("ANTHROPIC_API_KEY", None)
        sys.argv = [
            "subagent",
            "run",
            "read notes.txt",
            "--script",
            str(script),
            "--agent",
            "backend-engineer",
            "--output",
            "json",
            "--cwd",
            str(workspace),
        ]
        from agent.cli import main as cli_main

        def leave(code: int | str | None) -> None:  # `exit_now` would end this process at once
            raise SystemExit(code)

        cli_main.exit_now = leave
        walks = Walks()
        threading.setprofile(walks.profile)
        sys.setprofile(walks.profile)
        stdout = sys.stdout
        sys.stdout = open(os.devnull, "w")  # the run's JSON result is not needed
        try:
            cli_main.main()
        except SystemExit as exc:
            code = exc.code
        else:
            code = 0
        finally:
            sys.setprofile(None)
            threading.setprofile(None)  # type: ignore[arg-type]
            sys.stdout.close()
            sys.stdout = stdout
        if code not in (0, None):
            raise SystemExit(f"subagent run exited {code}")
        return {walk: figures(walks.start.get(walk, ""), hops) for walk, hops in walks.hops.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--trace", action="store_true", help="print each walk's modules (one run)")
    parser.add_argument("--once", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.once:
        print(json.dumps(measure_once()))
        return 0
    if args.trace:
        for walk, result in measure_once().items():
            print(
                f"{walk}: {result['hops']} hops over {result['modules']} modules, "
                f"{result['revisits']} into a module already visited"
            )
            for module in result["walk"]:
                print(f"  {module}")
        return 0
    runs = []
    for _ in range(args.runs):  # a fresh process each: lazy imports and caches as in a real start
        proc = subprocess.run(
            [sys.executable, __file__, "--once"], capture_output=True, text=True, check=True
        )
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    for walk, label in (
        ("first_request", "cli_to_first_request"),
        ("tool_call", "tool_use_to_stored_result"),
    ):
        hops = statistics.median(r[walk]["hops"] for r in runs)
        revisits = statistics.median(r[walk]["revisits"] for r in runs)
        spread = sorted({r[walk]["hops"] for r in runs})
        emit(
            f"module_hops_{label}",
            hops,
            BEFORE[walk],
            unit="hops",
            reference_name="main before the issue 17 regroup (ad15db7), same script",
            aim="lower",
            note=f"median of {len(runs)} runs (seen: {spread}); {revisits:g} into a module already visited",
            digits=1,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
