"""Route the anthropic SDK's httpx2 requests through a respx router.

respx patches `httpx`, but anthropic (since 1.0) speaks through `httpx2`, so `respx.mock` never
sees its requests. `RespxTransport` is an `httpx2.AsyncBaseTransport` that turns each request
into an `httpx.Request`, hands it to `router.async_handler`, and streams the answer back as an
`httpx2.Response`. Transport errors raised by a route (before the reply, or while its body is
read, for a connection dropped mid-stream) are re-raised as the httpx2 class of the same name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import httpx2
import respx


def _as_httpx2_error(exc: httpx.TransportError) -> Exception:
    cls = getattr(httpx2, type(exc).__name__, httpx2.TransportError)
    return cls(str(exc))


class _BridgedStream(httpx2.AsyncByteStream):
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._response.is_stream_consumed:  # respx read a plain body already
            yield self._response.content
            return
        try:
            async for chunk in self._response.aiter_raw():
                yield chunk
        except httpx.TransportError as exc:
            raise _as_httpx2_error(exc) from exc

    async def aclose(self) -> None:
        await self._response.aclose()


class RespxTransport(httpx2.AsyncBaseTransport):
    """An httpx2 transport answered by a respx router (its routes, side effects and call records)."""

    def __init__(self, router: respx.Router) -> None:
        self.router = router

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        req = httpx.Request(
            request.method, str(request.url), headers=list(request.headers.multi_items()), content=body
        )
        try:
            resp = await self.router.async_handler(req)
        except httpx.TransportError as exc:
            raise _as_httpx2_error(exc) from exc
        return httpx2.Response(
            resp.status_code,
            headers=list(resp.headers.multi_items()),
            stream=_BridgedStream(resp),
            request=request,
        )


def bridged_client(router: respx.Router) -> httpx2.AsyncClient:
    """An httpx2 client for `AsyncAnthropic(http_client=...)` whose requests go to `router`."""
    return httpx2.AsyncClient(transport=RespxTransport(router))


class DroppingStream(httpx.AsyncByteStream):
    """A reply body that sends `head` and then loses the connection (a raw ReadError)."""

    def __init__(self, head: bytes) -> None:
        self._head = head

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._head
        raise httpx.ReadError("connection reset by peer")
