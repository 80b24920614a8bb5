"""`AnthropicModel`: one streamed turn over `anthropic.AsyncAnthropic().messages.stream`.

One retry policy (ours; the SDK's own retries are off): 429 honouring `retry-after-ms` /
`retry-after`, 529 and 5xx, connection errors, an `overloaded_error` event inside a stream and a
connection dropped mid-stream. A failed turn is requested again from its start (no tool of the
turn has run yet), announced by a `RetryNotice`. After the last try, or on an error retrying
cannot fix, every anthropic exception becomes `agent.errors.ModelAPIError` here, at the boundary.
`anthropic` is imported lazily: it costs over a second of CPU.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.errors import ModelAPIError
from agent.events import Usage
from agent.model._errors import StreamIncompleteError, classify_error
from agent.model.base import (
    MessageDoneEvent,
    ModelInfo,
    ModelRequest,
    ModelStreamEvent,
    RetryNotice,
    TextDeltaStreamEvent,
    ThinkingDeltaStreamEvent,
    tool_input_problem,
)

if TYPE_CHECKING:
    import anthropic
    import httpx2


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to try one turn again."""

    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 60.0
    """A server asking for a longer wait than this is not waited for."""

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after_s)
        backoff = min(self.base_delay_s * 2.0 ** (attempt - 1), self.max_delay_s)
        return backoff * (0.75 + random.random() / 4)


class AnthropicModel:
    """The Messages API, streamed; see the module docstring for the retry policy."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        http_client: httpx2.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        timeout_s: float = 600.0,
    ) -> None:
        self._api_key = api_key
        self._base_url = base_url
        self._http_client = http_client
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._timeout_s = timeout_s
        self._client: anthropic.AsyncAnthropic | None = None
        self._info: dict[str, ModelInfo | None] = {}

    def _sdk(self) -> anthropic.AsyncAnthropic:
        if self._client is None:
            import anthropic

            try:
                self._client = anthropic.AsyncAnthropic(
                    api_key=self._api_key,
                    base_url=self._base_url,
                    http_client=self._http_client,
                    max_retries=0,
                    timeout=self._timeout_s,
                )
            except anthropic.AnthropicError as exc:
                raise classify_error(exc).to_model_error(attempts=0) from exc
        return self._client

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        """Stream one turn, retrying it from its start on a transient failure."""
        kwargs = request.to_api_kwargs()
        attempt = 0
        while True:
            attempt += 1
            try:
                async for event in self._stream_once(kwargs):
                    yield event
                return
            except ModelAPIError:
                raise
            except Exception as exc:  # every failure is classified; unknown ones are not retried
                failure = classify_error(exc)
                if not failure.retryable or attempt >= self._retry.max_attempts:
                    raise failure.to_model_error(attempts=attempt) from exc
                delay = self._retry.delay(attempt, failure.retry_after_s)
                yield RetryNotice(
                    message=failure.message, error_type=failure.error_type, attempt=attempt, delay_s=delay
                )
                await self._sleep(delay)

    async def _stream_once(self, kwargs: dict[str, Any]) -> AsyncIterator[ModelStreamEvent]:
        client = self._sdk()
        json_bufs: dict[int, str] = {}
        tool_ids: dict[int, str] = {}
        stopped = False
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

    async def model_info(self, model: str) -> ModelInfo | None:
        """`models.retrieve`, once per model, with a short timeout; None when unreachable."""
        if model in self._info:
            return self._info[model]
        info: ModelInfo | None = None
        try:
            got = await asyncio.wait_for(self._sdk().models.retrieve(model, timeout=5.0), 6.0)
            info = ModelInfo(
                id=got.id,
                context_window=getattr(got, "max_input_tokens", None),
                max_output_tokens=getattr(got, "max_tokens", None),
            )
        except Exception:  # optional refinement: config limits stay in force
            info = None
        self._info[model] = info
        return info


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
    """A response content block as the request param it must be sent back as (unchanged)."""
    data: dict[str, Any] = block.model_dump(mode="json", exclude_none=True)
    data.pop("parsed_output", None)
    if data.get("type") == "text" and not data.get("citations"):
        data.pop("citations", None)
    return data
