"""Classify a failure of one model turn: retry it or give up, and with what message.

The one place a failed attempt is judged. The streaming client translates each failure where it
enters into a `ModelReplyError` (agent.errors): what the API answered (`ApiStatusError`: an error
status, or an `error` event inside a stream), a request that never got an answer
(`ApiConnectionError`), a stream that ended or whose connection dropped early
(`StreamIncompleteError`), or one that cannot be read (`InvalidResponseError`). Each maps to a
`_Failure`, which becomes `agent.errors.ModelAPIError` when the turn is given up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from agent.errors import (
    ApiConnectionError,
    ApiStatusError,
    InvalidResponseError,
    ModelAPIError,
    StreamIncompleteError,
)

_RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
_RETRY_TYPES = frozenset({"overloaded_error", "api_error", "rate_limit_error", "timeout_error"})
_HINTS = {
    401: "check ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL for a compatible endpoint)",
    403: "the key lacks permission for this model or feature",
    404: "check the model id in agents.yaml, the persona's `model:` or --model",
    413: "the request is too large; compact the session or read files in smaller pieces",
}


_PROGRAMMING_ERRORS = (RuntimeError, TypeError, AttributeError, NameError, AssertionError, ImportError)
"""Raised by code, not by the network: no second try goes differently. RuntimeError includes a
client used after its event loop closed ("Event loop is closed"), which the transport reports as
a connection failure whose cause is that RuntimeError."""


@dataclass(frozen=True, eq=False, repr=False)
class _Failure:
    """A failed request, classified: whether another attempt may succeed, and what to report."""

    retryable: bool
    message: str
    error_type: str
    status: int | None = None
    retry_after_s: float | None = None

    @property
    def overloaded(self) -> bool:
        """The API is overloaded (529, or an `overloaded_error` in a stream): another model may answer."""
        return self.status == 529 or self.error_type == "overloaded_error"

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


def _programming_error(exc: BaseException) -> BaseException | None:
    """The programming error `exc` is or wraps (its causes, a few levels deep), if any."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, _PROGRAMMING_ERRORS):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def classify_error(exc: BaseException) -> _Failure:
    """What went wrong, and whether trying the turn again may help.

    A failure that would be retried but is or wraps a programming error (a client used after its
    event loop closed, a TypeError) is not: no second try goes differently.
    """
    failure = _classified(exc)
    if failure.retryable and (bug := _programming_error(exc)) is not None:
        return _Failure(
            False,
            f"{type(bug).__name__}: {bug} (an error in the program, not the network: not retried)",
            "internal_error",
        )
    return failure


def _classified(exc: BaseException) -> _Failure:
    """The failure `exc` reports, read from the client's `ModelReplyError`s."""
    if isinstance(exc, ApiStatusError):
        return _status_failure(exc)
    if isinstance(exc, ApiConnectionError):
        if exc.timed_out:
            return _Failure(True, "the request timed out", "timeout")
        return _Failure(True, f"cannot reach the API: {exc}", "connection_error")
    if isinstance(exc, StreamIncompleteError):
        return _Failure(True, str(exc), "connection_error")
    if isinstance(exc, InvalidResponseError):
        return _Failure(False, f"unexpected response: {exc}", "invalid_response")
    return _Failure(False, f"{type(exc).__name__}: {exc}", "internal_error")
