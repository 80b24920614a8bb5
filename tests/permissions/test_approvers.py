"""Approvers: the headless policy, and the terminal prompt (with a stream and with a real pty)."""

from __future__ import annotations

import io
import os
import pty
import select
import sys
import textwrap

import pytest
from rich.console import Console

from agent.permissions.approvers import HEADLESS_DENIAL, PolicyApprover, TerminalApprover
from agent.permissions.models import AskRequest
from tests.conftest import REPO_ROOT

REQUEST = AskRequest(
    session_id="s", tool_use_id="t1", tool_name="bash", permission="bash", patterns=["npm test"],
    title="npm test", detail="npm test -- --watch=false", agent="reviewer",
)  # fmt: skip


async def test_policy_approver_answers_every_ask_the_same() -> None:
    deny = await PolicyApprover("deny").ask(REQUEST)
    assert (deny.decision, deny.scope, deny.message) == ("deny", "once", HEADLESS_DENIAL)
    allow = await PolicyApprover("allow").ask(REQUEST)
    assert (allow.decision, allow.scope, allow.message) == ("allow", "once", "")


@pytest.mark.parametrize(
    ("typed", "decision", "scope", "message"),
    [
        ("y\n", "allow", "once", ""),
        ("a\n", "allow", "always", ""),
        ("n\nuse make test instead\n", "deny", "once", "use make test instead"),
        ("n\n\n", "deny", "once", "denied by the user"),
        ("maybe\nY\n", "allow", "once", ""),  # re-asks until the answer is one of the choices
        ("", "deny", "once", "denied: the terminal closed before an answer"),
    ],
)
async def test_terminal_approver_reads_the_choice(
    typed: str, decision: str, scope: str, message: str
) -> None:
    screen = io.StringIO()
    approver = TerminalApprover(Console(file=screen, width=100), terminal=io.StringIO(typed))
    answer = await approver.ask(REQUEST)
    assert (answer.decision, answer.scope, answer.message) == (decision, scope, message)
    shown = screen.getvalue()
    assert "bash wants bash (reviewer)" in shown and "npm test -- --watch=false" in shown
    assert "allow always for this session" in shown


_CHILD = textwrap.dedent(
    """
    import asyncio
    from rich.console import Console
    from agent.permissions.approvers import TerminalApprover
    from agent.permissions.models import AskRequest
    request = AskRequest(session_id="s", tool_use_id="t", tool_name="edit", permission="edit",
                         patterns=["a.py"], title="edit a.py")
    answer = asyncio.run(TerminalApprover(Console()).ask(request))
    print("ANSWER", answer.decision, answer.scope)
    """
)


def test_terminal_approver_prompts_on_the_controlling_terminal() -> None:
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal (/dev/tty)
        os.chdir(REPO_ROOT)
        os.execv(sys.executable, [sys.executable, "-c", _CHILD])
    output = b""
    answered = False
    while True:
        ready, _, _ = select.select([fd], [], [], 20)
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"> " in output:
            os.write(fd, b"a\n")
            answered = True
    os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert "edit a.py" in text
    assert "ANSWER allow always" in text
