"""Permission asks inside the chat: shown inline, answered on a prompt_toolkit line.

An `allow always` answer is kept by the chat's `AlwaysMemory` (agent.permissions.always), which
every prompt's run gets: the gate then allows the same thing without asking, for the rest of the
chat. Ctrl-C at the question denies the call and stops the turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from agent.chat._ask_view import ask_detail
from agent.permissions.models import AskAnswer, AskRequest
from agent.terminal.safe_text import for_terminal

if TYPE_CHECKING:
    from rich.console import Console

ReadLine = Callable[[str], Awaitable[str]]
"""`await read_line(prompt) -> the line typed`; raises KeyboardInterrupt or EOFError."""

_CHOICES = {"y": ("allow", "once"), "a": ("allow", "always"), "n": ("deny", "once")}


class ChatApprover:
    """Answers the gate's asks by asking the person at the chat prompt."""

    def __init__(
        self,
        console: Console,
        read_line: ReadLine,
        on_interrupt: Callable[[], None],
    ) -> None:
        self.console = console
        self._read_line = read_line
        self._on_interrupt = on_interrupt
        self._lock = asyncio.Lock()

    async def ask(self, request: AskRequest) -> AskAnswer:
        """One question at a time, even when parallel subagents ask together."""
        async with self._lock:
            self._show(request)
            try:
                return await self._answer(request)
            except KeyboardInterrupt:
                self._on_interrupt()
                return AskAnswer(decision="deny", message="denied: the user stopped the turn")
            except EOFError:
                return AskAnswer(decision="deny", message="denied: the terminal closed before an answer")

    async def _answer(self, request: AskRequest) -> AskAnswer:
        choice = (await self._read_line("allow? y/a/n > ")).strip().lower()
        while choice[:1] not in _CHOICES:
            choice = (await self._read_line("y (once), a (always), n (deny) > ")).strip().lower()
        decision, scope = _CHOICES[choice[:1]]
        if decision == "allow":
            return AskAnswer(decision="allow", scope="always" if scope == "always" else "once")
        message = (await self._read_line("message for the agent (Enter for none) > ")).strip()
        return AskAnswer(decision="deny", message=message or "denied by the user")

    def _show(self, request: AskRequest) -> None:
        from rich.console import Group
        from rich.panel import Panel
        from rich.syntax import Syntax
        from rich.text import Text

        # What the person approves is shown exactly: controls escaped, invisible characters marked.
        parts: list[Any] = [Text(for_terminal(request.title, name=True, one_line=True), style="bold")]
        if request.detail:
            text, lexer = ask_detail(request)
            if text and text not in request.title:
                text = for_terminal(text, name=True)
                style = {"theme": "ansi_dark", "background_color": "default"}
                parts.append(Syntax(text, lexer, **style) if lexer else Text(text))
        who = f" ({request.agent})" if request.agent else ""
        title = for_terminal(f"{request.tool_name} wants {request.permission}{who}", name=True, one_line=True)
        self.console.print(Panel(Group(*parts), title=Text(title), border_style="yellow"))
        self.console.print(
            "[y] allow once   [a] allow always for this session   [n] deny (with a message)", markup=False
        )
