"""The chat's parts without a terminal: approver, state, slash commands, keys, undo and diff."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from agent.chat import checkpoints
from agent.chat._input import _key_bindings
from agent.chat.approver import ChatApprover
from agent.chat.slash import SlashCommands
from agent.chat.state import ChatState
from agent.events import ResultEvent, Usage, UsageEvent
from agent.permissions.models import AskRequest
from agent.sessions.base import CheckpointRecord


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=120, highlight=False), out


def _request(command: str = "rm -rf build") -> AskRequest:
    return AskRequest(
        session_id="s", tool_use_id="t", tool_name="bash", permission="bash", patterns=[command],
        title=f"bash: {command}", agent="backend-engineer",
    )  # fmt: skip


class Answers:
    def __init__(self, *answers: str | type[BaseException]) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    async def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        answer = self.answers.pop(0)
        if isinstance(answer, type):
            raise answer()
        return answer


async def test_the_answer_says_once_or_always_and_the_approver_remembers_nothing() -> None:
    console, _ = _console()
    answers = Answers("maybe", "a", "y")
    approver = ChatApprover(console, answers, on_interrupt=lambda: None)
    first = await approver.ask(_request())
    assert (first.decision, first.scope) == ("allow", "always")
    assert answers.prompts == ["allow? y/a/n > ", "y (once), a (always), n (deny) > "]
    # Remembering is the session's AlwaysMemory's (the gate applies it); asked again, it asks.
    second = await approver.ask(_request())
    assert (second.decision, second.scope) == ("allow", "once") and len(answers.prompts) == 3


async def test_deny_with_a_message_and_ctrl_c_stops_the_turn() -> None:
    console, out = _console()
    approver = ChatApprover(console, Answers("n", "use make clean"), on_interrupt=lambda: None)
    answer = await approver.ask(_request())
    assert (answer.decision, answer.message) == ("deny", "use make clean")
    assert "bash wants bash (backend-engineer)" in out.getvalue()
    stopped: list[bool] = []
    approver = ChatApprover(console, Answers(KeyboardInterrupt), on_interrupt=lambda: stopped.append(True))
    answer = await approver.ask(_request())
    assert answer.decision == "deny" and stopped == [True]


def test_state_adds_up_runs_and_shows_the_status(tmp_path: Path) -> None:
    state = ChatState(cwd=tmp_path, agent="orchestrator", context_window=200_000)
    usage = Usage(input_tokens=1000, cache_read_input_tokens=49_000, output_tokens=10)
    for _ in range(2):
        state.absorb(UsageEvent(session_id="s", turn=1, usage=usage, total=usage, cost_usd=0.5))
        assert state.cost_usd == pytest.approx(0.5 + (0.5 if state.turns else 0))
        state.absorb(ResultEvent(
            session_id="s", subtype="success", is_error=False, result="", num_turns=1, usage=usage,
            total_cost_usd=0.5, duration_ms=1,
        ))  # fmt: skip
    assert state.cost_usd == pytest.approx(1.0) and state.turns == 2
    status = " orchestrator · (agent's model) · ctx 50.0k/200.0k (25%) · $1.0000 · new session"
    assert state.status_text() == status
    assert "2 model turns · 2000 input tokens, 98000 cache reads" in state.cost_text()


async def test_slash_commands_answer_and_unknown_ones_list_the_rest(tmp_path: Path) -> None:
    console, out = _console()
    state = ChatState(cwd=tmp_path, agent="orchestrator")
    commands = SlashCommands(state, console)
    assert await commands.run("/exit") is True
    assert await commands.run("/frobnicate") is False
    assert "unknown command /frobnicate; commands: /agents, /model, /undo, /diff, /cost," in out.getvalue()
    await commands.run("/undo")
    assert "no session yet: send a prompt first" in out.getvalue()
    await commands.run("/model opus")
    assert state.model == "claude-opus-5-5" and state.context_window == 200_000
    await commands.run("/model openai/gpt-5")
    assert "error: model 'openai/gpt-5': only Anthropic models" in out.getvalue()
    await commands.run("/agents nobody")
    assert "unknown agent 'nobody'; known agents: backend-engineer, explore, orchestrator" in out.getvalue()
    await commands.run("/agents explore")
    assert state.agent == "explore"
    await commands.run("/help")
    assert "Esc Enter" in out.getvalue() and "/compact" in out.getvalue()


def _checkpoint(workspace: Path, session_id: str, step: int, label: str) -> None:
    from agent.sessions.checkpoints import ShadowRepo
    from agent.sessions.store import SqliteSessionStore

    commit = ShadowRepo(workspace).snapshot(label)
    store = SqliteSessionStore()
    store.record_checkpoint(CheckpointRecord(
        session_id=session_id, step=step, commit=commit, label=label, created=datetime.now(UTC),
    ))  # fmt: skip
    store.close()


def test_undo_and_diff_through_the_session_checkpoints(tmp_path: Path) -> None:
    from agent.sessions.store import SqliteSessionStore

    store = SqliteSessionStore()
    session_id = store.create(agent="orchestrator", workspace=tmp_path, model="m").id
    store.close()
    (tmp_path / "keep.txt").write_text("v1\n")
    _checkpoint(tmp_path, session_id, 1, "edit keep.txt")
    (tmp_path / "keep.txt").write_text("v2\n")
    _checkpoint(tmp_path, session_id, 2, "write new.txt")
    (tmp_path / "new.txt").write_text("new\n")
    diff = checkpoints.session_diff(session_id, tmp_path)
    assert "-v1" in diff and "+v2" in diff and "+new" in diff
    outcome = checkpoints.undo(session_id, tmp_path, None)  # the last step only
    assert not (tmp_path / "new.txt").exists() and (tmp_path / "keep.txt").read_text() == "v2\n"
    assert outcome.lines[0] == "undid step 2 and later (write new.txt):"
    assert "new.txt" in outcome.note_for_model
    checkpoints.undo(session_id, tmp_path, 1)
    assert (tmp_path / "keep.txt").read_text() == "v1\n"
    assert checkpoints.list_checkpoints(session_id) == ["step   1  edit keep.txt", "step   2  write new.txt"]


def test_keys_backslash_and_esc_enter_add_lines_enter_sends() -> None:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    with create_pipe_input() as pipe:
        session: PromptSession[str] = PromptSession(
            input=pipe, output=DummyOutput(), multiline=True, key_bindings=_key_bindings()
        )
        pipe.send_text("first\\\rsecond\x1b\rthird\r")
        text = asyncio.run(asyncio.wait_for(session.prompt_async(), timeout=10))  # no hang if Enter breaks
        assert text == "first\nsecond\nthird"


async def test_an_edit_ask_shows_the_change_as_a_diff() -> None:
    console, out = _console()
    edit = {"file_path": "app.py", "old_string": "x = 1\n", "new_string": "x = 2\n"}
    detail = "--- app.py\n+++ app.py\n@@ -1 +1 @@\n-x = 1\n+x = 2"  # as the loop builds it
    request = _request().model_copy(update={
        "tool_name": "edit", "permission": "edit", "title": "edit app.py",
        "detail": detail, "tool_input": edit,
    })  # fmt: skip
    await ChatApprover(console, Answers("y"), on_interrupt=lambda: None).ask(request)
    shown = out.getvalue()
    assert "-x = 1" in shown and "+x = 2" in shown and "old_string" not in shown


def test_chat_without_a_terminal_says_what_to_use_instead(tmp_path: Path) -> None:
    from tests.conftest import run_subagent

    proc = run_subagent("chat", "--cwd", str(tmp_path), input="hello\n")
    assert proc.returncode == 2
    assert "subagent chat needs a terminal; for scripts and pipes use `subagent run PROMPT`" in proc.stderr


def test_the_context_window_is_the_one_the_run_resolved(tmp_path: Path) -> None:
    from agent.chat.app import ChatApp
    from agent.events import SessionStartedEvent

    state = ChatState(cwd=tmp_path, agent="orchestrator")
    chat = ChatApp(state, _console()[0])
    started = {"session_id": "s", "agent": "orchestrator", "cwd": str(tmp_path), "tools": []}
    # A model agents.yaml does not list: its window came from the models API.
    chat._absorb(SessionStartedEvent(model="claude-from-the-api", context_window=123_000, **started))
    assert state.context_window == 123_000
    chat._absorb(
        SessionStartedEvent(model="claude-from-the-api", parent_tool_use_id="t", context_window=9, **started)
    )
    assert state.context_window == 123_000  # a subagent's model is not the chat's
