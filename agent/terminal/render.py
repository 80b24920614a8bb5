"""The terminal view of an event stream: text as it streams, tool calls, diffs, a final summary.

`EventRenderer(console).handle(event)` for each event; it writes only to the console it was
given (tests use a fixed-width console over StringIO). Thinking is dimmed; each tool call gets a
one-line header, a spinner while it runs (on a terminal), then its status and duration; diffs are
highlighted; a subagent's events are indented under the `task` call that started them.

Given no console, it prints to the terminal's (`terminal_console()`), made at the first line it
prints: rich is imported there, not before a text run's first request, which prints nothing
(rich's console was 74 M instructions, 4 % of `subagent run`'s start; issue 18).

Every string of an event came from the model, a tool or a workspace: each goes through
`for_terminal` (names and titles with `name=True, one_line=True`) and is printed as `Text`, never
as markup, so no escape sequence or `[link=...]` reaches the terminal (docs/security.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.events import (
    CompactionEvent,
    ErrorEvent,
    Event,
    HookEvent,
    ModelFallbackEvent,
    PermissionAnsweredEvent,
    PermissionAskedEvent,
    ResultEvent,
    SessionStartedEvent,
    SubagentFinishedEvent,
    SubagentStartedEvent,
    TextDeltaEvent,
    ThinkingDeltaEvent,
    ToolCallFinishedEvent,
    ToolCallStartedEvent,
)
from agent.terminal.safe_text import for_terminal

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.status import Status

_MAX_DIFF_LINES = 60
_GLYPH = {"read": "◇", "search": "⌕", "edit": "✎", "execute": "$", "other": "•"}


def _name(text: str) -> str:
    """A title, a file name, an agent's name: one line, invisible characters marked."""
    return for_terminal(text, name=True, one_line=True)


