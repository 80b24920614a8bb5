"""The hooks of one event run side by side in the real sandbox; their answers combine in the
order of the configuration, whichever finished first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.hooks.config import Hook
from agent.hooks.runner import HookRunner
from tests.sandbox.conftest import sandbox_for

pytestmark = pytest.mark.bwrap

ALLOW = json.dumps({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "allow"}})
# Each hook marks that it started, then waits for the other's mark: run one after another, the
# first would wait for a hook that has not started and end by its timeout, failed.
FIRST = f"touch first.ready; until [ -e second.ready ]; do sleep 0.05; done; sleep 0.3; echo '{ALLOW}'"
SECOND = "touch second.ready; until [ -e first.ready ]; do sleep 0.05; done; echo 'not on main' >&2; exit 2"


def _hook(command: str, source: str) -> Hook:
    return Hook("PreToolUse", "Bash", command, timeout_s=15, source=source)


async def test_hooks_of_one_event_run_side_by_side_and_combine_in_config_order(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    hooks = [_hook(FIRST, "user"), _hook(SECOND, "project"), _hook(FIRST, "local")]
    runner = HookRunner(hooks, ws, "s1", sandbox=sandbox_for(ws))
    shown: list[Any] = []
    answer = await runner.fire(
        "PreToolUse", {"tool_name": "Bash", "tool_input": {"command": "git push"}}, shown.append, match="bash"
    )
    assert [e.failed for e in shown] == [False, False], [e.message for e in shown]  # neither waited out
    assert (answer.decision, answer.reason) == ("deny", "not on main")  # deny beats the first's allow
    # One event per distinct command (the local file's copy of the first ran once), in the
    # configuration's order although the second finished first.
    assert [(e.source, e.decision) for e in shown] == [("user", "allow"), ("project", "deny")]


async def test_a_failing_hook_is_reported_beside_one_that_answers(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    hooks = [_hook("echo broken >&2; exit 7", "a"), _hook(f"echo '{ALLOW}'", "b")]
    shown: list[Any] = []
    runner = HookRunner(hooks, ws, "s1", sandbox=sandbox_for(ws))
    answer = await runner.fire("PreToolUse", {}, shown.append, match="bash")
    assert answer.decision == "allow" and answer.failed
    assert [(e.exit_code, e.failed, e.message) for e in shown] == [(7, True, "broken"), (0, False, "")]
