"""Copy-on-write trees for an unprivileged user (the attacker seat's `nobody`).

Such a user cannot mount anything on the host (the control); the runtime mounts children's
overlay trees anyway, in a user and mount namespace of its own (`subagent doctor` says so). The
children's work (bash editing in place, the write tool) comes back through the merge, and nothing
of the trees stays mounted (in any process's namespace) or on disk.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.security.attacker import Site

pytestmark = pytest.mark.bwrap

WORKER = """---
description: worker
mode: subagent
tools: {read: true, write: true, bash: true}
---
Do it.
"""


def _script(site: Site) -> Path:
    bash = {"name": "bash", "input": {"command": "sed -i 's/hello/bye/' app.py"}}
    task = {"description": "job", "subagent_type": "worker"}
    scripts = [
        {
            "agent": "orchestrator",
            "match": "go",
            "replies": [
                {"tool_calls": [{"name": "task", "input": {**task, "prompt": p}} for p in ("one", "two")]},
                {"text": "all done"},
            ],
        },
        {"agent": "worker", "match": "one", "replies": [{"tool_calls": [bash]}, {"text": "one done"}]},
        {
            "agent": "worker",
            "match": "two",
            "replies": [
                {"tool_calls": [{"name": "write", "input": {"file_path": "two.txt", "content": "2\n"}}]},
                {"text": "two done"},
            ],
        },
    ]
    return site.write("script.yaml", yaml.safe_dump({"scripts": scripts}))


def _mounts_of_others(needle: str) -> list[str]:
    lines: list[str] = []
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            with open(f"/proc/{pid}/mountinfo", encoding="utf-8", errors="replace") as table:
                lines += [line for line in table if needle in line]
        except OSError:
            continue
    return lines


def test_an_unprivileged_user_gets_overlay_trees_in_a_namespace_of_its_own(site: Site) -> None:
    lower, upper, work, target = (site.home / n for n in ("lower", "upper", "work", "target"))
    for folder in (lower, upper, work, target):
        folder.mkdir()
        site.own(folder)
    control = site.as_attacker(
        ["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={lower},upperdir={upper},workdir={work}",
         str(target)]
    )  # fmt: skip
    assert control.returncode != 0  # the user may not mount on the host
    site.write("project/.subagent/agents/worker.md", WORKER)
    script = _script(site)

    run = site.subagent(
        "run", "go", "--agent", "orchestrator", "--cwd", str(site.workspace), "--script", str(script),
        "--output", "stream-json", "--permission-mode", "bypass",
    )  # fmt: skip

    assert run.returncode == 0, run.stderr[-3000:]
    events: list[dict[str, Any]] = [
        json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")
    ]
    trees = [e.get("worktree") for e in events if e.get("type") == "subagent_started"]
    assert trees == ["overlay", "overlay"]
    assert all(not e.get("is_error") for e in events if e.get("type") == "tool_call_finished")
    assert (site.workspace / "app.py").read_text() == "print('bye')\n"
    assert (site.workspace / "two.txt").read_text() == "2\n"
    assert _mounts_of_others(str(site.data)) == []
    left = site.data / "worktrees"
    assert not left.exists() or list(left.iterdir()) == []
    doctor = site.subagent("doctor", "--json")
    (line,) = [c for c in json.loads(doctor.stdout) if c["name"] == "subagent worktrees"]
    assert line["detail"].startswith("overlay:") and "user and mount namespace" in line["detail"]
