"""The chat under attack: model text, commands, personas, titles and diffs carry escape sequences.

The parts are checked on a plain console over StringIO; the whole chat runs in a real terminal
(tmux), where the window title, tmux's clipboard and the screen must stay as they were.
"""

from __future__ import annotations

import io
import shutil
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from agent.chat.approver import ChatApprover
from agent.chat.slash import SlashCommands
from agent.chat.state import ChatState
from agent.permissions.models import AskRequest
from agent.sessions.base import CheckpointRecord
from tests.chat.tmux_term import TmuxTerminal
from tests.conftest import subagent_argv, subprocess_env
from tests.terminal.test_safe_text import is_unsafe_for_a_terminal

ATTACK = "\x1b]0;PWNED\x07\x1b]52;c;cHduZWQ=\x07\x1b[2J [link=https://evil.example]x[/link] \u202e"
SHOWN = "\\x1b]0;PWNED\\x07\\x1b]52;c;cHduZWQ=\\x07\\x1b[2J [link=https://evil.example]x[/link] \\u202e"


class Answers:
    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)

    async def __call__(self, prompt: str) -> str:
        return self.answers.pop(0)


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=400), out


def _assert_safe(shown: str) -> None:
    assert not [c for c in shown if is_unsafe_for_a_terminal(c)], shown


async def test_the_permission_question_shows_the_command_exactly() -> None:
    console, out = _console()
    command = f"rm\u200b -rf ~ #{ATTACK}"
    request = AskRequest(
        session_id="s",
        tool_use_id="t",
        tool_name="bash",
        permission="bash",
        patterns=[command],
        title=f"bash: {command}",
        detail=f"{command}\nmore",
        tool_input={"command": command},
        agent=ATTACK,
    )
    approver = ChatApprover(console, Answers("a"), on_interrupt=lambda: None)
    await approver.ask(request)
    shown = out.getvalue()
    _assert_safe(shown)
    assert shown.count(f"bash: rm\\u200b -rf ~ #{SHOWN}") == 1  # the panel's title
    assert f"bash wants bash ({SHOWN})" in shown


async def test_slash_commands_show_personas_sessions_checkpoints_and_diffs_escaped(tmp_path: Path) -> None:
    from agent.sessions.checkpoints import ShadowRepo
    from agent.sessions.store import SqliteSessionStore

    persona = tmp_path / ".subagent" / "agents" / "evil.md"
    persona.parent.mkdir(parents=True)
    persona.write_text(
        '---\ndescription: "\\e]0;PWNED\\a [link=https://evil.example]x[/link]"\n'
        "mode: subagent\n---\nA persona someone else wrote.\n"
    )
    store = SqliteSessionStore()
    session_id = store.create(agent="orchestrator", workspace=tmp_path, model="m", title=ATTACK).id
    name = f"evil{ATTACK[:12]}.txt"
    commit = ShadowRepo(tmp_path).snapshot("before")
    store.record_checkpoint(
        CheckpointRecord(
            session_id=session_id, step=1, commit=commit, label=f"write {name}", created=datetime.now(UTC)
        )
    )
    store.close()
    (tmp_path / name).write_text(f"{ATTACK}\n")
    console, out = _console()
    state = ChatState(cwd=tmp_path, agent=ATTACK, session_id=session_id)
    commands = SlashCommands(state, console)
    for line in ("/agents", "/sessions", "/undo list", "/diff", f"/{ATTACK}", "/undo"):
        await commands.run(line)
    shown = out.getvalue()
    _assert_safe(shown)
    assert "evil                 \\x1b]0;PWNED\\x07 [link=https://evil.example]x[/link]" in shown  # /agents
    assert "\\x1b]0;PWNED\\x07\\x1b]52;c;cHduZWQ=\\x07\\x1b[2J [link=" in shown  # /sessions: the title
    assert "step   1  write evil\\x1b]0;PWNED\\x07\\x1b].txt" in shown  # /undo list
    assert f"+{SHOWN}" in shown  # /diff
    assert "  delete  evil\\x1b]0;PWNED\\x07\\x1b].txt" in shown  # /undo
    _assert_safe(state.status_text())
    assert SHOWN.replace("\\u202e", "") in state.status_text()


