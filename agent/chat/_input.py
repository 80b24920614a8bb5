"""The chat's input line: prompt_toolkit with history, multi-line input and the status toolbar.

prompt_toolkit because it is the maintained library the Python REPLs (ptpython, IPython) are
built on: persistent history, key bindings, a bottom toolbar and async prompts that share the
event loop the agent runs on.

Keys: Enter sends; Esc then Enter, Ctrl-J, or a trailing backslash start a new line; Ctrl-C
clears a line with text, and on an empty line asks to leave; Ctrl-D on an empty line leaves.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent import paths

HISTORY_FILE = "chat_history"
"""Under `agent.paths.data_home()`."""


def history_path() -> Path:
    return paths.data_home() / HISTORY_FILE


def _key_bindings() -> Any:
    from prompt_toolkit.key_binding import KeyBindings

    bindings = KeyBindings()

    @bindings.add("escape", "enter")
    @bindings.add("c-j")
    def _newline(event: Any) -> None:
        event.current_buffer.insert_text("\n")

    @bindings.add("enter")
    def _send_or_continue(event: Any) -> None:
        buffer = event.current_buffer
        document = buffer.document
        if document.is_cursor_at_the_end and document.text.endswith("\\"):
            buffer.delete_before_cursor(1)
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    @bindings.add("c-c")
    def _interrupt(event: Any) -> None:
        if event.current_buffer.text:
            event.current_buffer.reset()
        else:
            event.app.exit(exception=KeyboardInterrupt())

    return bindings


def make_prompt_session(toolbar: Callable[[], str], *, with_history: bool = True) -> Any:
    """A PromptSession for the chat line (or, without history, for answering asks)."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    if with_history:
        path = history_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        history: Any = FileHistory(str(path))
    else:
        history = InMemoryHistory()
    return PromptSession(
        history=history,
        multiline=with_history,
        key_bindings=_key_bindings() if with_history else None,
        prompt_continuation=lambda width, line, wrap: "… ".rjust(width),
        bottom_toolbar=toolbar,
    )
