"""A custom command's `allowed-tools` and `model` hold for its run only: through `subagent run`
(headless: an ask is a denial) and through the chat, against a local Messages API server."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from agent.permissions.models import AskAnswer, AskRequest
from agent.prompt.command_grant import ToolGrant, grant_rules, split_allowed_tools
from tests.conftest import put, run_subagent
from tests.model import sse
from tests.model.messages_server import MessagesServer

pytestmark = pytest.mark.bwrap

# `touch` is not a read-only command: by default it is asked, and headless, denied.
STAGE = "---\nallowed-tools: Bash(touch:*), Read\nmodel: haiku\n---\nStage $ARGUMENTS\n"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    (tmp_path / "ws/.git").mkdir(parents=True)
    return (tmp_path / "ws").resolve()


def _bash_calls(*commands: str) -> list[str]:
    blocks = [sse.tool_block(i, f"toolu_{i}", "bash", {"command": c}) for i, c in enumerate(commands)]
    return [sse.reply(*blocks, stop_reason="tool_use"), sse.reply(sse.text_block(0, "done"))]


def _results(requests: list[dict[str, Any]]) -> dict[str, tuple[bool, str]]:
    """tool_use_id -> (is_error, text) of every result the model read."""
    out: dict[str, tuple[bool, str]] = {}
    for request in requests:
        for message in request["messages"]:
            for block in message["content"] if isinstance(message["content"], list) else []:
                if block.get("type") == "tool_result":
                    content = block.get("content") or ""
                    text = (
                        content if isinstance(content, str) else "".join(p.get("text", "") for p in content)
                    )
                    out[block["tool_use_id"]] = (bool(block.get("is_error")), text)
    return out


def _run(ws: Path, *args: str, replies: list[str]) -> tuple[Any, list[dict[str, Any]]]:
    with MessagesServer(replies) as server:
        done = run_subagent(
            "run", *args, "--agent", "backend-engineer", "--cwd", str(ws), "--output", "stream-json",
            "--permission-mode", "default", ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=server.url,
        )  # fmt: skip
        return done, list(server.requests)


def _started(stdout: str) -> dict[str, Any]:
    return next(json.loads(line) for line in stdout.splitlines() if '"session_started"' in line)


def test_allowed_tools_split_as_claude_code_writes_them() -> None:
    assert split_allowed_tools("Bash(git add:*), Bash(git commit -m 'a, b'),Read") == (
        "Bash(git add:*)",
        "Bash(git commit -m 'a, b')",
        "Read",
    )
    assert split_allowed_tools("Read Grep  Glob") == ("Read", "Grep", "Glob")
    assert split_allowed_tools(["Bash(npm run test:*)", " mcp__github "]) == (
        "Bash(npm run test:*)",
        "mcp__github",
    )
    assert split_allowed_tools(None) == ()


def test_a_grant_is_allow_rules_of_its_own_source_and_refused_untrusted(ws: Path) -> None:
    grant = ToolGrant(
        command="stage", source=ws / ".claude/commands/stage.md",
        entries=("Bash(git add:*)", "Edit(src/**)", "WebSearch"), from_workspace=True,
    )  # fmt: skip
    rules, refusal = grant_rules(grant, workspace=ws, trusted=True)
    assert refusal is None
    assert [(r.permission, r.pattern, r.decision) for r in rules] == [
        ("bash", "git add *", "allow"),
        ("edit", "src/*", "allow"),
    ]  # WebSearch names no tool of ours: a warning line, no rule
    assert rules[0].source == f"{grant.source} (allowed-tools of /stage)"
    rules, refusal = grant_rules(grant, workspace=ws, trusted=False)
    assert rules == [] and refusal is not None
    assert str(refusal).startswith(f"{grant.source}: allowed-tools of /stage: refused (")
    assert f"subagent trust {ws}" in str(refusal)


def test_a_trusted_commands_allowed_tools_run_without_an_ask_and_nothing_else_does(ws: Path) -> None:
    put(ws, ".claude/commands/stage.md", STAGE)
    done, requests = _run(
        ws, "/stage the notes", "--trust", replies=_bash_calls("touch granted.txt", "mkdir other")
    )
    assert done.returncode == 3, done.stderr  # the ungranted call was denied
    results = _results(requests)
    assert results["toolu_0"][0] is False and (ws / "granted.txt").exists()
    assert results["toolu_1"][0] is True and "no terminal to ask on" in results["toolu_1"][1]
    assert not (ws / "other").exists()


def test_an_untrusted_workspaces_command_grants_nothing_and_says_so(ws: Path) -> None:
    put(ws, ".claude/commands/stage.md", STAGE)
    done, requests = _run(ws, "--command", "stage", "x", replies=_bash_calls("touch granted.txt"))
    assert _results(requests)["toolu_0"][0] is True and not (ws / "granted.txt").exists()
    refused = [line for line in _started(done.stdout)["refused"] if "allowed-tools of /stage" in line]
    assert len(refused) == 1 and refused[0].startswith(str(ws / ".claude/commands/stage.md"))


def test_a_users_own_command_grants_in_any_workspace_and_a_deny_rule_still_wins(ws: Path) -> None:
    put(Path(os.environ["CLAUDE_CONFIG_DIR"]), "commands/stage.md", STAGE)
    _, requests = _run(ws, "/stage", replies=_bash_calls("touch granted.txt"))
    assert _results(requests)["toolu_0"][0] is False and (ws / "granted.txt").exists()

    (ws / "granted.txt").unlink()  # a deny from any file holds, trusted or not
    put(ws, ".claude/settings.json", json.dumps({"permissions": {"deny": ["Bash(touch:*)"]}}))
    _, requests = _run(ws, "/stage", replies=_bash_calls("touch granted.txt"))
    is_error, text = _results(requests)["toolu_0"]
    assert is_error and "settings.json" in text and not (ws / "granted.txt").exists(), text


def test_headless_the_commands_model_and_agent_unless_the_options_say_otherwise(ws: Path) -> None:
    put(ws, ".claude/commands/stage.md", STAGE)
    put(ws, "opencode.json", json.dumps({"command": {"look": {"template": "look", "agent": "explore"}}}))
    reply = [sse.reply(sse.text_block(0, "ok"))]
    _, requests = _run(ws, "/stage", replies=list(reply))
    assert requests[0]["model"] == "claude-haiku-5-5"
    _, requests = _run(ws, "/stage", "--model", "claude-sonnet-4-5", replies=list(reply))
    assert requests[0]["model"] == "claude-sonnet-4-5"
    with MessagesServer(list(reply)) as server:  # `_run` names an agent
        look = run_subagent(
            "run", "/look", "--cwd", str(ws), "--output", "stream-json", ANTHROPIC_API_KEY="k",
            ANTHROPIC_BASE_URL=server.url,
        )  # fmt: skip
    assert _started(look.stdout)["agent"] == "explore", look.stderr
    assert _started(_run(ws, "/look", replies=list(reply))[0].stdout)["agent"] == "backend-engineer"


class _Asked:
    """An approver that records each ask and denies it."""

    def __init__(self) -> None:
        self.asked: list[AskRequest] = []

    async def ask(self, request: AskRequest) -> AskAnswer:
        self.asked.append(request)
        return AskAnswer(decision="deny", message="not now")


async def test_in_chat_the_commands_model_agent_and_tools_hold_for_its_turn_only(ws: Path) -> None:
    from agent.chat.app import ChatApp
    from agent.chat.state import ChatState
    from agent.model.anthropic_client import AnthropicModel

    put(ws, ".claude/commands/stage.md", STAGE)
    put(ws, ".opencode/command/look.md", "---\nagent: explore\n---\nlook around\n")
    replies = [
        *_bash_calls("touch first.txt"),
        *_bash_calls("touch second.txt"),
        *[sse.reply(sse.text_block(0, "ok"))] * 2,
    ]
    with MessagesServer(replies) as server:
        state = ChatState(cwd=ws, agent="backend-engineer", trust=True)
        app = ChatApp(state, Console(file=io.StringIO(), width=120), model_client=AnthropicModel(
            api_key="k", base_url=server.url), permission_mode="default")  # fmt: skip
        app.approver = asked = _Asked()  # type: ignore[assignment]
        assert await app.submit("/stage now") is False
        assert "claude-haiku-5-5" not in state.status_text()  # back to the chat's model
        assert await app.submit("and once more") is False
        assert await app.submit("/look") is False
        assert await app.submit("thanks") is False
        requests = list(server.requests)
    assert [r["model"] for r in requests] == ["claude-haiku-5-5"] * 2 + ["claude-sonnet-5-5"] * 4
    has_bash = ["bash" in {t["name"] for t in r["tools"]} for r in requests]
    assert has_bash == [True] * 4 + [False, True]  # /look's turn is explore's (no bash), then back
    assert state.agent == "backend-engineer"
    assert (ws / "first.txt").exists() and not asked.asked[:-1]  # the command's turn asked nothing
    assert [a.patterns for a in asked.asked] == [["touch second.txt"]] and not (ws / "second.txt").exists()


def test_claude_codes_print_mode_runs_a_command_with_its_model_and_tools(ws: Path) -> None:
    put(Path(os.environ["CLAUDE_CONFIG_DIR"]), "commands/stage.md", STAGE)
    put(ws, ".claude/skills/pdf/SKILL.md", "---\nname: pdf\ndescription: PDFs\n---\nbody\n")
    with MessagesServer(_bash_calls("touch granted.txt")) as server:
        done = run_subagent(
            "-p", "/stage the notes", "--output-format", "stream-json", "--verbose", "--permission-mode",
            "default", cwd=ws,
            ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=server.url,
        )  # fmt: skip
        requests = list(server.requests)
    assert done.returncode == 0, done.stderr
    init = json.loads(done.stdout.splitlines()[0])  # Claude Code's init names them
    assert (init["subtype"], init["slash_commands"], init["skills"]) == ("init", ["stage"], ["pdf"])
    assert requests[0]["model"] == "claude-haiku-5-5"
    assert "Stage the notes" in json.dumps(requests[0]["messages"])
    assert _results(requests)["toolu_0"][0] is False and (ws / "granted.txt").exists()
