"""The terminal's permission question shows exactly what would run, and nothing in it drives the terminal."""

from __future__ import annotations

import io

from rich.console import Console

from agent.permissions.models import AskRequest
from agent.terminal.approver import TerminalApprover
from tests.terminal.test_safe_text import is_unsafe_for_a_terminal

# A command that would print as `echo safe` (CR back to the line start, then clear to its end),
# with a zero-width space that makes `rm` look like another command, a title change, and markup.
COMMAND = "rm\u200b -rf ~ # \x1b]0;approved\x07\r\x1b[2Kecho safe [link=https://evil.example]docs[/link]"


def test_the_question_shows_the_hidden_command() -> None:
    screen = io.StringIO()
    request = AskRequest(
        session_id="s", tool_use_id="t1", tool_name="bash", permission="bash", patterns=[COMMAND],
        title=f"bash: {COMMAND}", detail=f"{COMMAND}\nsecond line", agent="[bold]evil\x1b[8m",
    )  # fmt: skip
    approver = TerminalApprover(Console(file=screen, width=400), terminal=io.StringIO("n\n\n"))
    approver._show(request)
    shown = screen.getvalue()
    assert not [c for c in shown if is_unsafe_for_a_terminal(c)]
    visible = (
        "rm\\u200b -rf ~ # \\x1b]0;approved\\x07\\r\\x1b[2Kecho safe [link=https://evil.example]docs[/link]"
    )
    assert f"bash: {visible}" in shown  # the title
    lines = [line.strip("│ ") for line in shown.splitlines()]
    assert lines.index(visible) + 1 == lines.index("second line")  # the detail, its lines kept
    assert "bash wants bash ([bold]evil\\x1b[8m)" in shown
