"""`AnthropicModel`: one streamed turn of the Messages API, over httpx2, with our retry policy.

The request is `ModelRequest.to_api_kwargs()` sent as the anthropic SDK would send it
(`agent.model._wire`), the reply's server-sent events are read by `agent.model._sse` and built
into the message by `agent.model._message`; nothing here imports the SDK, whose import takes
about two seconds of CPU that the first request would wait for (docs/decisions.md, "Model
client"). The SDK is used where it adds something: `models.retrieve` for a model the config does
not know (`model_info`), imported then.

One retry policy: 429 honouring `retry-after-ms` / `retry-after`, 529 and 5xx, connection
errors, an `overloaded_error` event inside a stream and a connection dropped mid-stream. A failed
turn is requested again from its start (no tool of the turn has run yet), announced by a
`RetryNotice`. A model still overloaded (529, `overloaded_error`) after the last try, when the
request names a `fallback_model`, is left for that model: a `FallbackNotice`, then the turn from
its start on the fallback, with the policy's tries of its own. After the last try, or on an error
retrying cannot fix, the failure becomes `agent.errors.ModelAPIError` (agent.model._errors).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.errors import (
    ApiConnectionError,
    ApiStatusError,
    InvalidResponseError,
    ModelAPIError,
    StreamIncompleteError,
    StreamShapeError,
)
from agent.model._http import start_client
from agent.model._message import MessageBuilder
from agent.model._sse import ServerSentEvent, SseDecoder
from agent.model._wire import credential, messages_url, request_body, request_headers
from agent.model.base import FallbackNotice, ModelInfo, ModelRequest, ModelStreamEvent, RetryNotice

if TYPE_CHECKING:
    import anthropic
    import httpx2

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False, repr=False)
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
        backoff: float = min(self.base_delay_s * 2 ** (attempt - 1), self.max_delay_s)  # int ** int is Any
        return backoff * (0.75 + random.random() / 4)


class AnthropicModel:
    """The Messages API, streamed; see the module docstring for the retry policy.

    `http_client` replaces the client made here (tests route it to respx); without one, the
    client is made in a background thread from the moment this object exists.
    """

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
        self._url = messages_url(base_url)
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._timeout_s = timeout_s
        self._http = http_client
        self._http_future: Future[httpx2.AsyncClient] | None = (
            None if http_client is not None else start_client(self._url, timeout_s)
        )
        self._sdk_client: anthropic.AsyncAnthropic | None = None
        self._info: dict[str, ModelInfo | None] = {}
        self._info_logged: set[str] = set()

    async def _client(self) -> httpx2.AsyncClient:
        if self._http is None:
            assert self._http_future is not None
            self._http = await asyncio.wrap_future(self._http_future)
        return self._http

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
                from agent.model._errors import classify_error  # at the first failure

                failure = classify_error(exc)
                if failure.retryable and attempt < self._retry.max_attempts:
                    delay = self._retry.delay(attempt, failure.retry_after_s)
                    yield RetryNotice(
                        message=failure.message, error_type=failure.error_type, attempt=attempt, delay_s=delay
                    )
                    await self._sleep(delay)
                    continue
                fallback = request.fallback_model
                if not failure.overloaded or fallback is None or fallback == kwargs["model"]:
                    raise failure.to_model_error(attempts=attempt) from exc
                message = str(failure.to_model_error(attempts=attempt))
                yield FallbackNotice(from_model=kwargs["model"], to_model=fallback, message=message)
                kwargs, attempt = {**kwargs, "model": fallback}, 0  # the fallback gets every try too

    async def _stream_once(self, kwargs: dict[str, Any]) -> AsyncIterator[ModelStreamEvent]:
        """One attempt: post the request, yield what the stream shows, then the whole message."""
        import httpx2

        client = await self._client()
        headers = request_headers(credential(self._api_key), kwargs.get("betas"))
        request = client.build_request(
            "POST", self._url, headers=headers, content=request_body(kwargs), timeout=self._timeout_s
        )
        try:
            response = await client.send(request, stream=True)
        except httpx2.TransportError as exc:
            raise ApiConnectionError(exc, timed_out=isinstance(exc, httpx2.TimeoutException)) from exc
        builder, decoder = MessageBuilder(beta="betas" in kwargs), SseDecoder()
        try:
            if response.status_code >= 400:
                raise ApiStatusError.from_body(response.status_code, await response.aread(), response.headers)
            async for chunk in response.aiter_bytes():
                for sse in _decoded(decoder, chunk):
                    if (event := _apply(builder, sse.event, sse.data, response.headers)) is not None:
                        yield event
            for sse in _decoded(decoder, None):
                if (event := _apply(builder, sse.event, sse.data, response.headers)) is not None:
                    yield event
        except httpx2.TransportError as exc:
            raise StreamIncompleteError.connection_lost(exc) from exc
        finally:
            await response.aclose()
        if not builder.stopped:
            raise StreamIncompleteError("the stream ended before message_stop")
        yield builder.done()

    async def model_info(self, model: str) -> ModelInfo | None:
        """`models.retrieve` through the SDK, with a short timeout; None when the API gives no answer.

        Only asked for a model the config does not list, so a configured run never imports the
        SDK. The limits are an optional refinement: without them the config's stay in force. An
        answer is kept for the client's life, the API not knowing the model (a 4xx) included; a
        transient failure (timeout, connection, 429, 5xx) is asked again next time. Each model's
        failure is logged once. Anything else (a bug) propagates.
        """
        if model in self._info:
            return self._info[model]
        import anthropic

        try:
            sdk = await self._sdk()
            got = await asyncio.wait_for(sdk.models.retrieve(model, timeout=5.0), 6.0)
        except (anthropic.APIError, TimeoutError) as exc:
            status = getattr(exc, "status_code", None) or 0
            transient = (
                isinstance(exc, TimeoutError | anthropic.APIConnectionError) or status == 429 or status >= 500
            )
            if model not in self._info_logged:
                self._info_logged.add(model)
                reason = "timed out" if isinstance(exc, TimeoutError) else str(exc)
                log.warning(
                    "no limits from the models API for %s (%s); the config's limits apply", model, reason
                )
            if not transient:
                self._info[model] = None
            return None
        info = ModelInfo(
            id=got.id,
            context_window=getattr(got, "max_input_tokens", None),
            max_output_tokens=getattr(got, "max_tokens", None),
        )
        self._info[model] = info
        return info

    async def _sdk(self) -> anthropic.AsyncAnthropic:
        if self._sdk_client is None:
            import anthropic

            self._sdk_client = anthropic.AsyncAnthropic(
                api_key=credential(self._api_key),
                base_url=self._base_url,
                http_client=await self._client(),
                max_retries=0,
                timeout=self._timeout_s,
            )
        return self._sdk_client


def _decoded(decoder: SseDecoder, chunk: bytes | None) -> list[ServerSentEvent]:
    """The events `chunk` completes (None: the body ended)."""
    try:
        return decoder.feed(chunk) if chunk is not None else decoder.finish()
    except UnicodeDecodeError as exc:
        raise InvalidResponseError(f"the stream is not UTF-8: {exc}") from exc


def _apply(builder: MessageBuilder, name: str, data: str, headers: httpx2.Headers) -> ModelStreamEvent | None:
    """One server-sent event into the message; an `error` event raises the API's error."""
    if not name or name == "ping":
        return None
    if name == "error":
        raise ApiStatusError.from_body(200, data.encode(), headers)
    if not data:
        return None
    try:
        return builder.apply(name, json.loads(data))
    except (ValueError, KeyError, TypeError, IndexError, StreamShapeError) as exc:
        raise InvalidResponseError(f"the {name} event cannot be read: {type(exc).__name__}: {exc}") from exc
