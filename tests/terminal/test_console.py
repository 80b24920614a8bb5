"""The guard under every print: a rich console that cannot write a raw control character."""

from __future__ import annotations

import io
import re

from rich.console import Console
from rich.text import Text

from agent.terminal.console import terminal_console

HOSTILE = "a\x1b]0;pwned\x1b\\b\x1b[2Jc\x9b8md"
ESCAPE_SEQUENCE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|.)")


def colour_terminal(make: type[Console] | None = None) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    options = dict(file=out, width=80, force_terminal=True, color_system="truecolor")
    return (make(**options) if make else terminal_console(**options)), out  # type: ignore[arg-type]


def test_a_raw_string_printed_by_mistake_reaches_the_terminal_escaped() -> None:
    control, raw = colour_terminal(Console)
    control.print(Text(HOSTILE, style="red"))
    assert "\x1b]0;pwned" in raw.getvalue() and "\x9b" in raw.getvalue()  # plain rich passes it on

    console, out = colour_terminal()
    console.print(Text(HOSTILE, style="red"))
    console.print(HOSTILE, markup=False)
    written = out.getvalue()
    assert "\\x1b]0;pwned\\x1b\\b\\x1b[2Jc\\x9b8md" in written
    assert "\x9b" not in written
    # what is left is rich's own styling: colour on, colour off
    assert {m.group() for m in ESCAPE_SEQUENCE.finditer(written)} <= {"\x1b[31m", "\x1b[0m"}


def test_riches_own_control_codes_still_work() -> None:
    """The live spinner hides the cursor and redraws its line: those segments are rich's own."""
    console, out = colour_terminal()
    with console.status("working"):
        console.print("inside")
    written = out.getvalue()
    assert "\x1b[?25l" in written and "\x1b[?25h" in written and "inside" in written
