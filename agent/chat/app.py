"""The chat loop: read a prompt, run one turn of the agent on it, show the events, repeat.

Every prompt is one `agent.api.run_events` run that resumes the chat's session id, so the
conversation, its checkpoints and its cost live in the session store and `--resume` picks them
up. While a turn runs, Ctrl-C (SIGINT: the input line is not active) sets the turn's cancel
event; the loop answers the calls it interrupted and the session stays valid for the next prompt.
"""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING, Any

from rich.text import Text

from agent.chat._input import make_prompt_session
from agent.chat._interrupt import InterruptKey
from agent.chat.approver import ChatApprover
from agent.chat.slash import SlashCommands
from agent.chat.state import ChatState
from agent.errors import SubagentError
from agent.permissions.always import AlwaysMemory
from agent.terminal.render import EventRenderer
from agent.terminal.safe_text import for_terminal

if TYPE_CHECKING:
    from rich.console import Console

    from agent.model.base import ModelClient
    from agent.permissions.models import PermissionMode
    from agent.prompt.custom_commands import CommandRun


class ChatRenderer(EventRenderer):
    """The `subagent run` view without its spinner: a live spinner would fight the input line."""

    def _refresh_status(self) -> None:
        return None


class ChatApp:
    """One interactive chat in one workspace."""

    def __init__(
        self,
        state: ChatState,
        console: Console,
        *,
        model_client: ModelClient | None = None,
        permission_mode: PermissionMode | None = None,
    ) -> None:
        self.state = state
        self.console = console
        self.model_client = model_client
        self.permission_mode = permission_mode
        self.commands = SlashCommands(state, console, self.compact)
        self._cancel: asyncio.Event | None = None
        self._ask_session: Any = None
        self._interrupt_key = InterruptKey(self._stop_turn)
        self.approver = ChatApprover(console, self._read_answer, self._stop_turn)
        self.always = AlwaysMemory()
        """The chat's `always` answers: every prompt's run gets them (the chat is one session)."""
        from agent.mcpclient.for_run import KeptHub  # the runtime's, loaded with the first turn anyway

        self.mcp = KeptHub()
        """The chat's MCP servers: started by its first prompt, reused by the next, stopped when
        the chat ends."""

    async def _read_answer(self, prompt: str) -> str:
        if self._ask_session is None:
            self._ask_session = make_prompt_session(self.state.status_text, with_history=False)
        # handle_sigint=False: keep the turn's own SIGINT handler (Ctrl-C is a key in raw mode anyway)
        with self._interrupt_key.paused():
            answer: str = await self._ask_session.prompt_async(prompt, handle_sigint=False)
        return answer

    def _stop_turn(self) -> None:
        if self._cancel is not None and not self._cancel.is_set():
            self._cancel.set()
            self.console.print("[yellow]stopping…[/yellow]")

    async def run(self) -> int:
        """Prompt until the person leaves; returns the exit code. The MCP servers stop with it."""
        try:
            return await self._prompts()
        finally:
            await self.mcp.close()

    async def _prompts(self) -> int:
        session = make_prompt_session(self.state.status_text)
        where = for_terminal(f"{self.state.agent} in {self.state.cwd}", name=True, one_line=True)
        self.console.print(Text.assemble(("subagent chat", "bold"), f" · {where} · /help for commands"))
        if self.state.session_id:
            self.console.print(f"resuming session {self.state.session_id}", highlight=False)
        interrupted = False
        while True:
            try:
                text: str = await session.prompt_async("› ")
            except KeyboardInterrupt:
                if interrupted:
                    break
                interrupted = True
                self.console.print("[dim](Ctrl-C again or Ctrl-D to leave)[/dim]")
                continue
            except EOFError:
                break
            interrupted = False
            if await self.submit(text):
                break
        self._goodbye()
        return 0

    async def submit(self, text: str) -> bool:
        """Act on one line typed at the prompt: a slash command, or a prompt for the agent (a
        custom command's with its model, agent and allowed tools); True when the chat should end."""
        text = text.strip()
        if not text.startswith("/"):
            if text:
                await self.turn(text)
            return False
        if await self.commands.run(text):
            return True
        if (command := self.commands.take_command()) is not None:
            await self.turn(command.prompt, command=command)
        return False

    async def compact(self) -> None:
        """`/compact`: compact the session's history now, without a model turn; the next prompts
        (each a resumed run) start from the compacted history."""
        await self.turn(None, compact_only=True)

    async def turn(
        self,
        prompt: str | None,
        *,
        compact_only: bool = False,
        command: CommandRun | None = None,
    ) -> None:
        """Run the agent on `prompt` in the chat's session and show what it does; a custom
        `command`'s model, agent and allowed tools hold for this turn only."""
        from agent.api import run_events
        from agent.runtime.options import RunOptions

        if prompt is not None and self.commands.pending_note:
            prompt = f"{self.commands.pending_note}\n\n{prompt}"
            self.commands.pending_note = ""
        cancel = self._cancel = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, self._stop_turn)  # `kill -INT`; a typed Ctrl-C is a key
        self._interrupt_key.start()
        renderer = ChatRenderer(self.console)
        self.state.running = True
        chats = (self.state.model_id, self.state.context_window)  # a command's model is for its turn
        try:
            options = RunOptions(
                prompt=prompt,
                agent=(command and command.agent) or self.state.agent,
                cwd=self.state.cwd,
                model=(command and command.model) or self.state.model,
                resume=self.state.session_id,
                permission_mode=self.permission_mode,
                approver=self.approver,
                always=self.always,
                model_client=self.model_client,
                cancel=cancel,
                compact_only=compact_only,
                trust=self.state.trust,
                grant=command.grant if command else None,
                mcp_kept=self.mcp,
            )
            async for event in run_events(options):
                self._absorb(event)
                renderer.handle(event)
                if event.type == "result" and event.parent_tool_use_id is None:
                    if compact_only:
                        self.console.print(for_terminal(event.result), markup=False, highlight=False)
                    self._footer(event)
        except SubagentError as exc:  # ConfigError included
            self.console.print(Text.assemble(("error:", "red"), " ", for_terminal(str(exc))))
        except Exception as exc:  # a bug in one turn must not end the chat; the transcript is repaired
            self.console.print(
                Text.assemble(
                    ("internal error in this turn:", "red"),
                    f" {type(exc).__name__}: {for_terminal(str(exc))}\n"
                    "the session goes on; please report this with the session id",
                )
            )
        finally:
            self._interrupt_key.stop()
            loop.remove_signal_handler(signal.SIGINT)
            self.state.running = False
            self._cancel = None
            if command and command.model:  # the status line and /model show the chat's model again
                self.state.model_id, self.state.context_window = chats

    def _absorb(self, event: Any) -> None:
        root = event.parent_tool_use_id is None
        if event.type == "session_started" and root and event.context_window:
            self.state.context_window = event.context_window  # as the run resolved it
        self.state.absorb(event)

    def _footer(self, result: Any) -> None:
        seconds = result.duration_ms / 1000
        line = f"{result.num_turns} turns · ${result.total_cost_usd:.4f} · {seconds:.1f}s"
        if result.subtype == "cancelled":
            self.console.print(f"[yellow]⏹ stopped[/yellow] [dim]· the session goes on · {line}[/dim]")
        elif result.subtype != "success":
            self.console.print(f"[red]{result.subtype}[/red] [dim]· {line}[/dim]", highlight=False)
        else:
            self.console.print(f"[dim]{line}[/dim]", highlight=False)

    def _goodbye(self) -> None:
        sid = self.state.session_id
        if sid is None:
            self.console.print("bye (no session was started)")
            return
        self.console.print(f"session {sid}", highlight=False)
        self.console.print(f"resume it with: subagent chat --resume {sid}", highlight=False)