# --- the whole chat in a real terminal -----------------------------------------------------------

SCRIPT = r"""
scripts:
  - replies:
      - text: "before \e]0;PWNED-TITLE\a\e]52;c;cHduZWQ=\a\e[2J\e[Hafter \e[8mHIDDEN-TEXT\e[0m \x9b2J end"
        tool_calls:
          - name: bash
            input: {command: "printf '\\033]0;PWNED-BASH\\007\\033[2J%s\\n' bash-out # \e]2;PWNED-CMD\a"}
      - text: "all done \e]0;PWNED-LAST\a"
"""
PAYLOAD = "\x1b]0;PWNED-TITLE\x07\x1b]52;c;cHduZWQ=\x07\x1b[2J\x1b[Hcleared \x1b[8mHIDDEN-TEXT\x1b[0m\n"


@pytest.fixture
def terminals() -> Iterator[list[TmuxTerminal]]:
    opened: list[TmuxTerminal] = []
    yield opened
    for terminal in opened:
        terminal.close()


def _env() -> dict[str, str]:
    passed = ("PYTHONPATH", "SUBAGENT_HOME", "XDG_CONFIG_HOME", "PATH", "HOME")
    return {**{k: v for k, v in subprocess_env().items() if k in passed}, "LANG": "C.UTF-8"}


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_the_same_bytes_printed_raw_do_take_over_the_terminal(tmp_path: Path, terminals: list) -> None:
    """The control: what the tmux checks below would see if the chat printed the model's text raw."""
    (tmp_path / "payload").write_text(PAYLOAD)
    term = TmuxTerminal(["bash", "-c", "echo first line; read; cat payload"], _env(), tmp_path)
    terminals.append(term)
    term.wait_for("first line")
    term.accept_clipboard_writes()
    title = term.pane_title()
    term.send("Enter")
    term.wait_for("cleared")
    assert term.pane_title() == "PWNED-TITLE" != title
    assert "cHduZWQ=" not in term.paste_buffers() and "pwned" in term.paste_buffers()
    assert "first line" not in term.screen()  # the screen was cleared
    assert "\x1b[8mHIDDEN-TEXT" in term.screen_with_attributes()  # concealed


@pytest.mark.slow
@pytest.mark.bwrap
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_hostile_model_cannot_retitle_clear_or_write_the_clipboard(tmp_path: Path, terminals: list) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    script = tmp_path / "script.yaml"
    script.write_text(textwrap.dedent(SCRIPT))
    argv = subagent_argv(
        "chat",
        "--script",
        str(script),
        "--cwd",
        str(workspace),
        "--agent",
        "backend-engineer",
        "--permission-mode",
        "bypass",
    )
    term = TmuxTerminal(argv, _env(), workspace)
    terminals.append(term)
    term.wait_idle()
    term.accept_clipboard_writes()
    title = term.pane_title()
    term.type_line("go")
    term.wait_for("all done")
    term.wait_idle()
    screen = term.screen()
    assert term.pane_title() == title
    assert term.paste_buffers() == ""
    assert "subagent chat" in screen  # the banner is still on the screen: nothing cleared it
    assert "before \\x1b]0;PWNED-TITLE\\x07\\x1b]52;c;cHduZWQ=\\x07\\x1b[2J\\x1b[Hafter" in screen
    assert "\\x1b[8mHIDDEN-TEXT\\x1b[0m \\x9b2J end" in screen
    assert "\x1b[8m" not in term.screen_with_attributes()  # nothing is concealed
    assert "# \\x1b]2;PWNED-CMD\\x07" in screen  # the bash call's title
    assert "all done \\x1b]0;PWNED-LAST\\x07" in screen
