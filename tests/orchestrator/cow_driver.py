"""An orchestrator run in a process of its own, reporting what a test cannot see from outside.

The process enters its own mount namespace first, as the command line does (only a
single-threaded process can), then runs the real runtime against a scripted model, and prints one
JSON object: the kind of each child's tree, every tool result, and, once the run is over, the
mounts still in its namespace and the tree folders still on disk. A cancel can be sent when
`--cancel-when-sleeping N` processes run `sleep 47.25`.

    python -m tests.orchestrator.cow_driver WORKSPACE SCRIPT [--cancel-when-sleeping N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
from typing import Any

from agent.orchestrator import mountns

RIGHTS = mountns.enter()  # before anything starts a thread


def sleepers() -> int:
    count = 0
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                count += b"sleep\x0047.25" in handle.read()
        except OSError:
            continue
    return count


async def run(workspace: Path, script: Path, cancel_when: int | None) -> list[Any]:
    from agent.model.scripted import ScriptedModel
    from agent.runtime.assembly import run_agent

    cancel = asyncio.Event()

    async def watch() -> None:
        while cancel_when is not None and sleepers() < cancel_when:
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
            model_client=ScriptedModel.from_file(script),
        )
    ]
    if watcher is not None:
        watcher.cancel()
    return events


def report(events: list[Any]) -> dict[str, Any]:
    from agent import paths

    homes = (str(paths.worktrees_home()), str(paths.bases_home()))
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as mountinfo:
        mounts = [line.strip() for line in mountinfo if any(home in line for home in homes)]
    trees = paths.worktrees_home()
    final = next(e for e in reversed(events) if e.type == "result" and e.parent_tool_use_id is None)
    inputs = {e.tool_use_id: e.input for e in events if e.type == "tool_call_started"}
    return {
        "rights": RIGHTS.ok,
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
        "sleepers": sleepers(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workspace", type=Path)
    parser.add_argument("script", type=Path)
    parser.add_argument("--cancel-when-sleeping", type=int, default=None)
    args = parser.parse_args()
    events = asyncio.run(run(args.workspace, args.script, args.cancel_when_sleeping))
    print(json.dumps(report(events)))


if __name__ == "__main__":
    main()
