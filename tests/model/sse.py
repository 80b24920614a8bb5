"""Realistic Messages API SSE bodies, built from the event shapes the API documents."""

from __future__ import annotations

import json
from typing import Any


def event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


def message_start(
    input_tokens: int = 10, cache_read: int = 0, cache_write: int = 0, model: str = "claude-sonnet-5-5"
) -> str:
    return event(
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": "msg_01",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": input_tokens,
                    "output_tokens": 1,
                    "cache_read_input_tokens": cache_read,
                    "cache_creation_input_tokens": cache_write,
                },
            },
        },
    )


def text_block(index: int, text: str, pieces: int = 2) -> str:
    out = event(
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
    )
    step = max(1, len(text) // pieces)
    for i in range(0, len(text), step):
        out += event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "text_delta", "text": text[i : i + step]},
            },
        )
    return out + event("content_block_stop", {"type": "content_block_stop", "index": index})


def thinking_block(index: int, thinking: str, signature: str) -> str:
    out = event(
        "content_block_start",
        {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
    )
    out += event(
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "thinking_delta", "thinking": thinking},
        },
    )
    out += event(
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "signature_delta", "signature": signature},
        },
    )
    return out + event("content_block_stop", {"type": "content_block_stop", "index": index})


def tool_block(
    index: int,
    tool_id: str,
    name: str,
    input: dict[str, Any] | None = None,
    raw_json: str | None = None,
    stop: bool = True,
) -> str:
    raw = raw_json if raw_json is not None else json.dumps(input or {})
    out = event(
        "content_block_start",
        {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "tool_use", "id": tool_id, "name": name, "input": {}},
        },
    )
    half = len(raw) // 2
    for piece in (raw[:half], raw[half:]):
        out += event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "input_json_delta", "partial_json": piece},
            },
        )
    if stop:
        out += event("content_block_stop", {"type": "content_block_stop", "index": index})
    return out


def message_end(stop_reason: str, output_tokens: int = 20) -> str:
    return event(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"type": "message_delta", "stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": output_tokens},
        },
    ) + event("message_stop", {"type": "message_stop"})


def ping() -> str:
    return event("ping", {"type": "ping"})


def overloaded() -> str:
    return event("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})


def reply(
    *blocks: str,
    stop_reason: str = "end_turn",
    input_tokens: int = 10,
    cache_read: int = 0,
    output_tokens: int = 20,
) -> str:
    """A whole streamed reply: start, ping, the blocks, the stop."""
    return (
        message_start(input_tokens, cache_read)
        + ping()
        + "".join(blocks)
        + message_end(stop_reason, output_tokens)
    )
