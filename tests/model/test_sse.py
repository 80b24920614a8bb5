"""The SSE reader: the events of a body do not depend on how the network cut it into chunks."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.model._sse import ServerSentEvent, SseDecoder
from tests.model import sse


def read(chunks: list[bytes]) -> list[ServerSentEvent]:
    decoder = SseDecoder()
    return [event for chunk in chunks for event in decoder.feed(chunk)] + decoder.finish()


def cut(body: bytes, points: list[int]) -> list[bytes]:
    edges = [0, *sorted(p % (len(body) + 1) for p in points), len(body)]
    return [body[a:b] for a, b in itertools.pairwise(edges)]


def test_the_fields_of_the_standard() -> None:
    body = (
        b": a comment\r\nevent: one\r\ndata: first\r\ndata:second\r\nid: 7\r\nretry: 10\r\n\r\n"
        b"data: no name\n\nevent: two\rdata: {}\r\r"
        b"event: unfinished\ndata: x\n"
    )
    assert read([body]) == [
        ServerSentEvent("one", "first\nsecond"),
        ServerSentEvent("", "no name"),
        ServerSentEvent("two", "{}"),
    ]  # the last event never got its blank line: not dispatched


@settings(deadline=None)  # a loaded machine; the property is not about speed
@given(
    text=st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=40
    ),
    endings=st.sampled_from([b"\n", b"\r\n", b"\r"]),
    points=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
)
def test_any_chunking_reads_the_same_events(text: str, endings: bytes, points: list[int]) -> None:
    body = sse.reply(sse.text_block(0, text or "x", pieces=3), stop_reason="end_turn").encode()
    body = body.replace(b"\n", endings)
    whole = read([body])
    assert [e.event for e in whole][:2] == ["message_start", "ping"] and whole[-1].event == "message_stop"
    assert read(cut(body, points)) == whole
