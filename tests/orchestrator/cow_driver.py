"""An orchestrator run in a process of its own, reporting what a test cannot see from outside.

The process enters its own mount namespace first, as the command line does (only a
single-threaded process can; not with `--no-namespace`, as the Python API does not), then runs
the real runtime against a scripted model, and prints one JSON object: the kind of each child's
tree, every tool result, and, once the run is over, the mounts still in its namespace and the
tree folders still on disk (and how many processes still run `sleep TAG`, with `--sleeper TAG`
a `unique_sleep()`). A cancel can be sent when `--cancel-when-sleeping N` processes run it.
With `--hold-task-calls`, the model's stream stops after it begins a `task` call until a base
checkout exists (at most `--hold-at-most` seconds, 60), and the report says whether one appeared
meanwhile: the runtime built it while the call was being written.

    python -m tests.orchestrator.cow_driver WORKSPACE SCRIPT [--sleeper TAG
        [--cancel-when-sleeping N]] [--hold-task-calls [--hold-at-most S]] [--no-namespace]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from agent.orchestrator import mountns
from tests.processes import live_processes_with


def sleepers(tag: str) -> int:
    """How many live processes run `sleep TAG` (a `tests.processes.unique_sleep()`): not this
    driver, nor what started it, whose own argv carries TAG after `--sleeper`."""
    count = 0
    for pid in live_processes_with(tag):
        with contextlib.suppress(OSError):
            count += Path(f"/proc/{pid}/comm").read_text().strip() == "sleep"
    return count


HELD: list[bool] = []
"""For each `task` call held: whether a base checkout appeared while the call was being written."""


class HoldingModel:
    """The scripted model, holding each `task` call's stream until a base checkout exists."""

    def __init__(self, scripted: Any, at_most_s: float) -> None:
        self._scripted = scripted
        self._at_most_s = at_most_s

    async def stream(self, request: Any) -> AsyncIterator[Any]:
        async for item in self._scripted.stream(request):
            yield item
            if item.kind == "tool_input" and item.name == "task":
                HELD.append(await _base_appears(self._at_most_s))

    async def model_info(self, model: str) -> Any:
        return await self._scripted.model_info(model)


async def _base_appears(timeout_s: float) -> bool:
    from agent import paths

    for _ in range(int(timeout_s / 0.05)):
        if any((paths.bases_home()).glob("*/*/commit")):
            return True
        await asyncio.sleep(0.05)
    return False


async def run(
    workspace: Path, script: Path, cancel_when: tuple[int, str] | None, hold: float | None
) -> list[Any]:
    from agent.api import run_agent
    from agent.model.scripted import ScriptedModel

    cancel = asyncio.Event()
    model = ScriptedModel.from_file(script)

    async def watch() -> None:
        while cancel_when is not None and sleepers(cancel_when[1]) < cancel_when[0]:
            await asyncio.sleep(0.05)
        cancel.set()

    watcher = asyncio.ensure_future(watch()) if cancel_when is not None else None
    events = [
        e
        async for e in run_agent(
            "go",
            agent="orchestrator",
            cwd=workspace,
            trust=True,
            cancel=cancel,
            model_client=HoldingModel(model, hold) if hold is not None else model,
        )
    ]
    if watcher is not None:
        watcher.cancel()
    return events


def report(events: list[Any], rights: mountns.MountRights, sleeper: str | None) -> dict[str, Any]:
    from agent import paths

    homes = (str(paths.worktrees_home()), str(paths.bases_home()))
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as mountinfo:
        mounts = [line.strip() for line in mountinfo if any(home in line for home in homes)]
    trees = paths.worktrees_home()
    final = next(e for e in reversed(events) if e.type == "result" and e.parent_tool_use_id is None)
    inputs = {e.tool_use_id: e.input for e in events if e.type == "tool_call_started"}
    return {
        "rights": rights.ok,
        "trees": [e.worktree for e in events if e.type == "subagent_started"],
        "calls": [
            {
                "name": e.name,
                "input": inputs.get(e.tool_use_id, {}),
                "output": e.output,
                "is_error": e.is_error,
                "in_child": e.parent_tool_use_id is not None,
            }
            for e in events
            if e.type == "tool_call_finished"
        ],
        "final": final.subtype,
        "mounts": mounts,
        "left": sorted(os.listdir(trees)) if trees.is_dir() else [],
        "sleepers": sleepers(sleeper) if sleeper is not None else None,
        "held": HELD,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workspace", type=Path)
    parser.add_argument("script", type=Path)
    parser.add_argument("--sleeper", default=None)
    parser.add_argument("--cancel-when-sleeping", type=int, default=None)
    parser.add_argument("--hold-task-calls", action="store_true")
    parser.add_argument("--hold-at-most", type=float, default=60.0)
    parser.add_argument("--no-namespace", action="store_true")
    args = parser.parse_args()
    rights = mountns.rights() if args.no_namespace else mountns.enter()  # before any thread starts
    hold = args.hold_at_most if args.hold_task_calls else None
    if args.cancel_when_sleeping is not None and args.sleeper is None:
        parser.error("--cancel-when-sleeping needs --sleeper: the sleep to count")
    when = None if args.cancel_when_sleeping is None else (args.cancel_when_sleeping, args.sleeper)
    events = asyncio.run(run(args.workspace, args.script, when, hold))
    print(json.dumps(report(events, rights, args.sleeper)))


if __name__ == "__main__":
    main()
