"""`subagent run` as a real subprocess: usage errors, and a whole task against a local server."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from agent.cli.run_cmd import RESULT_FIELDS
from tests.conftest import run_subagent
from tests.model import sse
from tests.model.messages_server import MessagesServer
from tests.request_check import check_request

COLLABORATORS = (
    "agent.registry.discovery",
    "tools.registry",
    "agent.permissions.gate",
    "agent.sessions.store",
    "agent.sandbox.probe",
    "agent.terminal.approver",
)


def test_without_a_key_says_how_to_get_one(tmp_path: Path) -> None:
    proc = run_subagent("run", "hello", "--cwd", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "ANTHROPIC_API_KEY" in lines[0] and "subagent demo" in lines[0]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    bad_output = run_subagent("run", "x", "--output", "yaml", ANTHROPIC_API_KEY="k")
    assert bad_output.returncode == 2 and "--output" in bad_output.stderr
    bad_mode = run_subagent("run", "x", "--permission-mode", "yolo", ANTHROPIC_API_KEY="k")
    assert bad_mode.returncode == 2 and "--permission-mode" in bad_mode.stderr
    no_prompt = run_subagent("run", input="", ANTHROPIC_API_KEY="k")
    assert no_prompt.returncode == 2 and "no prompt" in no_prompt.stderr
    blank = run_subagent("run", "  ", ANTHROPIC_API_KEY="k")
    assert blank.returncode == 2 and "no prompt" in blank.stderr
    script = tmp_path / "s.yaml"
    script.write_text("scripts:\n  - replies: [{text: hi}]\n")
    no_session = run_subagent(
        "run", "go on", "--resume", "ses_nosuch", "--script", str(script), "--cwd", str(tmp_path)
    )
    assert no_session.returncode == 2 and "no session 'ses_nosuch'" in no_session.stderr


def test_a_bad_script_file_is_a_configuration_error(tmp_path: Path) -> None:
    script = tmp_path / "s.yaml"
    script.write_text("scripts: 3\n")
    proc = run_subagent("run", "x", "--script", str(script), "--output", "json")
    assert proc.returncode == 2 and proc.stdout == "" and "s.yaml" in proc.stderr


@pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in COLLABORATORS),
    reason="needs the registry, tools, gate, store and sandbox modules (merged branches)",
)
def test_a_task_end_to_end_with_real_tools(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("hello\n")
    replies = [
        sse.reply(sse.tool_block(0, "toolu_1", "read", {"file_path": "hello.txt"}), stop_reason="tool_use"),
        sse.reply(
            sse.tool_block(0, "toolu_2", "write", {"file_path": "out.txt", "content": "HELLO\n"}),
            stop_reason="tool_use",
        ),
        sse.reply(sse.text_block(0, "Wrote out.txt.")),
    ]
    with MessagesServer(replies) as server:
        proc = run_subagent(
            "run",
            "uppercase hello.txt into out.txt",
            "--agent",
            "backend-engineer",
            "--cwd",
            str(tmp_path),
            "--output",
            "stream-json",
            "--permission-mode",
            "bypass",
            ANTHROPIC_API_KEY="test-key",
            ANTHROPIC_BASE_URL=server.url,
        )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    result = lines[-1]
    assert tuple(result) == RESULT_FIELDS
    assert (result["subtype"], result["result"], result["num_turns"]) == ("success", "Wrote out.txt.", 3)
    assert (tmp_path / "out.txt").read_text() == "HELLO\n"
    assert {line["type"] for line in lines[:-1]} >= {
        "session_started",
        "tool_call_started",
        "tool_call_finished",
    }
    for body in server.requests:
        check_request(body)


def test_a_typo_in_the_workspace_config_stops_the_run_before_anything_runs(tmp_path: Path) -> None:
    """A config that does not load must never run without its rules (here: a deny on rm)."""
    (tmp_path / ".subagent").mkdir()
    config = tmp_path / ".subagent" / "config.yaml"
    config.write_text("permission: {bash: {'*': allow, 'rm *': deny}}\ndefaults: {max_turnz: 3}\n")
    (tmp_path / "build").mkdir()
    script = tmp_path / "s.yaml"
    call = "{name: bash, input: {command: rm -rf build}}"
    script.write_text(f"scripts:\n  - replies:\n      - tool_calls: [{call}]\n")
    proc = run_subagent(
        "run",
        "clean up",
        "--cwd",
        str(tmp_path),
        "--script",
        str(script),
        "--agent",
        "backend-engineer",
        "--output",
        "json",
        "--permission-mode",
        "bypass",
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert str(config) in proc.stderr and "defaults.max_turnz" in proc.stderr
    assert (tmp_path / "build").is_dir()
