"""Pay the anthropic SDK's one-time costs off the critical path.

`import anthropic` takes over a second of CPU, and the SDK builds its pydantic schemas lazily the
first time a stream carries each kind of block, which adds most of a second to the first tool
step. `start_prewarm()` does both in a daemon thread while the runtime assembles the rest (the
registry, tools, git status): it imports the SDK and streams one canned reply (text, thinking
and a tool call) through the SDK's own streaming code over an in-memory transport. Nothing leaves
the process. A later `import anthropic` in the main thread waits for the import to finish.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Mapping

_started = threading.Event()


def _sse(name: str, data: Mapping[str, object]) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


def _canned_reply() -> bytes:
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_warm",
            "type": "message",
            "role": "assistant",
            "model": "warm",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        },
    }
    blocks = [
        (
            {"type": "thinking", "thinking": "", "signature": ""},
            [{"type": "thinking_delta", "thinking": "t"}, {"type": "signature_delta", "signature": "s"}],
        ),
        ({"type": "text", "text": ""}, [{"type": "text_delta", "text": "x"}]),
        (
            {"type": "tool_use", "id": "toolu_warm", "name": "read", "input": {}},
            [{"type": "input_json_delta", "partial_json": '{"file_path": "a"}'}],
        ),
    ]
    body = _sse("message_start", start)
    for index, (block, deltas) in enumerate(blocks):
        body += _sse(
            "content_block_start", {"type": "content_block_start", "index": index, "content_block": block}
        )
        for delta in deltas:
            body += _sse(
                "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
            )
        body += _sse("content_block_stop", {"type": "content_block_stop", "index": index})
    body += _sse(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": 5},
        },
    )
    body += _sse("message_stop", {"type": "message_stop"})
    return body.encode()


async def _stream_canned() -> None:
    import anthropic
    import httpx2

    payload = _canned_reply()
    transport = httpx2.MockTransport(
        lambda request: httpx2.Response(200, content=payload, headers={"content-type": "text/event-stream"})
    )
    async with httpx2.AsyncClient(transport=transport) as http:
        client = anthropic.AsyncAnthropic(
            api_key="prewarm", base_url="http://prewarm.invalid", http_client=http, max_retries=0
        )
        async with client.messages.stream(
            model="warm", max_tokens=8, messages=[{"role": "user", "content": "x"}]
        ) as stream:
            async for _ in stream:
                pass
            await stream.get_final_message()


def _warm() -> None:
    try:
        asyncio.run(_stream_canned())
    except Exception:  # warming is an optimisation: the real request reports real errors
        return


def start_prewarm() -> None:
    """Start warming once per process (a daemon thread; returns at once)."""
    if _started.is_set():
        return
    _started.set()
    threading.Thread(target=_warm, name="anthropic-prewarm", daemon=True).start()
