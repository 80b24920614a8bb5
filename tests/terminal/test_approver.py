"""Approvers: the headless policy, and the terminal prompt (with a stream and with a real pty)."""

from __future__ import annotations

import io
import os
import pty
import select
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest
from rich.console import Console

from agent.permissions.headless import HEADLESS_DENIAL, PolicyApprover
from agent.permissions.models import AskRequest
from agent.terminal.approver import TerminalApprover
from tests.conftest import REPO_ROOT, subagent_argv, subprocess_env

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
    assert "[y] allow once  [a] allow always for this session  [n] deny" in shown  # not eaten as markup


_CHILD = textwrap.dedent(
    """
    import asyncio
    from rich.console import Console
    from agent.terminal.approver import TerminalApprover
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


def _converse(
    code: str, steps: list[tuple[bytes, bytes]], wait_s: float = 20, argv: list[str] | None = None
) -> tuple[str, bool]:
    """Run `code` (or `argv`) on a new pty; after each step's text appears, type its answer.

    Returns what the terminal showed and whether the child ended by itself (it is killed, and
    False returned, when it has not ended `wait_s` seconds after the last answer was typed, or
    shows nothing for `wait_s` seconds: a hang, even if a spinner keeps redrawing).
    """
    argv = argv or [sys.executable, "-c", code]
    env = subprocess_env()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal (/dev/tty)
        os.chdir(REPO_ROOT)
        os.execve(argv[0], argv, env)
    output, seen = b"", 0
    deadline = time.monotonic() + 600
    while True:
        ready, _, _ = select.select([fd], [], [], wait_s)
        if not ready or time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return output.decode(errors="replace"), False
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            break
        output += chunk
        while steps and steps[0][0] in output[seen:]:
            seen = output.index(steps[0][0], seen) + len(steps[0][0])
            os.write(fd, steps.pop(0)[1])
            if not steps:
                deadline = time.monotonic() + wait_s
    os.waitpid(pid, 0)
    return output.decode(errors="replace"), True


_TWO_ASKS = textwrap.dedent(
    """
    import asyncio
    from rich.console import Console
    from agent.terminal.approver import TerminalApprover
    from agent.permissions.models import AskRequest

    def request(path):
        return AskRequest(session_id="s", tool_use_id=path, tool_name="edit", permission="edit",
                          patterns=[path], title="edit " + path)

    async def main():
        approver = TerminalApprover(Console())
        try:
            await asyncio.wait_for(approver.ask(request("first.py")), 0.5)
        except TimeoutError:
            print("TIMED-OUT", flush=True)
        answer = await approver.ask(request("second.py"))
        print("ANSWER", answer.decision, answer.scope, flush=True)

    asyncio.run(main())
    """
)


def test_an_ask_after_a_timed_out_ask_gets_its_own_answer() -> None:
    text, ended = _converse(_TWO_ASKS, [(b"TIMED-OUT", b""), (b"second.py", b""), (b"> ", b"y\n")])
    assert ended, text
    assert "ANSWER allow once" in text


_CANCELLED_ASK = textwrap.dedent(
    """
    import asyncio
    from rich.console import Console
    from agent.terminal.approver import TerminalApprover
    from agent.permissions.models import AskRequest
    request = AskRequest(session_id="s", tool_use_id="t", tool_name="edit", permission="edit",
                         patterns=["a.py"], title="edit a.py")
    try:
        asyncio.run(TerminalApprover(Console()).ask(request))
    except KeyboardInterrupt:
        print("INTERRUPTED", flush=True)
    """
)


def test_ctrl_c_during_an_ask_ends_the_process_without_waiting_for_enter() -> None:
    text, ended = _converse(_CANCELLED_ASK, [(b"> ", b"\x03")], wait_s=15)
    assert ended, f"the process hung after Ctrl-C during an ask:\n{text}"
    assert "INTERRUPTED" in text


@pytest.mark.slow
def test_ctrl_c_at_a_permission_prompt_of_subagent_run_ends_the_run(tmp_path: Path) -> None:
    script = tmp_path / "script.yaml"
    script.write_text(
        "scripts:\n  - replies:\n"
        "      - tool_calls: [{name: write, input: {file_path: out.txt, content: hi}}]\n      - text: done\n"
    )
    argv = subagent_argv("run", "write it", "--script", str(script), "--cwd", str(tmp_path))
    text, ended = _converse("", [(b"write out.txt", b""), (b"> ", b"\x03")], wait_s=30, argv=argv)
    assert ended, f"subagent run hung after Ctrl-C at a permission prompt:\n{text}"
    assert "cancelled" in text and not (tmp_path / "out.txt").exists()


async def test_a_console_given_as_a_function_is_made_at_the_first_ask() -> None:
    """`subagent run` hands over its text view's console, which is made at its first print."""
    screen = io.StringIO()
    made: list[Console] = []

    def console() -> Console:
        made.append(Console(file=screen, width=100))
        return made[-1]

    approver = TerminalApprover(console, terminal=io.StringIO("y\n"))
    assert made == []
    assert (await approver.ask(REQUEST)).decision == "allow"
    assert (await approver.ask(REQUEST)).message == "denied: the terminal closed before an answer"
    assert len(made) == 1 and screen.getvalue().count("bash wants bash (reviewer)") == 2
