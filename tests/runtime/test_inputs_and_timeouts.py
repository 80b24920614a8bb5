"""Bad input says what it is: a binary config file, a tool input that is not an object; and the
tool timeouts the configuration documents are the ones bash uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import run_subagent
from tests.orchestrator._scenario import model, workspace


def _script(tmp_path: Path, replies: list[dict[str, Any]]) -> Path:
    path = tmp_path / "script.yaml"
    path.write_text(yaml.safe_dump({"scripts": [{"replies": replies}]}))
    return path


def _finished(stdout: str) -> dict[str, str]:
    events = [json.loads(line) for line in stdout.splitlines()]
    return {e["tool_use_id"]: e["output"] for e in events if e["type"] == "tool_call_finished"}


def test_a_binary_workspace_config_is_a_configuration_error_naming_the_file(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".subagent").mkdir(parents=True)
    config = ws / ".subagent" / "config.yaml"
    config.write_bytes(bytes(range(256)) * 8)
    ran = run_subagent("run", "hi", "--script", str(_script(tmp_path, [{"text": "x"}])), "--cwd", str(ws))
    assert ran.returncode == 2
    assert "Traceback" not in ran.stderr
    assert str(config) in ran.stderr and "not UTF-8" in ran.stderr


def test_tool_timeouts_default_is_not_a_key(tmp_path: Path) -> None:
    ws = workspace(tmp_path, config={"defaults": {"tool_timeouts": {"default": 60}}})
    ran = run_subagent("run", "hi", "--script", str(_script(tmp_path, [{"text": "x"}])), "--cwd", str(ws))
    assert ran.returncode == 2
    assert "defaults.tool_timeouts.default: unknown key" in ran.stderr and "config.yaml" in ran.stderr


def test_bash_uses_the_configured_default_and_maximum_timeouts(tmp_path: Path) -> None:
    ws = workspace(tmp_path, config={"defaults": {"tool_timeouts": {"bash": 1, "bash_max": 2}}})
    calls = [
        {"name": "bash", "id": "plain", "input": {"command": "sleep 20"}},
        {"name": "bash", "id": "asks_long", "input": {"command": "sleep 20", "timeout_ms": 600000}},
    ]
    script = _script(tmp_path, [{"tool_calls": calls}, {"text": "done"}])
    ran = run_subagent(
        "run", "wait", "--script", str(script), "--cwd", str(ws), "--output", "stream-json", timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    outputs = _finished(ran.stdout)
    assert "[timed out after 1 s" in outputs["plain"]
    assert "[timed out after 2 s" in outputs["asks_long"]  # cut to bash_max, not 600 s


async def test_a_tool_input_that_is_a_json_string_is_answered_with_what_it_was(tmp_path: Path) -> None:
    from agent.api import run_agent

    ws = workspace(tmp_path, files={"a.txt": "hello\n"})
    encoded = json.dumps(json.dumps({"file_path": "a.txt"}))  # the object, sent as a JSON string
    client = model(
        [
            {
                "replies": [
                    {
                        "tool_calls": [
                            {"name": "read", "id": "as_string", "input_json": encoded},
                            {"name": "read", "id": "as_list", "input_json": '["a.txt"]'},
                        ]
                    },
                    {
                        "tool_calls": [
                            {
                                "name": "write",
                                "id": "cut",
                                "input_json": '{"file_path": "b.txt", "content": "p',
                            }
                        ],
                        "stop_reason": "max_tokens",
                    },
                    {"text": "done"},
                ]
            }
        ]
    )
    events = [e async for e in run_agent("read it", agent="worker", cwd=ws, model_client=client)]
    outputs = {e.tool_use_id: e.output for e in events if e.type == "tool_call_finished"}
    assert "a string holding JSON text, not a JSON object" in outputs["as_string"]
    assert "cut off" not in outputs["as_string"]
    assert "an array, not a JSON object" in outputs["as_list"]
    assert "cut off at the output token limit" in outputs["cut"]
    assert not (ws / "b.txt").exists()
