"""Classify a failure of one model turn: retry it or give up, and with what message.

The one place transport failures are read. The streaming client raises the exceptions below for
what the API answered (`ApiStatusError`: an error status, or an `error` event inside a stream),
for a request that never got an answer (`ApiConnectionError`), for a stream that ended early
(`StreamIncompleteError`) or that cannot be read (`InvalidResponseError`); a connection lost
while the stream is read is httpx2's own `TransportError`. Each maps to a `_Failure`, which
becomes `agent.errors.ModelAPIError` when the turn is given up.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent.errors import ModelAPIError

_RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
_RETRY_TYPES = frozenset({"overloaded_error", "api_error", "rate_limit_error", "timeout_error"})
_HINTS = {
    401: "check ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL for a compatible endpoint)",
    403: "the key lacks permission for this model or feature",
    404: "check the model id in agents.yaml, the persona's `model:` or --model",
    413: "the request is too large; compact the session or read files in smaller pieces",
}


class StreamIncompleteError(Exception):
    """The stream ended without `message_stop` (the connection closed early, cleanly)."""


class InvalidResponseError(Exception):
    """A reply that is not the Messages API's stream (data that is not JSON, events out of order)."""


class ApiConnectionError(Exception):
    """The request got no answer: the connection was refused, reset or timed out before one."""

    def __init__(self, cause: BaseException, *, timed_out: bool) -> None:
        self.timed_out = timed_out
        super().__init__(str(cause))


class ApiStatusError(Exception):
    """The API answered with an error: an error status, or an `error` event in a 200 stream."""

    def __init__(self, status: int, body: object, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        details = error.get("details") if isinstance(error.get("details"), dict) else {}
        self.error_type: str = _text(error.get("type")) or f"http_{status}"
        self.error_code: str = _text(details.get("error_code"))
        self.message: str = _text(error.get("message")) or _body_text(status, body)
        self.headers: Mapping[str, str] = headers or {}
        super().__init__(f"{status} {self.error_type}: {self.message}")

    @classmethod
    def from_body(cls, status: int, raw: bytes, headers: Mapping[str, str]) -> ApiStatusError:
        """From an error reply's body, JSON or not."""
        text = raw.decode("utf-8", "replace").strip()
        try:
            body: object = json.loads(text)
        except ValueError:
            body = text
        return cls(status, body, headers)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _body_text(status: int, body: object) -> str:
    if body in ("", None):
        return f"{status} status code (no body)"
    text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return text[:500]


@dataclass(frozen=True)
class _Failure:
    retryable: bool
    message: str
    error_type: str
    status: int | None = None
    retry_after_s: float | None = None

    def to_model_error(self, attempts: int) -> ModelAPIError:
        tries = f" (after {attempts} attempt{'s' if attempts != 1 else ''})" if attempts > 1 else ""
        return ModelAPIError(
            f"model API error: {self.message}{tries}",
            status=self.status,
            error_type=self.error_type,
            attempts=attempts,
        )


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value) * scale
        except ValueError:
            continue
    return None


def _status_failure(exc: ApiStatusError) -> _Failure:
    status, error_type, message = exc.status, exc.error_type, exc.message
    retry_after = _retry_after(exc.headers)
    hint = _HINTS.get(status)
    text = f"{status} {error_type}: {message}" + (f"; {hint}" if hint else "")
    if status == 429 and retry_after is None:
        # A spend limit answers 429 without retry-after: waiting will not help, retrying a few
        # times (bounded by the policy) covers a plain rate limit that forgot the header.
        retryable = "spend" not in exc.error_code and "spend" not in message.lower()
        return _Failure(retryable, text, error_type, status, None)
    retryable = (status in _RETRY_STATUS) or (status == 200 and error_type in _RETRY_TYPES)
    return _Failure(retryable, text, error_type, status, retry_after)


def classify_error(exc: BaseException) -> _Failure:
    """What went wrong, and whether trying the turn again may help."""
    import httpx2

    if isinstance(exc, ApiStatusError):
        return _status_failure(exc)
    if isinstance(exc, ApiConnectionError):
        if exc.timed_out:
            return _Failure(True, "the request timed out", "timeout")
        return _Failure(True, f"cannot reach the API: {exc}", "connection_error")
    if isinstance(exc, httpx2.TransportError):
        return _Failure(True, f"connection lost mid-stream: {type(exc).__name__}: {exc}", "connection_error")
    if isinstance(exc, StreamIncompleteError):
        return _Failure(True, str(exc), "connection_error")
    if isinstance(exc, InvalidResponseError):
        return _Failure(False, f"unexpected response: {exc}", "invalid_response")
    return _Failure(False, f"{type(exc).__name__}: {exc}", "internal_error")
