"""Text that cannot drive a terminal: control characters shown as escapes, never sent raw.

A terminal obeys the bytes it is given. An escape sequence in model text, a tool's output, a file
name or a persona's description can write the clipboard (OSC 52), retitle the window (OSC 0/2),
plant a link (OSC 8), clear the screen, hide text (SGR 8) or move the cursor back over a line a
person is about to approve (CR, backspace). `for_terminal` is the one function every string goes
through on its way to a terminal; JSON output is not a terminal and keeps the exact text.

What it does, and why:
- C0 controls other than newline and tab, DEL, and the C1 controls U+0080-U+009F (an 8-bit CSI is
  U+009B) are shown as Python-style escapes (`\\x1b`, `\\x07`, `\\x9b`): visible, so a person sees
  that something was there and what it was, and inert. ESC itself is escaped, which disarms every
  sequence it would start (CSI, OSC, DCS, ...), even one split across two streamed pieces.
- CR before LF is a Windows line ending and is dropped; any other CR is shown as `\\r`, so
  `safe\\rrm -rf /` reads as what it is instead of `rm -rf /` printed over `safe`.
- Unicode bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069: "Trojan Source")
  are shown as `\\u202e`: they reorder what is shown, so code or a command would read differently
  from what runs.
- Lone surrogates (an undecodable byte in a file name) are shown as `\\udc9b`: written out with
  `surrogateescape` they would be raw bytes again, 0x9B among them.
- For names (`name=True`: file names, commands, titles) every invisible format character is marked
  too: zero-width spaces and joiners, word joiners, the BOM, soft hyphens, tag characters, line and
  paragraph separators; two names that look alike must be told apart. Prose keeps them, so emoji
  sequences (joined by U+200D) and scripts that need joiners print unchanged.
- `one_line=True` also shows newlines as `\\n`, for places where a second line would pass for the
  runtime's own output (a tool's title, a file name in a list).

Rich markup (`[link=...]`, `[bold red]`) is another way to inject: print the result as a
`rich.text.Text`, with `markup=False`, or through `rich.markup.escape`.

`strip_escape_sequences` is the other direction: what the model reads of a program's output, with
its colour and cursor codes removed (see docs/security.md, "Terminal").
"""

from __future__ import annotations

import functools
import re

_CONTROLS = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
"""C0 except tab and newline, DEL, C1."""
_SURROGATES = r"\ud800-\udfff"
_BIDI = r"\u202a-\u202e\u2066-\u2069"
_INVISIBLE = (
    r"\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u2028-\u202e"
    r"\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    r"\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
"""Unicode's format characters (category Cf) and the line and paragraph separators: each one
changes or hides what is shown without being shown itself. tests/terminal pins this list to the
running Python's unicodedata."""


@functools.cache
def _pattern(name: bool, one_line: bool) -> re.Pattern[str]:
    """Compiled on first use: `subagent --version` should not pay for four patterns."""
    extra = (_INVISIBLE if name else "") + ("\n" if one_line else "")
    return re.compile(f"[{_CONTROLS}{_SURROGATES}{_BIDI}{extra}]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x0D:
        return "\\r"
    if code == 0x0A:
        return "\\n"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def for_terminal(text: str, *, name: bool = False, one_line: bool = False) -> str:
    """`text` with nothing left that a terminal would act on, every such character shown escaped.

    The result holds no C0 control but newline and tab (no newline with `one_line`), no DEL, no C1
    control, no lone surrogate and no bidi control; with `name`, no invisible format character.
    Text without any of them comes back unchanged (tabs, newlines, emoji, CJK).

    Args:
        text: anything that came from outside the runtime's own code.
        name: the text names something (a file, a command, a title): mark invisible characters.
        one_line: the text must stay on one line: show newlines as `\\n`.
    """
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return _pattern(name, one_line).sub(_escaped, text)


@functools.cache
def _escape_sequence() -> re.Pattern[str]:
    return re.compile(
        r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI: colours (SGR), cursor moves, erases
        # OSC, DCS, SOS, PM and APC strings, ended by BEL or ST on the same line
        r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)"
        r"|\x1b[ -/]*[0-~]"  # the short escapes: character sets, keypad modes, save and restore, reset
    )


_INTRODUCER = re.compile(r"[\x1b\x90\x98\x9b\x9d-\x9f]")
"""What every escape sequence starts with: a text without one is returned as it is, quickly."""


def strip_escape_sequences(text: str) -> str:
    """A program's output as the model should read it: its ANSI escape sequences removed.

    Only whole sequences go (ECMA-48: CSI, the OSC/DCS/SOS/PM/APC strings ended by BEL or ST on the
    same line, and the short escapes); every other character stays as the program wrote it,
    carriage returns and backspaces included.
    """
    if not _INTRODUCER.search(text):
        return text
    return _escape_sequence().sub("", text)
