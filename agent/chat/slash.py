"""Slash commands: what a person types at the chat prompt instead of a message to the agent.

`/agents [NAME]`, `/model [NAME]`, `/undo [list|STEP]`, `/diff`, `/cost`, `/compact`,
`/sessions`, `/help`, `/exit`; and the workspace's custom commands (`agent.prompt.custom_commands`),
whose prompt the chat sends as one turn, with the command's `model`, `agent` and `allowed-tools`
for that turn only. An unknown command lists the ones that exist.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from agent.chat import checkpoints
from agent.chat.state import ChatState
from agent.errors import ConfigError, SubagentError
from agent.terminal.safe_text import for_terminal

if TYPE_CHECKING:
    from rich.console import Console

    from agent.prompt.custom_commands import CommandRun

HELP: dict[str, str] = {
    "/agents": "list the agents; `/agents NAME` switches the agent for the next prompts",
    "/model": "show the model; `/model NAME` uses another (an id or sonnet, opus, haiku)",
    "/undo": "undo the last step that changed files; `/undo list`, `/undo STEP` to go back further",
    "/diff": "what this session changed in the workspace",
    "/cost": "tokens and cost of this chat so far",
    "/compact": "summarise the conversation to free context",
    "/sessions": "the sessions in this workspace",
    "/help": "this list, and the keys",
    "/exit": "leave (the session can be resumed)",
}
KEYS = (
    "Enter sends · Esc Enter, Ctrl-J or a trailing \\ add a line · Ctrl-C stops the agent's turn, "
    "clears the line, and on an empty line twice leaves · Ctrl-D leaves"
)


class SlashCommands:
    """Runs one slash command line against the chat's state."""

    def __init__(
        self, state: ChatState, console: Console, compact: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self.state = state
        self.console = console
        self._compact_session = compact
        """Runs the session's compaction and shows it (`ChatApp.compact`); None: not offered."""
        self.pending_note = ""
        """Said to the model with the next prompt (set by /undo)."""
        self.pending_command: CommandRun | None = None
        """The turn a custom command stands for, for the chat to run (`take_command`)."""
        self._handlers: dict[str, Callable[[str], Awaitable[bool]]] = {
            "/agents": self._agents,
            "/model": self._model,
            "/undo": self._undo,
            "/diff": self._diff,
            "/cost": self._cost,
            "/compact": self._compact,
            "/sessions": self._sessions,
            "/help": self._help,
            "/exit": self._exit,
            "/quit": self._exit,
        }

    async def run(self, line: str) -> bool:
        """Run `line`; True when the chat should end."""
        name, _, arg = line.strip().partition(" ")
        handler = self._handlers.get(name.lower())
        if handler is None:
            custom = self._custom().get(name[1:])
            if custom is not None:
                from agent.prompt.custom_commands import invoke
                from agent.registry.discovery import find_workspace

                self.pending_command = invoke(custom, arg.strip(), find_workspace(self.state.cwd))
                return False
            shown = for_terminal(name, name=True, one_line=True)
            known = [*HELP, *(f"/{n}" for n in self._custom())]
            self.console.print(f"unknown command {shown}; commands: {', '.join(known)}", markup=False)
            return False
        try:
            return await handler(arg.strip())
        except SubagentError as exc:
            self.console.print(f"error: {for_terminal(str(exc))}", style="red", markup=False)
            return False

    def take_command(self) -> CommandRun | None:
        """The turn the last command line stands for (once), or None."""
        command, self.pending_command = self.pending_command, None
        return command

    def _custom(self) -> dict[str, Any]:
        """The workspace's custom commands (read each time: a file added mid-chat counts)."""
        from agent.prompt.custom_commands import find_commands
        from agent.registry.discovery import find_workspace

        return find_commands(find_workspace(self.state.cwd))[0]

    def _registry(self) -> Any:
        from agent.registry.discovery import load_registry_for

        return load_registry_for(self.state.cwd, trust=self.state.trust)

    async def _agents(self, arg: str) -> bool:
        registry = await asyncio.to_thread(self._registry)
        if arg:
            registry.get(arg)  # UnknownAgentError names the known ones
            self.state.agent = arg
            shown = for_terminal(arg, name=True, one_line=True)
            self.console.print(f"agent: {shown} (from the next prompt, in the same session)", markup=False)
            return False
        primary = registry.primary_agents()
        others = [s for s in registry.agents.values() if s not in primary]
        for title, specs in (("primary agents:", primary), ("subagents (for the task tool):", others)):
            if specs:
                self.console.print(title)
            for spec in specs:
                mark = "*" if spec.name == self.state.agent else " "
                name = for_terminal(spec.name, name=True, one_line=True)
                line = f"{mark} {name:<20} {for_terminal(spec.description[:90], one_line=True)}"
                self.console.print(line, markup=False, highlight=False)
        self.console.print("switch with /agents NAME")
        return False

    async def _model(self, arg: str) -> bool:
        if not arg:
            config = (await asyncio.to_thread(self._registry)).config
            current = self.state.model or self.state.model_id or "(the agent's own model)"
            self.console.print(f"model: {for_terminal(current, name=True, one_line=True)}", markup=False)
            known = ", ".join([*config.aliases, *config.models])  # a workspace's config adds names
            self.console.print("known: " + for_terminal(known, name=True, one_line=True), markup=False)
            return False
        from agent.model.resolve import normalise_model

        config = (await asyncio.to_thread(self._registry)).config
        model_id = normalise_model(arg, config)  # ConfigError for another provider
        self.state.model = model_id
        self.state.context_window = config.models[model_id].context_window if model_id in config.models else 0
        shown = for_terminal(model_id, name=True, one_line=True)
        self.console.print(f"model: {shown} (from the next prompt)", markup=False)
        return False

    def _session(self) -> str | None:
        if self.state.session_id is None:
            self.console.print("no session yet: send a prompt first")
        return self.state.session_id

    async def _undo(self, arg: str) -> bool:
        session_id = self._session()
        if session_id is None:
            return False
        if arg == "list":
            lines = await asyncio.to_thread(checkpoints.list_checkpoints, session_id)
        else:
            if arg and not arg.isdigit():
                raise ConfigError(f"/undo takes `list` or a step number, not {arg!r}")
            step = int(arg) if arg else None
            outcome = await asyncio.to_thread(checkpoints.undo, session_id, self.state.cwd, step)
            lines = outcome.lines
            self.pending_note = outcome.note_for_model or self.pending_note
        for line in lines:  # labels and paths come from the agent's work
            self.console.print(for_terminal(line, name=True, one_line=True), markup=False, highlight=False)
        return False

    async def _diff(self, arg: str) -> bool:
        session_id = self._session()
        if session_id is None:
            return False
        diff = await asyncio.to_thread(checkpoints.session_diff, session_id, self.state.cwd)
        if not diff.strip():
            self.console.print("no changes: this session has not changed any file (or they were undone)")
            return False
        from rich.syntax import Syntax

        self.console.print(Syntax(for_terminal(diff), "diff", theme="ansi_dark", background_color="default"))
        return False

    async def _cost(self, arg: str) -> bool:
        self.console.print(self.state.cost_text(), markup=False, highlight=False)
        return False

    async def _compact(self, arg: str) -> bool:
        if self._compact_session is None:
            self.console.print("/compact is not available here: no agent runs in this view")
        elif self._session() is not None:
            await self._compact_session()
        return False

    async def _sessions(self, arg: str) -> bool:
        from agent.runtime.parts import opened_store

        def listing() -> list[Any]:
            with opened_store() as store:
                return list(store.list(self.state.cwd, limit=20))

        records = await asyncio.to_thread(listing)
        if not records:
            self.console.print("no sessions in this workspace yet")
        for r in records:
            mark = "*" if r.id == self.state.session_id else " "
            when = r.updated.strftime("%Y-%m-%d %H:%M")
            agent = for_terminal(r.agent, name=True, one_line=True)
            line = f"{mark} {r.id}  {when}  {agent:<16} {for_terminal(r.title[:50], one_line=True)}"
            self.console.print(line, markup=False, highlight=False)
        self.console.print("resume one with: subagent chat --resume ID")
        return False

    async def _help(self, arg: str) -> bool:
        for name, text in HELP.items():
            self.console.print(f"{name:<10} {text}", markup=False, highlight=False)
        for name, custom in self._custom().items():
            usage = for_terminal(f"/{name} {custom.argument_hint}".strip(), name=True, one_line=True)
            said = for_terminal(custom.summary(), one_line=True)
            self.console.print(f"{usage:<10} {said}", markup=False, highlight=False)
        self.console.print(KEYS, markup=False, highlight=False)
        return False

    async def _exit(self, arg: str) -> bool:
        return True
