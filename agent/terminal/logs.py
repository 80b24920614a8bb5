"""Log lines on a terminal: a warning quotes an exception, and an exception quotes a file name.

Commands that configure no logging (`run`, `chat`, `demo`, ...) print warnings through Python's
`logging.lastResort` handler on stderr; `guard_last_resort` makes it pass each line through
`for_terminal` first.
"""

from __future__ import annotations

import logging

from agent.terminal.safe_text import for_terminal


class TerminalLogFormatter(logging.Formatter):
    """Formats as usual, then shows any control character escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return for_terminal(super().format(record))


def guard_last_resort() -> None:
    """Give the handler of last resort (stderr, WARNING and up) the escaping formatter."""
    if logging.lastResort is not None:
        logging.lastResort.setFormatter(TerminalLogFormatter())
