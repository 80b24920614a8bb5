"""Build one assistant message from the Messages API's stream events, as they arrive.

`MessageBuilder.apply` takes each event (name and parsed data) and returns what the loop shows
at once (a text or thinking delta, a tool call being written); `done()` is the whole message as
the SDK's `get_final_message()` would hold it: text (with its citations), thinking with its
signature, redacted thinking, tool calls with their streamed input parsed at the block's stop
(as the SDK parses it, partial JSON included, so a cut-off call keeps what arrived), server tool
blocks kept as they came, and usage from `message_start` overwritten by `message_delta`'s
cumulative counts.

The blocks go back to the API in the next request unchanged, so they are laid out as the SDK
lays them out (its models' field order, no null fields): `_FIELD_ORDER` (`_BETA_FIELD_ORDER`
for a request with betas, which the SDK types with other models) for the blocks the loop
handles, `_model_order` for the objects inside them. A block of another type (server tool
results, blocks newer than this client) is sent back as it came, less its null fields. A tool
input that is not JSON is reported in `invalid_tool_inputs` (the model is told and the call
never runs); the SDK stopped the whole turn there.
"""

from __future__ import annotations

from typing import Any

import jiter

from agent.errors import StreamShapeError
from agent.events import Usage
from agent.model.base import (
    MessageDoneEvent,
    ModelStreamEvent,
    TextDeltaStreamEvent,
    ThinkingDeltaStreamEvent,
    tool_input_problem,
)

_FIELD_ORDER = {
    "text": ("citations", "text", "type"),
    "thinking": ("signature", "thinking", "type"),
    "redacted_thinking": ("data", "type"),
    "tool_use": ("id", "caller", "input", "name", "type", "toolset_name"),
    "server_tool_use": ("id", "caller", "input", "name", "type"),
}
"""The SDK's field order of each block it types (pinned against its models by a test)."""
_BETA_FIELD_ORDER = {
    **_FIELD_ORDER,
    "tool_use": ("id", "input", "name", "type", "caller", "toolset_name"),
    "server_tool_use": ("id", "input", "name", "type", "caller"),
    "mcp_tool_use": ("id", "input", "name", "server_name", "type"),
    "compaction": ("content", "encrypted_content", "type", "signature", "tool_changes"),
}
"""The same for a request with betas, whose reply the SDK types with its `Beta*` models."""
_TRACKS_INPUT = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
_NESTED = frozenset({"citations", "caller"})
"""Fields that hold SDK models (laid out by `_model_order`) rather than free JSON like `input`."""
_USAGE_FIELDS = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")


def _model_order(value: Any) -> Any:
    """An SDK model's dump of a JSON object: `id` first, the other fields in alphabetical order
    (the generated models' order), null fields dropped; lists element by element."""
    if isinstance(value, list):
        return [_model_order(item) for item in value]
    if not isinstance(value, dict):
        return value
    keys = sorted(value, key=lambda key: (key != "id", key))
    return {key: _model_order(value[key]) for key in keys if value[key] is not None}


