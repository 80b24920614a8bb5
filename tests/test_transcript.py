"""The typed transcript reads any stored or wire transcript and writes it back byte for byte."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.transcript import (
    ImageBlock,
    Message,
    OtherBlock,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    blocks_to_wire,
    messages_to_wire,
    parse_blocks,
    parse_messages,
    tool_uses,
)

MAIN_STORE = Path(__file__).parent / "sessions" / "data" / "main_store.db"
"""Sessions stored by the code before the typed transcript (tests/sessions/make_main_store.py)."""

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
_names = st.sampled_from(
    "type text thinking signature data id name input tool_use_id content is_error source citations".split()
)
_types = st.sampled_from(
    "text thinking redacted_thinking tool_use tool_result image document compaction server_tool_use "
    "web_search_tool_result".split()
)


@st.composite
def _block(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    """A block: usually the fields its type has, in any order, sometimes wrong values or extras."""
    kind = draw(_types)
    fields: dict[str, Any] = {"type": kind}
    typical = {
        "text": {"text": st.text()},
        "thinking": {"thinking": st.text(), "signature": st.text()},
        "redacted_thinking": {"data": st.text()},
        "tool_use": {
            "id": st.text(min_size=1),
            "name": st.text(),
            "input": st.dictionaries(st.text(), _json),
        },
        "image": {"source": st.dictionaries(st.text(), st.text())},
        "document": {"source": st.dictionaries(st.text(), st.text())},
        "compaction": {"content": st.text() | st.none()},
    }.get(kind, {})
    for name, values in typical.items():
        if draw(st.booleans()) or draw(st.booleans()):
            fields[name] = draw(values)
    if kind == "tool_result":
        fields["tool_use_id"] = draw(st.text())
        if depth == 0:
            fields["content"] = draw(st.text() | st.lists(_block(depth=1), max_size=3))
        if draw(st.booleans()):
            fields["is_error"] = draw(st.booleans() | st.integers(0, 1))
    for _ in range(draw(st.integers(0, 2))):  # odd values for known names, unknown names
        fields[draw(_names | st.text(max_size=5))] = draw(_json)
    order = draw(st.permutations(list(fields)))
    return {key: fields[key] for key in order}


_message = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant"]), "content": st.lists(_block(), max_size=4) | st.text()}
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_message, max_size=4))
def test_parse_then_serialize_gives_the_same_json(raw: list[dict[str, Any]]) -> None:
    messages = parse_messages(raw)
    assert json.dumps(messages_to_wire(messages), ensure_ascii=False) == json.dumps(raw, ensure_ascii=False)


def _stored_rows() -> list[tuple[str, str]]:
    """The stored rows, read from a copy (SQLite adds files beside a WAL database it opens)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "store.db"
        shutil.copyfile(MAIN_STORE, copy)
        with contextlib.closing(sqlite3.connect(copy)) as conn:
            return conn.execute("SELECT role, content FROM messages ORDER BY session_id, seq").fetchall()


def test_a_store_written_before_the_typed_transcript_reads_back_byte_for_byte() -> None:
    rows = _stored_rows()
    assert len(rows) == 10
    kinds: set[str] = set()
    for role, body in rows:
        message = Message.parse({"role": role, "content": json.loads(body)})
        assert json.dumps(blocks_to_wire(message.content), ensure_ascii=False) == body
        assert not any(isinstance(b, OtherBlock) for b in message.content), body
        kinds.update(type(b).__name__ for b in message.content)
    assert kinds == {"TextBlock", "ThinkingBlock", "ToolUseBlock", "ToolResultBlock"}


def test_the_stored_blocks_are_typed() -> None:
    assistant, results = (parse_blocks(json.loads(body)) for _, body in _stored_rows()[1:3])
    thinking = assistant[0]
    assert isinstance(thinking, ThinkingBlock) and thinking.signature == "sig-EqQBCkYIBRgC"
    assert [call.arguments for call in tool_uses(assistant)] == [
        {"file_path": "note.txt"}, {"file_path": "dot.png"}, {"file_path": "missing.txt"},
    ]  # fmt: skip
    note, picture, missing = results
    assert isinstance(note, ToolResultBlock) and note.text() == "     1\thello\n     2\tworld"
    assert isinstance(picture, ToolResultBlock) and isinstance(picture.content[1], ImageBlock)
    assert picture.text().endswith("\n[image]") and not picture.text_only
    assert picture.text(mark_other=False).endswith("70 bytes)")
    assert isinstance(missing, ToolResultBlock) and missing.failed and not note.failed


def test_blocks_built_here_write_the_keys_the_loop_has_always_sent() -> None:
    built = [
        TextBlock(text="hi"),
        ToolResultBlock(tool_use_id="t1", content="out", is_error=True),
        ToolResultBlock(tool_use_id="t2", content=[TextBlock(text="a")]),
        ToolUseBlock(id="t3", name="read", input={}),
    ]
    assert json.dumps(blocks_to_wire(built)) == json.dumps([
        {"type": "text", "text": "hi"},
        {"type": "tool_result", "tool_use_id": "t1", "content": "out", "is_error": True},
        {"type": "tool_result", "tool_use_id": "t2", "content": [{"type": "text", "text": "a"}]},
        {"type": "tool_use", "id": "t3", "name": "read", "input": {}},
    ])  # fmt: skip


def test_a_block_whose_fields_do_not_fit_its_type_is_kept_as_it_came() -> None:
    raw = [{"type": "tool_use", "id": 7, "name": "read"}, {"type": "text"}, {"type": "web_fetch", "x": [1]}]
    blocks = parse_blocks(raw)
    assert all(isinstance(b, OtherBlock) for b in blocks)
    assert blocks_to_wire(blocks) == raw and tool_uses(blocks) == []


def test_a_cut_off_call_keeps_its_input_and_has_no_arguments() -> None:
    (call,) = tool_uses(parse_blocks([{"type": "tool_use", "id": "t", "name": "write", "input": '{"file'}]))
    assert call.input == '{"file' and call.arguments == {}


def test_a_pydantic_field_of_blocks_reads_and_writes_the_wire_form() -> None:
    from pydantic import BaseModel

    from agent.transcript import Content, Transcript

    class Holder(BaseModel):
        content: Content
        messages: Transcript

    raw_blocks = [
        {"text": "a", "type": "text", "citations": None},
        {"type": "tool_use", "id": "t", "name": "n"},
    ]
    raw_messages = [{"content": "hi", "role": "user"}]
    held = Holder.model_validate({"content": raw_blocks, "messages": raw_messages})
    assert isinstance(held.content[1], ToolUseBlock) and isinstance(held.messages[0], Message)
    dumped = json.loads(held.model_dump_json())
    assert dumped["content"] == raw_blocks and json.dumps(dumped["content"]) == json.dumps(raw_blocks)
    assert dumped["messages"] == raw_messages
