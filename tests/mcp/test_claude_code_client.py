"""Claude Code itself (npm, pinned) as the MCP client of `subagent mcp`.

Claude Code runs `claude -p` against a local Messages API server whose replies call our tools;
`subagent mcp` runs its agents with the scripted model. The fixture installs the pinned package
into the checkout's gitignored `.cache/claude-code` once (one worker at a time), and skips (saying
why) where npm cannot reach the registry.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO_ROOT, subprocess_env
from tests.model import sse
from tests.model.messages_server import MessagesServer

CLAUDE_CODE = "2.1.332"
CACHE = REPO_ROOT / ".cache" / "claude-code"
SCRIPT = """\
- agent: orchestrator
  match: first task
  replies:
    - tool_calls: [{name: read, input: {file_path: a.txt}}]
    - tool_calls: [{name: write, input: {file_path: a.txt, content: "A done"}}]
    - text: Task A finished.
    - tool_calls: [{name: read, input: {file_path: a.txt}}]
    - tool_calls: [{name: write, input: {file_path: a.txt, content: "A again"}}]
    - text: Task A continued.
- agent: orchestrator
  match: second task
  replies:
    - tool_calls: [{name: read, input: {file_path: b.txt}}]
    - tool_calls: [{name: write, input: {file_path: b.txt, content: "B done"}}]
    - text: Task B finished.
"""
pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def claude_code() -> Path:
    """The `claude` binary, installed on first use: by one installer at a time (each xdist worker
    has its own session), and used only once an install has finished. npm links `.bin/claude` to
    a stub that the package's postinstall then replaces with the native binary, so the link
    existing does not mean the install is done: a marker written after npm returned does."""
    binary = CACHE / "node_modules" / ".bin" / "claude"
    installed = CACHE / f".installed-{CLAUDE_CODE}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not installed.exists():
            if shutil.which("npm") is None:
                pytest.skip("npm is not installed: Claude Code cannot be installed here")
            proc = subprocess.run(
                [
                    "npm",
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                    str(CACHE),
                    f"@anthropic-ai/claude-code@{CLAUDE_CODE}",
                ],
                capture_output=True,
                text=True,
                timeout=600,
            )
            if proc.returncode != 0 or not binary.exists():
                pytest.skip(
                    f"npm could not install @anthropic-ai/claude-code@{CLAUDE_CODE}: {proc.stderr[-300:]}"
                )
            installed.touch()
    return binary


def _site(tmp_path: Path) -> tuple[Path, Path, Path]:
    home, ws_a, ws_b = tmp_path / "home", tmp_path / "a", tmp_path / "b"
    for folder in (home, ws_a, ws_b):
        folder.mkdir()
    (ws_a / "a.txt").write_text("A\n")
    (ws_b / "b.txt").write_text("B\n")
    (tmp_path / "script.yaml").write_text(yaml.safe_dump({"scripts": yaml.safe_load(SCRIPT)}))
    return home, ws_a, ws_b


def _mcp_config(tmp_path: Path) -> str:
    env = subprocess_env(SUBAGENT_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    server = {
        "command": sys.executable,
        "args": ["-m", "agent", "mcp", "--script", str(tmp_path / "script.yaml")],
        "env": {k: env[k] for k in ("PYTHONPATH", "SUBAGENT_HOME", "XDG_CONFIG_HOME", "PATH")},
    }
    return json.dumps({"mcpServers": {"subagent": server}})


def _results(body: dict[str, Any]) -> list[dict[str, Any]]:
    last = body["messages"][-1]
    content = last["content"] if isinstance(last["content"], list) else []
    return [b for b in content if b.get("type") == "tool_result"]


def _text(block: dict[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, list):
        return "\n---\n".join(c.get("text", "") for c in content if isinstance(c, dict))
    return str(content)


def _task(block: dict[str, Any]) -> dict[str, Any]:
    return _task_text(_text(block))


def _task_text(text: str) -> dict[str, Any]:
    """Our TaskResult, as Claude Code hands the tool's text to its model (a reminder follows)."""
    return json.loads(text[: text.index("}\n") + 1] if "}\n" in text else text)


Step = Callable[[list[dict[str, Any]]], str]


def _claude_model(steps: dict[str, Step]) -> Callable[[dict[str, Any]], str]:
    """Claude Code's model: a request of the main conversation (the one offering our tools)
    takes the step named by the last tool result it carries ("" for none); other requests
    (titles, summaries) get a short text."""

    def reply(body: dict[str, Any]) -> str:
        if not any(t.get("name") == "mcp__subagent__run_task" for t in body.get("tools", [])):
            return sse.reply(sse.text_block(0, "ok"))
        results = _results(body)
        return steps[results[-1]["tool_use_id"] if results else ""](results)

    return reply


