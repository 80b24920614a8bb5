"""tools/_line_endings: the LF view and its endings give back the exact text; a splice keeps endings."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tools._line_endings import Block, join_endings, span_blocks, splice, split_endings, usual_ending

_PIECES = ["a", "é", " ", "\t", "\r", "\n", "\r\n", "\r\r\n", "\n\r"]
texts = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)


@given(texts)
def test_split_then_join_is_the_same_text(text: str) -> None:
    view, endings = split_endings(text)
    assert len(endings) == view.count("\n")
    assert join_endings(view, endings) == text


def test_lone_cr_is_text_and_crlf_is_an_ending() -> None:
    view, endings = split_endings("foo\r\r\nbar\rbaz\n")
    assert view == "foo\r\nbar\rbaz\n"
    assert endings == ("\r\n", "\n")


def test_usual_ending_is_the_majority_and_lf_on_a_tie() -> None:
    assert usual_ending(["\r\n", "\r\n", "\n"]) == "\r\n"
    assert usual_ending(["\r\n", "\n"]) == "\n"
    assert usual_ending([]) == "\n"


def test_splice_keeps_replaced_and_kept_lines_endings() -> None:
    view, endings = split_endings("a\r\nb\nc\r\nd\r\n")
    blocks = [Block(start=2, stop=6, text="B\nX\nc\n")]
    new_view, new_endings = splice(view, endings, blocks)
    assert join_endings(new_view, new_endings) == "a\r\nB\nX\r\nc\r\nd\r\n"


def test_span_blocks_merge_two_replacements_on_one_line() -> None:
    view = "x x\ny\n"
    blocks = span_blocks(view, [(0, 1, "Z"), (2, 3, "Q")])
    assert blocks == [Block(0, 4, "Z Q\n")]
    assert splice(view, ("\r\n", "\n"), blocks) == ("Z Q\ny\n", ("\r\n", "\n"))


def test_a_replacement_that_joins_two_lines_keeps_the_later_ending() -> None:
    view, endings = split_endings("a\r\nb\nc\r\n")
    new_view, new_endings = splice(view, endings, span_blocks(view, [(2, 4, "B")]))
    assert join_endings(new_view, new_endings) == "a\r\nBc\r\n"
