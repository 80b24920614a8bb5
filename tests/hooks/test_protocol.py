"""A hook's answer by exit code and output, matchers, and the `hooks` block (Claude Code's protocol)."""

from __future__ import annotations

import json

import pytest

from agent.errors import ConfigError
from agent.hooks.config import hooks_of
from agent.hooks.protocol import HookAnswer, combine, interpret
from agent.hooks.runner import matches


def test_exit_two_blocks_with_stderr_as_the_reason() -> None:
    assert interpret("PreToolUse", 2, "", "no rm here\n", timed_out=False) == HookAnswer(
        decision="deny", reason="no rm here"
    )
    assert interpret("Stop", 2, "", "run the tests", timed_out=False).decision == "block"
    assert interpret("SessionStart", 2, "", "hm", timed_out=False) == HookAnswer(message="hm")


def test_other_exits_and_timeouts_fail_without_deciding() -> None:
    failed = interpret("PreToolUse", 1, "", "jq: not found", timed_out=False)
    assert failed.failed and failed.decision is None and failed.message == "jq: not found"
    assert interpret("PreToolUse", None, "", "", timed_out=True).failed
    broken = interpret("PreToolUse", 0, '{"hookSpecificOutput": ', "", timed_out=False)
    assert broken.failed and "JSON" in broken.message


def test_json_answers() -> None:
    out = {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "ask",
                                  "permissionDecisionReason": "check it"}}  # fmt: skip
    assert interpret("PreToolUse", 0, json.dumps(out), "", timed_out=False) == HookAnswer(
        decision="ask", reason="check it"
    )
    legacy = interpret("PreToolUse", 0, '{"decision": "block", "reason": "old form"}', "", timed_out=False)
    assert (legacy.decision, legacy.reason) == ("deny", "old form")
    post = {"decision": "block", "reason": "lint failed", "hookSpecificOutput": {"additionalContext": "E501"}}
    answer = interpret("PostToolUse", 0, json.dumps(post), "", timed_out=False)
    assert (answer.decision, answer.reason, answer.context) == ("block", "lint failed", "E501")
    stop = interpret(
        "Stop", 0, '{"continue": false, "stopReason": "enough", "systemMessage": "hi"}', "", timed_out=False
    )
    assert (stop.stop, stop.stop_reason, stop.message) == (True, "enough", "hi")


def test_plain_stdout_is_context_only_where_claude_code_says() -> None:
    assert (
        interpret("UserPromptSubmit", 0, "today is Monday\n", "", timed_out=False).context
        == "today is Monday"
    )
    assert interpret("SessionStart", 0, "branch main", "", timed_out=False).context == "branch main"
    assert interpret("PostToolUse", 0, "noise", "", timed_out=False) == HookAnswer()


def test_combined_answers_take_the_strictest_decision() -> None:
    answer = combine(
        [HookAnswer(decision="allow"), HookAnswer(decision="deny", reason="no"), HookAnswer(context="c")]
    )
    assert (answer.decision, answer.reason, answer.context) == ("deny", "no", "c")
    assert combine([]) == HookAnswer()


@pytest.mark.parametrize(
    ("matcher", "tool", "hit"),
    [("", "bash", True), ("*", "read", True), ("Bash", "bash", True), ("bash", "bash", True),
     ("Edit|Write", "write", True), ("Edit|Write", "bash", False), ("Bas", "bash", False),
     ("mcp__.*", "mcp__gh__issue", True), ("(", "bash", False)],
)  # fmt: skip
def test_matchers(matcher: str, tool: str, hit: bool) -> None:
    assert matches(matcher, tool) is hit


def test_a_hooks_block_and_its_errors() -> None:
    command = {"type": "command", "command": "x", "timeout": 5}
    block = {"PreToolUse": [{"matcher": "Bash", "hooks": [command]}], "Stop": [{"hooks": [{"command": "y"}]}]}
    hooks = hooks_of(block, "f.json")
    assert [(h.event, h.matcher, h.command, h.timeout_s) for h in hooks] == [
        ("PreToolUse", "Bash", "x", 5.0), ("Stop", "", "y", 60.0),
    ]  # fmt: skip
    with pytest.raises(ConfigError, match=r"hooks\.PreTool"):
        hooks_of({"PreTool": []}, "f")
    with pytest.raises(ConfigError, match="command"):
        hooks_of({"Stop": [{"hooks": [{"type": "command"}]}]}, "f")