def _as_sent(block: dict[str, Any], layout: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """A finished block as it goes back to the API."""
    order = layout.get(block.get("type", ""))
    if order is None:
        return {key: value for key, value in block.items() if value is not None}
    known = [key for key in order if key in block]
    extra = [key for key in block if key not in order]
    out = {key: block[key] for key in known + extra if block[key] is not None}
    for key in _NESTED & out.keys():
        out[key] = _model_order(out[key])
    if out.get("type") == "text" and not out.get("citations"):
        out.pop("citations", None)
    return out


class MessageBuilder:
    """The message of one attempt, event by event."""

    def __init__(self, *, beta: bool = False) -> None:
        self._layout = _BETA_FIELD_ORDER if beta else _FIELD_ORDER
        self.started = False
        self.stopped = False
        """`message_stop` arrived: the stream was complete."""
        self._blocks: list[dict[str, Any]] = []
        self._json: dict[int, str] = {}
        self._tool_ids: dict[int, str] = {}
        self._stop_reason: str | None = None
        self._usage: dict[str, Any] = {}

    def apply(self, name: str, data: dict[str, Any]) -> ModelStreamEvent | None:
        """Take one event; what to show for it now, if anything.

        Raises:
            StreamShapeError: the event does not fit the stream so far.
            KeyError, TypeError, IndexError: the event lacks a field its type must have.
        """
        if name == "message_start":
            self.started = True
            message = data["message"]
            self._usage = dict(message.get("usage") or {})
            self._blocks = [dict(block) for block in message.get("content") or []]
            return None
        if not self.started and name in ("content_block_start", "content_block_delta", "message_delta"):
            raise StreamShapeError(f"{name} before message_start")
        if name == "content_block_start":
            self._start_block(data["index"], dict(data["content_block"]))
        elif name == "content_block_delta":
            return self._delta(data["index"], data["delta"])
        elif name == "content_block_stop":
            self._parse_input(data["index"])
        elif name == "message_delta":
            self._message_delta(data)
        elif name == "message_stop":
            self.stopped = True
        return None  # ping, and event types this client does not know

    def _start_block(self, index: int, block: dict[str, Any]) -> None:
        self._blocks.append(block)  # the SDK appends too: deltas name the position
        kind = block.get("type")
        if kind in _TRACKS_INPUT:
            self._json[index] = ""
        if kind == "tool_use":
            self._tool_ids[index] = block["id"]

    def _delta(self, index: int, delta: dict[str, Any]) -> ModelStreamEvent | None:
        if not 0 <= index < len(self._blocks):
            raise StreamShapeError(f"a delta for block {index}, which never started")
        block, kind = self._blocks[index], delta.get("type")
        if kind == "text_delta":
            if block.get("type") == "text":
                block["text"] = block.get("text", "") + delta["text"]
            return TextDeltaStreamEvent(text=delta["text"])
        if kind == "thinking_delta":
            if block.get("type") == "thinking":
                block["thinking"] = block.get("thinking", "") + delta["thinking"]
            return ThinkingDeltaStreamEvent(text=delta["thinking"])
        if kind == "signature_delta" and block.get("type") == "thinking":
            block["signature"] = delta["signature"]
        elif kind == "input_json_delta" and index in self._json:
            self._json[index] += delta["partial_json"]
        elif kind == "citations_delta" and block.get("type") == "text":
            block["citations"] = [*(block.get("citations") or []), delta["citation"]]
        elif kind == "compaction_delta" and block.get("type") == "compaction":
            block["content"] = delta.get("content")  # the SDK replaces both, as the API sends them whole
            block["encrypted_content"] = delta.get("encrypted_content")
        return None

    def _parse_input(self, index: int) -> None:
        """A tool block's input from its streamed JSON (partial JSON keeps what arrived, as the
        SDK's partial parser does; JSON that cannot be read leaves the input empty)."""
        raw = self._json.get(index)
        if not raw or not 0 <= index < len(self._blocks):
            return
        try:
            self._blocks[index]["input"] = jiter.from_json(raw.encode(), partial_mode=True)
        except ValueError:
            self._blocks[index]["input"] = {}

    def _message_delta(self, data: dict[str, Any]) -> None:
        self._stop_reason = data["delta"].get("stop_reason")
        usage = data.get("usage") or {}
        self._usage["output_tokens"] = usage.get("output_tokens")
        for field in _USAGE_FIELDS:  # cumulative: a count given replaces the start's
            if usage.get(field) is not None:
                self._usage[field] = usage[field]

    def done(self) -> MessageDoneEvent:
        """The complete message (call after the stream ended with `message_stop`)."""
        for index in self._json:
            self._parse_input(index)  # idempotent; covers a block cut before its stop
        problems = {
            self._tool_ids[index]: tool_input_problem(raw, self._stop_reason)
            for index, raw in self._json.items()
            if index in self._tool_ids
        }
        content = [_as_sent(block, self._layout) for block in self._blocks]
        for block in content:
            if block.get("type") == "tool_use" and not isinstance(block.get("input"), dict):
                block["input"] = {}
        usage = self._usage
        return MessageDoneEvent(
            content=content,
            stop_reason=self._stop_reason,
            usage=Usage(
                input_tokens=usage.get("input_tokens") or 0,
                output_tokens=usage.get("output_tokens") or 0,
                cache_read_input_tokens=usage.get("cache_read_input_tokens") or 0,
                cache_creation_input_tokens=usage.get("cache_creation_input_tokens") or 0,
            ),
            invalid_tool_inputs={tool_id: p for tool_id, p in problems.items() if p is not None},
        )
