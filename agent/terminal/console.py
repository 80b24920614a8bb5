"""The rich console every terminal front end prints through, with a last guard on what it writes.

Each print site makes its text safe with `for_terminal` before rich lays it out (so widths are
right and escapes are visible where they were). The guard here is the net under those sites: a
render hook that passes every segment rich is about to write through `for_terminal` too, except
the segments rich marks as its own control codes (the cursor moves of the live spinner). A site
that forgets still cannot write a raw escape sequence; it can only misjudge a width.

rich is imported at the top: import this module inside the command that prints, as the renderer is.
"""

from __future__ import annotations

from typing import IO, Any

from rich.console import Console, ConsoleOptions, ConsoleRenderable, RenderableType, RenderHook, RenderResult
from rich.segment import Segment

from agent.terminal.safe_text import for_terminal


def terminal_console(*, stderr: bool = False, file: IO[str] | None = None, **options: Any) -> Console:
    """A `rich.console.Console` (highlighting off unless asked) that cannot write raw controls."""
    options.setdefault("highlight", False)
    console = Console(stderr=stderr, file=file, **options)
    console.push_render_hook(ControlGuardHook())
    return console


class ControlGuardHook(RenderHook):
    """Wraps everything printed so that its text segments go through `for_terminal`."""

    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        return [_Guarded(renderable) for renderable in renderables]


class _Guarded:
    """Renders `inner`, then neutralises what a segment's text would do to the terminal."""

    def __init__(self, inner: RenderableType) -> None:
        self.inner = inner

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for segment in console.render(self.inner, options):
            if segment.control:
                yield segment
                continue
            safe = for_terminal(segment.text)
            yield segment if safe == segment.text else Segment(safe, segment.style)