class EventRenderer:
    """Renders one run's events to `console`."""

    def __init__(self, console: Console | None = None, *, show_thinking: bool = True) -> None:
        self._console = console
        self.show_thinking = show_thinking
        self._streaming: tuple[str, str] | None = None
        """(kind, session id) while a delta line is open: parallel subagents each get their own line."""
        self._labels: dict[str, str] = {}
        """Subagent session -> the short tag its lines start with (parallel children interleave)."""
        self._running: dict[str, str] = {}
        self._depth: dict[str, int] = {}
        self._status: Status | None = None

    @property
    def console(self) -> Console:
        """The console given, else the terminal's, made now (the first print)."""
        if self._console is None:
            from agent.terminal.console import terminal_console

            self._console = terminal_console()
        return self._console

    def _indent(self, event: Event) -> int:
        return self._depth.get(event.session_id, 1 if event.parent_tool_use_id else 0)

    def _line(self, event: Event, text: str, style: str) -> None:
        """One line of the runtime's own (a subagent's starts with its tag)."""
        from rich.text import Text

        label = self._labels.get(event.session_id)
        line = Text(text, style=style)
        self._print(event, line if label is None else Text.assemble((f"{label} │ ", "cyan"), line))

    def _print(self, event: Event, renderable: RenderableType) -> None:
        from rich.padding import Padding

        self._close_stream()
        self.console.print(Padding(renderable, (0, 0, 0, 2 * self._indent(event)), expand=False))

    def _close_stream(self) -> None:
        if self._streaming is not None:
            self.console.print()
            self._streaming = None

    def _delta(self, event: Event, kind: str, text: str, style: str) -> None:
        from rich.text import Text

        if self._streaming != (kind, event.session_id):
            self._close_stream()
            self.console.print(" " * (2 * self._indent(event)), end="")
            if label := self._labels.get(event.session_id):
                self.console.print(Text(f"{label} │ ", style="cyan"), end="")
            self._streaming = (kind, event.session_id)
        self.console.print(Text(for_terminal(text), style=style), end="", soft_wrap=True)

    def _refresh_status(self) -> None:
        if not self.console.is_terminal:
            return
        if not self._running:
            if self._status is not None:
                self._status.stop()
                self._status = None
            return
        from rich.markup import escape

        label = "running: " + ", ".join(self._running.values())
        if self._status is None:
            self._status = self.console.status(escape(label))
            self._status.start()
        else:
            self._status.update(escape(label))

    def handle(self, event: Event) -> None:
        """Show one event."""
        if isinstance(event, SessionStartedEvent):
            self._notices(event)
        elif isinstance(event, TextDeltaEvent):
            self._delta(event, "text", event.text, "")
        elif isinstance(event, ThinkingDeltaEvent) and self.show_thinking:
            self._delta(event, "thinking", event.text, "dim italic")
        elif isinstance(event, ToolCallStartedEvent):
            self._running[event.tool_use_id] = title = _name(event.title)
            self._line(event, f"{_GLYPH.get(event.kind, '•')} {title}", "bold")
            self._refresh_status()
        elif isinstance(event, ToolCallFinishedEvent):
            self._tool_finished(event)
        elif isinstance(event, PermissionAskedEvent):
            asked = f"? permission {_name(event.permission)} for {_name(event.title)}"
            self._line(event, asked, "yellow")
        elif isinstance(event, PermissionAnsweredEvent) and event.decision == "deny":
            self._line(event, f"✗ denied: {for_terminal(event.reason)}", "red")
        elif isinstance(event, SubagentStartedEvent):
            self._depth[event.child_session_id] = self._indent(event) + 1
            self._labels[event.child_session_id] = f"#{len(self._labels) + 1} {_name(event.agent)}"
            label = self._labels[event.child_session_id]
            self._line(event, f"▶ {label}: {_name(event.description)}", "cyan")
        elif isinstance(event, SubagentFinishedEvent):
            label = self._labels.get(event.child_session_id) or _name(event.agent)
            files = f", {len(event.files_changed)} files changed" if event.files_changed else ""
            self._line(event, f"◀ {label}: {event.subtype}{files}", "cyan")
        elif isinstance(event, ErrorEvent):
            style = "yellow" if event.retrying else "bold red"
            self._line(event, f"! {for_terminal(event.message)}", style)
        elif isinstance(event, ModelFallbackEvent):
            switch = f"! {_name(event.from_model)} is overloaded: this turn goes to {_name(event.to_model)}"
            self._line(event, switch, "yellow")
        elif isinstance(event, HookEvent):
            self._hook(event)
        elif isinstance(event, CompactionEvent):
            self._line(event, f"⋯ compacted {event.tokens_before} → {event.tokens_after} tokens", "dim")
        elif isinstance(event, ResultEvent) and event.parent_tool_use_id is None:
            self._close_stream()

    def _hook(self, event: HookEvent) -> None:
        """A hook that failed, decided or said something; a quiet success is not shown."""
        what = f"hook {_name(event.hook_event)} `{_name(event.command[:80])}`"
        if event.failed:
            self._line(event, f"! {what} failed: {for_terminal(event.message)}", "bold yellow")
        elif event.decision or event.message:
            said = ": ".join(filter(None, (event.decision, for_terminal(event.message))))
            self._line(event, f"⚓ {what}: {said}", "yellow")

    def _notices(self, event: SessionStartedEvent) -> None:
        """What confines the run, before anything else: no sandbox, network, refused workspace keys."""
        who = f"{_name(event.agent)}: " if event.parent_tool_use_id else ""
        for line in event.notices():  # a refused key names a file the repository chose
            style = "yellow" if line.startswith("refused: ") else "bold red"
            self._line(event, f"⚠ {who}{for_terminal(line)}", style)

    def _tool_finished(self, event: ToolCallFinishedEvent) -> None:
        title = self._running.pop(event.tool_use_id, None) or _name(event.name)
        self._refresh_status()
        seconds = event.duration_ms / 1000
        if event.is_error:
            first = event.output.strip().splitlines()[0] if event.output.strip() else "failed"
            self._line(event, f"  ✗ {title} ({seconds:.1f}s): {_name(first[:200])}", "red")
        else:
            self._line(event, f"  ✓ {title} ({seconds:.1f}s)", "green")
        for change in event.changes:
            if change.diff:
                lines = change.diff.splitlines()
                shown = "\n".join(lines[:_MAX_DIFF_LINES])
                if len(lines) > _MAX_DIFF_LINES:
                    shown += f"\n… {len(lines) - _MAX_DIFF_LINES} more lines"
                safe = for_terminal(shown)
                from rich.syntax import Syntax  # with pygments: 3 % of a text run's start, at its first diff

                self._print(event, Syntax(safe, "diff", theme="ansi_dark", background_color="default"))

    def summary(self, result: ResultEvent) -> None:
        """Files changed, turns, tokens, cost and time of the run."""
        from rich.text import Text

        self._close_stream()
        self._refresh_status()
        u = result.usage
        style = "green" if result.subtype == "success" else "red"
        self.console.print(Text(f"── {result.subtype} ──", style=f"bold {style}"))
        if result.files_changed:
            self.console.print(Text("files changed: " + ", ".join(_name(f) for f in result.files_changed)))
        for denial in result.permission_denials:
            reason = for_terminal(denial.reason)
            self.console.print(Text(f"denied: {_name(denial.tool_name)} ({reason})", style="red"))
        self.console.print(
            f"{result.num_turns} turns · {u.context_tokens} tokens in ({u.cache_read_input_tokens} cached)"
            f" · {u.output_tokens} out · "
            f"${result.total_cost_usd:.4f} · {result.duration_ms / 1000:.1f}s"
        )
