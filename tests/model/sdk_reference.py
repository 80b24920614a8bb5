"""The reference the streaming client is held to: the same turn through the anthropic SDK.

`SdkReferenceModel` is `AnthropicModel` (the same retry policy and classification) whose one
attempt goes through `anthropic.AsyncAnthropic().messages.stream` (or `beta.messages.stream`)
and `get_final_message()`, as the runtime streamed before the lean client: the SDK builds and
sends the request, reads the stream and accumulates the message, and its content blocks are
dumped as the SDK dumps them. The SDK's exceptions are read into the facts the lean client
raises (`agent.errors.ModelReplyError`), so both go through one classification. Tests send the same
turns through both and compare the bytes sent and the events yielded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx2

from agent.errors import (
    ApiConnectionError,
    ApiStatusError,
    InvalidResponseError,
    StreamIncompleteError,
)
from agent.events import Usage
from agent.model.anthropic_client import AnthropicModel
from agent.model.base import (
    MessageDoneEvent,
    ModelStreamEvent,
    TextDeltaStreamEvent,
    ThinkingDeltaStreamEvent,
    tool_input_problem,
)


def _as_our_error(exc: anthropic.AnthropicError) -> Exception:
    """An SDK exception as the facts the lean client raises for the same failure."""
    if isinstance(exc, anthropic.APIStatusError):
        return ApiStatusError(exc.status_code, exc.body, exc.response.headers)
    if isinstance(exc, anthropic.APITimeoutError):
        return ApiConnectionError(exc.__cause__ or exc, timed_out=True)
    if isinstance(exc, anthropic.APIConnectionError):
        return ApiConnectionError(exc.__cause__ or exc, timed_out=False)
    return InvalidResponseError(str(exc))


class SdkReferenceModel(AnthropicModel):
    """`AnthropicModel` whose attempts go through the SDK's streaming helpers."""

    def __init__(self, *, http_client: httpx2.AsyncClient, api_key: str = "test-key", **kw: Any) -> None:
        super().__init__(api_key=api_key, http_client=http_client, **kw)
        self._reference = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=kw.get("base_url"),
            http_client=http_client,
            max_retries=0,
            timeout=600.0,
        )

    async def _stream_once(self, kwargs: dict[str, Any]) -> AsyncIterator[ModelStreamEvent]:
        answered = False
        try:
            async for event in self._sdk_attempt(kwargs):
                answered = True
                yield event
        except anthropic.APIConnectionError as exc:
            if answered and isinstance(exc.__cause__, httpx2.TransportError):
                # the SDK wraps a drop mid-stream like a refused connection
                raise StreamIncompleteError.connection_lost(exc.__cause__) from exc
            raise _as_our_error(exc) from exc
        except anthropic.AnthropicError as exc:
            raise _as_our_error(exc) from exc

    async def _sdk_attempt(self, kwargs: dict[str, Any]) -> AsyncIterator[ModelStreamEvent]:
        json_bufs: dict[int, str] = {}
        tool_ids: dict[int, str] = {}
        stopped = False
        client = self._reference
        messages = client.beta.messages if "betas" in kwargs else client.messages
        async with messages.stream(**kwargs) as stream:
            async for event in stream:
                etype = getattr(event, "type", None)
                if etype == "content_block_start" and event.content_block.type == "tool_use":
                    tool_ids[event.index] = event.content_block.id
                    json_bufs[event.index] = ""
                elif etype == "content_block_delta":
                    delta = event.delta
                    if delta.type == "text_delta":
                        yield TextDeltaStreamEvent(text=delta.text)
                    elif delta.type == "thinking_delta":
                        yield ThinkingDeltaStreamEvent(text=delta.thinking)
                    elif delta.type == "input_json_delta" and event.index in json_bufs:
                        json_bufs[event.index] += delta.partial_json
                elif etype == "message_stop":
                    stopped = True
            if not stopped:
                raise StreamIncompleteError("the stream ended before message_stop")
            message = await stream.get_final_message()
        yield _done_event(message, json_bufs, tool_ids)


def _done_event(message: Any, json_bufs: dict[int, str], tool_ids: dict[int, str]) -> MessageDoneEvent:
    problems = {tool_ids[i]: tool_input_problem(raw, message.stop_reason) for i, raw in json_bufs.items()}
    invalid = {tool_id: problem for tool_id, problem in problems.items() if problem is not None}
    content = [_block_param(block) for block in message.content]
    for block in content:
        if block.get("type") == "tool_use" and not isinstance(block.get("input"), dict):
            block["input"] = {}
    usage = message.usage
    return MessageDoneEvent(
        content=content,
        stop_reason=message.stop_reason,
        usage=Usage(
            input_tokens=usage.input_tokens or 0,
            output_tokens=usage.output_tokens or 0,
            cache_read_input_tokens=usage.cache_read_input_tokens or 0,
            cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
        ),
        invalid_tool_inputs=invalid,
    )


def _block_param(block: Any) -> dict[str, Any]:
    """A response content block as the SDK dumps it to send back."""
    if isinstance(block, dict):
        return block
    data: dict[str, Any] = block.model_dump(mode="json", exclude_none=True)
    data.pop("parsed_output", None)
    if data.get("type") == "text" and not data.get("citations"):
        data.pop("citations", None)
    return data
