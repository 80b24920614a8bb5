"""`for_terminal` (what a person's terminal gets) and `strip_escape_sequences` (what the model reads)."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.terminal.safe_text import _pattern, for_terminal, strip_escape_sequences

BIDI = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
ZERO_WIDTH = {
    "\u200b": "\\u200b",
    "\u200c": "\\u200c",
    "\u200d": "\\u200d",
    "\u2060": "\\u2060",
    "\ufeff": "\\ufeff",
    "\u00ad": "\\xad",
    "\U000e0041": "\\U000e0041",
}


def is_unsafe_for_a_terminal(char: str) -> bool:
    """The oracle: what must never reach a terminal raw (independent of the module's regexes)."""
    code = ord(char)
    c0 = code < 0x20 and char not in "\n\t"
    return c0 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or char in BIDI


@pytest.mark.parametrize(
    ("attack", "shown"),
    [
        ("\x1b]52;c;cm0gLXJmIH4=\x07", "\\x1b]52;c;cm0gLXJmIH4=\\x07"),  # OSC 52: write the clipboard
        ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),  # OSC 0: the window title
        ("\x1b]2;pwned\x1b\\", "\\x1b]2;pwned\\x1b\\"),  # OSC 2, ended by ST
        (
            "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
            "\\x1b]8;;https://evil.example\\x1b\\click\\x1b]8;;\\x1b\\",
        ),  # OSC 8: a hyperlink
        ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),  # CSI: clear the screen, cursor home
        ("\x1b[8mhidden\x1b[0m", "\\x1b[8mhidden\\x1b[0m"),  # SGR 8: concealed text
        ("\x1bP1$qm\x1b\\", "\\x1bP1$qm\\x1b\\"),  # DCS: a terminal query
        ("\x1bc", "\\x1bc"),  # full reset
        ("ding\x07", "ding\\x07"),  # BEL
        ("rm -rf /" + "\x08" * 8 + "ls", "rm -rf /" + "\\x08" * 8 + "ls"),  # backspace over a command
        ("safe\rrm -rf /", "safe\\rrm -rf /"),  # CR overwriting a line
        ("del\x7f", "del\\x7f"),
        ("\x9b2J", "\\x9b2J"),  # 8-bit CSI
        ("\x9d0;title\x9c", "\\x9d0;title\\x9c"),  # 8-bit OSC and ST
        ("next\x85line", "next\\x85line"),  # NEL
        ("nul\x00", "nul\\x00"),
        (
            "isAdmin \u202e } \u2066if (isAdmin)\u2069 \u2066 { begin admins only",
            "isAdmin \\u202e } \\u2066if (isAdmin)\\u2069 \\u2066 { begin admins only",
        ),  # Trojan Source
        ("name\udc9b.txt", "name\\udc9b.txt"),  # a file name with an undecodable byte 0x9B
    ],
)
def test_each_kind_of_control_is_shown_escaped(attack: str, shown: str) -> None:
    assert for_terminal(attack) == shown
    assert for_terminal(attack, name=True) == shown


@pytest.mark.parametrize(
    "text",
    [
        "plain ascii, punctuation: [bold red]not markup here[/] {} <> \\ ` ~",
        "tabs\tand\nnewlines\n\n",
        "emoji 🎉 👍🏽 ❤️ 🇫🇷 family 👨\u200d👩\u200d👧",
        "a flag of tag characters: 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        "CJK 漢字かなカナ 한국어, combining é (e\u0301), Arabic مرحبا, Hebrew שלום, Devanagari नमस्ते",
        "zero-width joiners in prose: क्\u200dष, می\u200cخواهم",
    ],
)
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert for_terminal(text) == text


def test_crlf_is_a_line_ending_and_a_lone_cr_is_shown() -> None:
    assert for_terminal("one\r\ntwo\r\n") == "one\ntwo\n"
    assert for_terminal("50%\r100%\r\n") == "50%\\r100%\n"


def test_names_mark_invisible_characters_and_one_line_shows_newlines() -> None:
    for char, escaped in ZERO_WIDTH.items():
        assert for_terminal(f"rm{char}.txt", name=True) == f"rm{escaped}.txt"
        assert for_terminal(f"rm{char}.txt") == f"rm{char}.txt"  # prose keeps them
    assert for_terminal("a.txt\n✓ looks fine", name=True, one_line=True) == "a.txt\\n✓ looks fine"
    assert for_terminal("a\u2028b", name=True) == "a\\u2028b"
    assert for_terminal("tab\there", one_line=True) == "tab\there"


def test_the_names_list_holds_every_format_character_of_this_pythons_unicode() -> None:
    """Category Cf (and the separators Zl, Zp) as `unicodedata` knows them; the list may hold a
    few more that a newer Unicode assigned (they are unassigned, Cn, here)."""
    names = _pattern(True, False)
    prose = _pattern(False, False)
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        marked = bool(names.match(char)) and not prose.match(char)
        if category in ("Cf", "Zl", "Zp") and char not in BIDI:
            assert marked, f"U+{code:04X} ({category}) is not marked in names"
        elif marked:
            assert category == "Cn", f"U+{code:04X} ({category}) is marked but is not a format character"


