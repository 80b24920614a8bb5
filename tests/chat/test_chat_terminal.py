"""`subagent chat` in a real terminal (tmux) against the scripted model.

Each test starts the real command as a subprocess in a private tmux server, types into it and
reads the screen. bash runs in the real bubblewrap sandbox.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.bwrap,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

TWO_TURNS = """
scripts:
  - replies:
      - text: I will write a.txt.
        tool_calls: [{name: bash, input: {command: "echo one > a.txt"}}]
      - text: Wrote a.txt for you.
      - text: Now b.txt.
        tool_calls: [{name: bash, input: {command: "echo two > b.txt"}}]
      - text: Understood, b.txt stays unwritten.
      - text: Third reply, from the same session.
"""


def test_two_turns_asks_both_ways_cost_undo_leave_and_resume(chat, workspace: Path) -> None:
    term = chat(TWO_TURNS, "--agent", "backend-engineer")
    term.wait_idle()
    term.type_line("write a.txt")
    term.wait_ask()
    assert "bash wants edit (backend-engineer)" in term.screen()
    term.type_line("y")
    term.wait_for("Wrote a.txt for you.")
    term.wait_idle()
    assert (workspace / "a.txt").read_text() == "one\n"

    term.type_line("and b.txt")
    term.wait_ask()
    term.type_line("n")
    term.wait_for("message for the agent")
    term.type_line("not now, thanks")
    term.wait_for("Understood, b.txt stays unwritten.")
    term.wait_idle()
    assert not (workspace / "b.txt").exists()
    assert "✗ denied: not now, thanks" in term.screen(history=True)

    term.type_line("/cost")
    screen = term.wait_for("model turns")
    assert re.search(r"4 model turns · \d+ input tokens.* · \$0\.\d{4}", screen), screen

    term.type_line("/undo")
    term.wait_for("undid step 1 and later")
    term.wait_idle()
    assert "delete  a.txt" in term.screen(history=True)
    assert not (workspace / "a.txt").exists()

    term.send("C-d")
    screen = term.wait_for("[exited]")
    match = re.search(r"resume it with: subagent chat --resume (ses_\w+)", screen)
    assert match, screen
    session_id = match.group(1)

    again = chat(TWO_TURNS, "--resume", session_id)
    again.wait_for(f"resuming session {session_id}")
    again.wait_idle()
    assert "backend-engineer" in again.last_lines()[-1]  # the session's agent, not the default
    again.type_line("one more")
    again.wait_for("Third reply, from the same session.")  # reply 5: the history came back
    again.wait_idle()
    again.type_line("/sessions")
    screen = again.wait_for("resume one with")
    assert screen.count("ses_") >= 2 and f"* {session_id}" in screen


LONG_CALL = """
scripts:
  - replies:
      - text: Sleeping a while.
        tool_calls: [{name: bash, input: {command: "sleep 30"}}]
      - text: Still here after the stop.
"""


def test_ctrl_c_stops_a_long_tool_call_and_the_session_goes_on(chat, workspace: Path) -> None:
    config = workspace / ".subagent"
    config.mkdir()
    (config / "config.yaml").write_text("permission:\n  bash: allow\n")
    term = chat(LONG_CALL, "--agent", "backend-engineer", "--permission-mode", "bypass", "--trust")
    term.wait_idle()
    term.type_line("take a nap")
    term.wait_for("$ bash: sleep 30")
    term.send("C-c")
    term.wait_for("⏹ stopped")
    term.wait_idle(timeout=15)  # well before the 30 s sleep would have ended
    term.type_line("are you there?")
    term.wait_for("Still here after the stop.")
    term.wait_idle()
    term.type_line("/nonsense")
    term.wait_for("unknown command /nonsense; commands: /agents, /model, /undo")
    term.send("C-c")  # on an empty line: asks to confirm
    term.wait_for("Ctrl-C again or Ctrl-D to leave")
    term.send("C-c")
    screen = term.wait_for("[exited]")
    assert "resume it with: subagent chat --resume ses_" in screen
    assert os.path.isdir(workspace)


WRITES_TWICE = """
scripts:
  - replies:
      - text: Writing a.txt.
        tool_calls: [{name: bash, input: {command: "echo one > a.txt"}}]
      - text: Wrote a.txt.
      - text: Writing it again.
        tool_calls: [{name: bash, input: {command: "echo one > a.txt"}}]
      - text: Wrote it again, unasked.
"""


def test_allow_always_holds_for_the_rest_of_the_chat_and_not_for_another(chat, workspace: Path) -> None:
    term = chat(WRITES_TWICE, "--agent", "backend-engineer")
    term.wait_idle()
    term.type_line("write a.txt")
    term.wait_ask()
    term.type_line("a")
    term.wait_for("Wrote a.txt.")
    term.wait_idle()
    (workspace / "a.txt").unlink()

    term.type_line("write it again")  # the next prompt is a new run of the same session
    term.wait_for("Wrote it again, unasked.")
    term.wait_idle()
    assert (workspace / "a.txt").read_text() == "one\n"
    assert term.screen(history=True).count("allow? y/a/n >") == 1
    (workspace / "a.txt").unlink()

    other = chat(WRITES_TWICE, "--agent", "backend-engineer")  # another chat: another session
    other.wait_idle()
    other.type_line("write a.txt")
    other.wait_ask()
    other.type_line("n")
    other.wait_for("message for the agent")
    other.type_line("")
    other.wait_idle()
    assert not (workspace / "a.txt").exists()
