"""The approver for runs with a person at the terminal: a prompt on the terminal.

Headless runs answer with `agent.permissions.headless.PolicyApprover`; ACP and MCP front ends
bring their own approver (the same `Approver` protocol). The gate applies the timeout to every
approver, so none of them needs its own.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from agent.permissions.headless import HEADLESS_DENIAL
from agent.permissions.models import AskAnswer, AskRequest
from agent.terminal.line_reader import TerminalLines
from agent.terminal.safe_text import for_terminal

if TYPE_CHECKING:
    from rich.console import Console

_CHOICES = {"y": ("allow", "once"), "a": ("allow", "always"), "n": ("deny", "once")}


class TerminalApprover:
    """Asks the person at the terminal: allow once, allow always for this session, or deny.

    Only for runs with a terminal: use `TerminalApprover.open_terminal()` to get the input
    stream, and `PolicyApprover("deny")` when it returns None. The terminal is read by one
    daemon thread (`TerminalLines`), so an ask that times out or is cancelled leaves nothing
    behind: the next ask gets the next answer, and the process exits at once.
    """

    def __init__(self, console: Console | Callable[[], Console], terminal: TextIO | None = None) -> None:
        """`console` prints the asks: a console, or a function that makes it at the first ask (the
        text view's, which is made at its first print)."""
        self._console = console
        self.terminal = terminal if terminal is not None else self.open_terminal()
        self._lines = TerminalLines(self.terminal) if self.terminal is not None else None
        self._lock = asyncio.Lock()

    @property
    def console(self) -> Console:
        if callable(self._console):
            self._console = self._console()
        return self._console

    @staticmethod
    def open_terminal() -> TextIO | None:
        """`/dev/tty` when the process has one, else stdin when it is a tty, else None."""
        if os.path.exists("/dev/tty"):
            try:
                return open("/dev/tty", encoding="utf-8")  # closed with the process
            except OSError:
                pass
        return sys.stdin if sys.stdin.isatty() else None

    async def ask(self, request: AskRequest) -> AskAnswer:
        """Show the request and read the answer; one prompt at a time, even with parallel agents."""
        if self._lines is None:
            return AskAnswer(decision="deny", message=HEADLESS_DENIAL)
        async with self._lock:
            lines = self._lines.listen()  # before the question: what was typed earlier is dropped
            try:
                return await self._prompt(request, lines)
            finally:
                self._lines.stop()

    def _show(self, request: AskRequest) -> None:
        from rich.panel import Panel
        from rich.text import Text

        # What the person approves is shown exactly: controls escaped, invisible characters marked.
        body = Text()
        body.append(for_terminal(request.title, name=True, one_line=True), style="bold")
        if request.detail and request.detail != request.title:
            body.append("\n\n" + for_terminal(request.detail, name=True))
        who = f" ({request.agent})" if request.agent else ""
        title = for_terminal(f"{request.tool_name} wants {request.permission}{who}", name=True, one_line=True)
        self.console.print(Panel(body, title=Text(title)))
        self.console.print("[y] allow once  [a] allow always for this session  [n] deny", markup=False)

    async def _read(self, prompt: str, lines: asyncio.Queue[str | None]) -> str:
        self.console.print(prompt, end="")
        line = await lines.get()
        if line is None:
            raise EOFError("the terminal closed")
        return line.strip()

    async def _prompt(self, request: AskRequest, lines: asyncio.Queue[str | None]) -> AskAnswer:
        self._show(request)
        try:
            choice = (await self._read("> ", lines)).lower()
            while choice[:1] not in _CHOICES:
                choice = (await self._read("y, a or n > ", lines)).lower()
            decision, scope = _CHOICES[choice[:1]]
            if decision == "allow":
                return AskAnswer(decision="allow", scope="always" if scope == "always" else "once")
            message = await self._read("message for the agent (optional) > ", lines)
        except EOFError:
            return AskAnswer(decision="deny", message="denied: the terminal closed before an answer")
        return AskAnswer(decision="deny", message=message or "denied by the user")
