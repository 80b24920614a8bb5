"""What ten skills and twenty custom commands cost, against the same workspace without them
(measured in the same run).

- first_request_bytes_10_skills_20_commands: `subagent run` (a real subprocess, the real
  registry, tools and prompt) sends its first request to a local Messages API server
  (tests/model/messages_server.py); the figure is the request body's size in bytes. Skills add
  one listing line each (name and description) and the `skill` tool's schema; commands add
  nothing to a request (they are expanded only when run). Aim: under 1 KB added.
- headless_message_ms_10_skills_20_commands: one user message of a `subagent -p --input-format
  stream-json` session (sent to its `result` line, the median of the messages after the first,
  the local server answering at once), alternating round by round with the bare workspace. Each
  message's run finds the skills for its prompt and `init` lists the commands and skills, so this
  is what that discovery costs where the model costs nothing.
- prompt_names_ms_10_skills_20_commands: that listing alone (`agent.headless.session._prompt_names`,
  in this process), against the bare workspace's whole message.

Run: python bench/bench_skills_prompt.py [ROUNDS]
"""

from __future__ import annotations

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


MESSAGES = 8


def _env(home: Path, url: str) -> dict[str, str]:
    return {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "SUBAGENT_HOME": str(home / "data"),
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "ANTHROPIC_API_KEY": "sk-bench",
        "ANTHROPIC_BASE_URL": url,
        "PYTHONPATH": str(ROOT),
    }


def _first_request_bytes(workspace: Path, home: Path) -> int:
    with MessagesServer([sse.reply(sse.text_block(0, "done"))]) as server:
        env = _env(home, server.url)
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


def _message_seconds(workspace: Path, home: Path) -> list[float]:
    """Each user message's time, sent to its `result` line, in one stream-json session."""
    argv = [sys.executable, "-m", "agent", "-p", "--input-format", "stream-json",
            "--output-format", "stream-json", "--verbose"]  # fmt: skip
    times: list[float] = []
    with MessagesServer(lambda _body: sse.reply(sse.text_block(0, "done"))) as server:
        proc = subprocess.Popen(argv, cwd=workspace, env=_env(home, server.url), text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None
        for n in range(MESSAGES):
            started = time.perf_counter()
            message = {"type": "user", "message": {"role": "user", "content": f"message {n}"}}
            proc.stdin.write(json.dumps(message) + "\n")
            proc.stdin.flush()
            while json.loads(proc.stdout.readline() or '{"type": "result"}').get("type") != "result":
                pass
            times.append(time.perf_counter() - started)
        proc.stdin.close()
        proc.wait(timeout=60)
    return times


def _prompt_names_seconds(workspace: Path, home: Path, calls: int = 20) -> float:
    from agent.headless.session import _prompt_names

    os.environ.update({k: v for k, v in _env(home, "").items() if k.endswith(("_HOME", "_DIR"))})
    _prompt_names(str(workspace))
    started = time.perf_counter()
    for _ in range(calls):
        _prompt_names(str(workspace))
    return (time.perf_counter() - started) / calls


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bare, full = root / "bare", root / "full"
        for workspace in (bare, full):
            (workspace / ".git").mkdir(parents=True)
        _with_skills_and_commands(full)
        reference = _first_request_bytes(bare, root / "home")
        value = _first_request_bytes(full, root / "home")
        messages: dict[Path, list[float]] = {bare: [], full: []}
        for _ in range(rounds):  # alternating, so background load hits both alike
            for workspace in (bare, full):
                messages[workspace] += _message_seconds(workspace, root / "home")[1:]
        names = _prompt_names_seconds(full, root / "home")
    emit(
        "first_request_bytes_10_skills_20_commands", value, reference, unit="bytes",
        reference_name="the same workspace without skills or commands", aim="under reference + 1024",
        note=f"added {value - reference} bytes", digits=0,
    )  # fmt: skip
    bare_ms, full_ms = (statistics.median(messages[w]) * 1000 for w in (bare, full))
    emit(
        "headless_message_ms_10_skills_20_commands", full_ms, bare_ms, unit="ms",
        reference_name="the same session in the workspace without skills or commands",
        note=f"median of {len(messages[full])} messages after each session's first; instant model",
        digits=1,
    )  # fmt: skip
    emit(
        "prompt_names_ms_10_skills_20_commands", names * 1000, bare_ms, unit="ms",
        reference_name="one message of the bare workspace's session (above)",
        note="the commands and skills `init` lists, found again for each message", digits=2,
    )  # fmt: skip


if __name__ == "__main__":
    main()