def _call(tool: str, args: dict[str, Any], tool_id: str, index: int = 0) -> str:
    return sse.tool_block(index, tool_id, f"mcp__subagent__{tool}", args)


def _run_claude(binary: Path, tmp_path: Path, home: Path, server: MessagesServer, prompt: str) -> Any:
    env = {
        "PATH": subprocess_env()["PATH"],
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": server.url,
        "ANTHROPIC_API_KEY": "test-key",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "MCP_TIMEOUT": "60000",
        "MCP_TOOL_TIMEOUT": "120000",
        "ENABLE_TOOL_SEARCH": "false",
    }
    argv = [
        str(binary),
        "-p",
        prompt,
        "--output-format",
        "stream-json",
        "--verbose",
        "--model",
        "claude-sonnet-4-5",
        "--mcp-config",
        _mcp_config(tmp_path),
        "--strict-mcp-config",
        "--allowedTools",
        "mcp__subagent__run_task,mcp__subagent__reply",
    ]
    return subprocess.run(argv, cwd=home, env=env, capture_output=True, text=True, timeout=300)


def test_claude_code_runs_tasks_and_replies_through_subagent_mcp(claude_code: Path, tmp_path: Path) -> None:
    """run_task twice in one turn (two workspaces), then reply keeping the session's mode."""
    home, ws_a, ws_b = _site(tmp_path)
    state: dict[str, str] = {}

    def first(results: list[dict[str, Any]]) -> str:
        task = {"permission_mode": "bypass"}
        return sse.reply(
            _call("run_task", {"prompt": "first task", "cwd": str(ws_a), **task}, "toolu_a", 0),
            _call("run_task", {"prompt": "second task", "cwd": str(ws_b), **task}, "toolu_b", 1),
            stop_reason="tool_use",
        )

    def then_reply(results: list[dict[str, Any]]) -> str:
        by_id = {b["tool_use_id"]: _task(b) for b in results}
        state.update(
            a=by_id["toolu_a"]["session_id"],
            a_result=by_id["toolu_a"]["result"],
            b_result=by_id["toolu_b"]["result"],
        )
        return sse.reply(
            _call("reply", {"session_id": state["a"], "prompt": "go on"}, "toolu_r"), stop_reason="tool_use"
        )

    def done(results: list[dict[str, Any]]) -> str:
        state["reply"] = _text(next(b for b in results if b["tool_use_id"] == "toolu_r"))
        return sse.reply(sse.text_block(0, "All delegated."))

    with MessagesServer(_claude_model({"": first, "toolu_b": then_reply, "toolu_r": done})) as server:
        proc = _run_claude(claude_code, tmp_path, home, server, "delegate the two tasks")
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["type"] == "result" and result["result"] == "All delegated."
    assert (state["a_result"], state["b_result"]) == ("Task A finished.", "Task B finished.")
    assert (ws_b / "b.txt").read_text() == "B done"
    reply = _task_text(state["reply"])
    assert reply["status"] == "success" and reply["result"] == "Task A continued."
    assert reply["permission_denials"] == []  # bypass kept by reply: no one was asked
    assert (ws_a / "a.txt").read_text() == "A again"


def test_an_ask_claude_code_cannot_answer_is_denied_with_the_fix(claude_code: Path, tmp_path: Path) -> None:
    """Headless Claude Code answers elicitation with `cancel`: the write is refused, and the
    result Claude Code's model reads names the mode that would allow it."""
    home, ws_a, _ = _site(tmp_path)
    state: dict[str, str] = {}

    def first(results: list[dict[str, Any]]) -> str:
        return sse.reply(
            _call("run_task", {"prompt": "first task", "cwd": str(ws_a)}, "toolu_a"), stop_reason="tool_use"
        )

    def done(results: list[dict[str, Any]]) -> str:
        state["result"] = _text(results[0])
        return sse.reply(sse.text_block(0, "Could not."))

    with MessagesServer(_claude_model({"": first, "toolu_a": done})) as server:
        proc = _run_claude(claude_code, tmp_path, home, server, "delegate")
    assert proc.returncode == 0, proc.stderr[-2000:]
    told = _task_text(state["result"])
    assert told["status"] == "error_permission_denied"
    assert [d["tool_name"] for d in told["permission_denials"]] == ["write"]
    reason = told["permission_denials"][0]["reason"]
    assert reason.startswith("edit cancelled by the MCP client's user") and "'bypass'" in reason
    assert (ws_a / "a.txt").read_text() == "A\n"
