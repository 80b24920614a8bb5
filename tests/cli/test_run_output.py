"""What `subagent run` prints in each output mode, and its exit codes."""

from __future__ import annotations

import json
import typing

import pytest

from agent.cli.run_cmd import EXIT_CODES, RESULT_FIELDS, _emit
from agent.events import PermissionDenial, ResultEvent, ResultSubtype, TextDeltaEvent, Usage
from tests.conftest import run_subagent

RESULT = ResultEvent(
    session_id="s1",
    subtype="error_permission_denied",
    is_error=True,
    result="could not",
    num_turns=2,
    usage=Usage(input_tokens=5),
    total_cost_usd=0.5,
    duration_ms=10,
    permission_denials=[
        PermissionDenial(tool_name="bash", tool_use_id="t", tool_input={}, reason="denied by rule")
    ],
)


def test_every_subtype_has_its_exit_code() -> None:
    assert set(EXIT_CODES) == set(typing.get_args(ResultSubtype))
    assert (
        EXIT_CODES["success"],
        EXIT_CODES["error_during_execution"],
        EXIT_CODES["error_permission_denied"],
        EXIT_CODES["error_max_turns"],
        EXIT_CODES["error_max_budget"],
        EXIT_CODES["cancelled"],
    ) == (0, 1, 3, 4, 4, 130)


def test_stream_json_prints_each_event_and_the_result_object(capsys: pytest.CaptureFixture[str]) -> None:
    _emit(TextDeltaEvent(session_id="s1", text="hi"), "stream-json", None)
    _emit(RESULT, "stream-json", None)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0] == {"session_id": "s1", "parent_tool_use_id": None, "type": "text_delta", "text": "hi"}
    assert tuple(lines[1]) == RESULT_FIELDS
    assert lines[1]["usage"] == {
        "input_tokens": 5,
        "output_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
    }
    assert lines[1]["permission_denials"][0]["reason"] == "denied by rule"


def test_a_subagents_result_is_not_a_result_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Programs stop at the first `result` line: only the root session's may be one."""
    child = RESULT.model_copy(update={"session_id": "child", "parent_tool_use_id": "toolu_task"})
    _emit(child, "stream-json", None)
    _emit(RESULT, "stream-json", None)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["type"], line["session_id"]) for line in lines] == [("result", "s1")]


def test_json_prints_only_the_result(capsys: pytest.CaptureFixture[str]) -> None:
    _emit(TextDeltaEvent(session_id="s1", text="hi"), "json", None)
    _emit(RESULT, "json", None)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and json.loads(out[0])["subtype"] == "error_permission_denied"


def test_fork_needs_a_session() -> None:
    proc = run_subagent("run", "x", "--fork", ANTHROPIC_API_KEY="k")
    assert proc.returncode == 2 and "--fork" in proc.stderr
