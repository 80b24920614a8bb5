"""First-request bytes with ten skills and twenty custom commands present, against the same
workspace without them (measured in the same run).

`subagent run` (a real subprocess, the real registry, tools and prompt) sends its first request
to a local Messages API server (tests/model/messages_server.py); the figure is the request body's
size in bytes. Skills add one listing line each (name and description) and the `skill` tool's
schema; commands add nothing to a request (they are expanded only when run). Aim: under 1 KB
added.

Run: python bench/bench_skills_prompt.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._figures import emit  # noqa: E402
from tests.model import sse  # noqa: E402
from tests.model.messages_server import MessagesServer  # noqa: E402

SKILL_DESCRIPTIONS = [
    "Fill in PDF forms and extract their text",
    "Write release notes from the git log",
    "Review a database migration for locking problems",
    "Profile a slow Python function",
    "Draft an incident report",
    "Bump a dependency and run its changelog's checks",
    "Write a property-based test with hypothesis",
    "Translate user-facing strings",
    "Check an API change for backward compatibility",
    "Set up a new service from the team's template",
]


def _first_request_bytes(workspace: Path, home: Path) -> int:
    with MessagesServer([sse.reply(sse.text_block(0, "done"))]) as server:
        env = {
            **os.environ,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "SUBAGENT_HOME": str(home / "data"),
            "CLAUDE_CONFIG_DIR": str(home / ".claude"),
            "ANTHROPIC_API_KEY": "sk-bench",
            "ANTHROPIC_BASE_URL": server.url,
            "PYTHONPATH": str(ROOT),
        }
        subprocess.run(
            [sys.executable, "-m", "agent", "run", "hi", "--cwd", str(workspace), "--output", "json"],
            env=env, capture_output=True, check=True, timeout=120,
        )  # fmt: skip
        return len(json.dumps(server.requests[0]).encode())


def _with_skills_and_commands(workspace: Path) -> None:
    for n, description in enumerate(SKILL_DESCRIPTIONS):
        folder = workspace / ".claude/skills" / f"skill-{n}"
        folder.mkdir(parents=True)
        (folder / "SKILL.md").write_text(
            f"---\nname: skill-{n}\ndescription: {description}\n---\n" + "step\n" * 200
        )
    commands = workspace / ".claude/commands"
    commands.mkdir(parents=True)
    for n in range(20):
        (commands / f"cmd-{n}.md").write_text(
            f"---\ndescription: command {n}\n---\nDo task {n} on $ARGUMENTS\n"
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bare, full = root / "bare", root / "full"
        for workspace in (bare, full):
            (workspace / ".git").mkdir(parents=True)
        _with_skills_and_commands(full)
        reference = _first_request_bytes(bare, root / "home")
        value = _first_request_bytes(full, root / "home")
    emit(
        "first_request_bytes_10_skills_20_commands", value, reference, unit="bytes",
        reference_name="the same workspace without skills or commands", aim="under reference + 1024",
        note=f"added {value - reference} bytes", digits=0,
    )  # fmt: skip


if __name__ == "__main__":
    main()