# Controls and look-alikes are drawn often, so that most examples hold several of them.
hostile_chars = st.one_of(
    st.characters(max_codepoint=0xA0),
    st.sampled_from([*BIDI, *ZERO_WIDTH, "\r", "\n", "\t", "\x1b", "\x9b", "\u2028", "\udc9b"]),
    st.characters(exclude_categories=()),  # the whole of Unicode, lone surrogates included
)


@settings(max_examples=500)
@given(st.text(hostile_chars), st.booleans(), st.booleans())
def test_nothing_a_terminal_acts_on_survives(text: str, name: bool, one_line: bool) -> None:
    out = for_terminal(text, name=name, one_line=one_line)
    assert not any(is_unsafe_for_a_terminal(c) for c in out)
    assert "\x1b" not in out and "\r" not in out
    out.encode("utf-8")  # strict: no lone surrogate is left to become a raw byte
    if one_line:
        assert "\n" not in out
    if name:
        assert not any(unicodedata.category(c) in ("Cf", "Zl", "Zp") for c in out)
    assert for_terminal(out, name=name, one_line=one_line) == out  # escapes are themselves safe


@given(st.text(st.characters(exclude_categories=("Cc", "Cs"), exclude_characters=BIDI)))
def test_text_without_controls_comes_back_unchanged(text: str) -> None:
    assert for_terminal(text) == text


# --- what the model reads of a program's output ------------------------------------------------

PYTEST_COLOURS = (
    "\x1b[1m============ test session starts ============\x1b[0m\n"
    "tests/test_app.py \x1b[32m.\x1b[0m\x1b[31mF\x1b[0m\x1b[32m                [100%]\x1b[0m\n"
    "\x1b[31m\x1b[1m___ test_sum ___\x1b[0m\n"
)


def test_colours_and_cursor_codes_are_removed_from_program_output() -> None:
    assert strip_escape_sequences(PYTEST_COLOURS) == (
        "============ test session starts ============\n"
        "tests/test_app.py .F                [100%]\n"
        "___ test_sum ___\n"
    )
    assert strip_escape_sequences("\x1b[01;34mdir\x1b[0m  \x1b[01;32mrun.sh\x1b[0m\n") == "dir  run.sh\n"
    link = "see \x1b]8;;https://x.example\x1b\\the docs\x1b]8;;\x1b\\."
    assert strip_escape_sequences(link) == "see the docs."
    assert strip_escape_sequences("a\x1b]52;c;c2VjcmV0\x07b\x1b]0;title\x1b\\c") == "abc"
    assert strip_escape_sequences("\x1bP1$qm\x1b\\ok \x1b(B\x1b=\x1b7x\x1b8 \x9b31mred\x9b0m") == "ok x red"
    assert strip_escape_sequences("\x1b[?25l\x1b[2K\x1b[1Adone\x1b[?25h") == "done"


def test_everything_else_of_the_output_is_kept() -> None:
    text = "50%\r100%\nbold via backspace: N\x08NA\x08AM\x08ME\ttab \x07bell 漢字 🎉\n"
    assert strip_escape_sequences(text) is text
    # an OSC left open does not swallow the lines after it: only its introducer goes
    assert strip_escape_sequences("a\x1b]0;open\nnext line\n") == "a0;open\nnext line\n"


sgr = st.lists(st.integers(0, 255), max_size=4).map(lambda ps: "\x1b[" + ";".join(map(str, ps)) + "m")
cursor = st.tuples(st.integers(0, 99), st.sampled_from("ABCDEFGHJKfhlsu")).map(lambda t: f"\x1b[{t[0]}{t[1]}")
osc = (
    st.tuples(
        st.sampled_from(["0;", "2;", "52;c;", "8;;", "1337;"]),
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E)),
        st.sampled_from(["\x07", "\x1b\\"]),
    )
    .map("".join)
    .map(lambda s: "\x1b]" + s)
)
short = st.sampled_from(["\x1b(B", "\x1b)0", "\x1b=", "\x1b>", "\x1b7", "\x1b8", "\x1bc", "\x1bM"])
plain = st.text(
    st.characters(exclude_characters=["\x1b"], exclude_categories=("Cs",), max_codepoint=0x7E)
    | st.characters(min_codepoint=0xA0, exclude_categories=("Cs",))
)


@given(st.lists(st.tuples(plain, st.one_of(sgr, cursor, osc, short))), plain)
def test_stripping_leaves_exactly_the_text_between_the_sequences(
    pieces: list[tuple[str, str]], end: str
) -> None:
    output = "".join(text + sequence for text, sequence in pieces) + end
    assert strip_escape_sequences(output) == "".join(text for text, _ in pieces) + end
