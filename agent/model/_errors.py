"""Classify a failure of one model turn: retry it or give up, and with what message.

The one place anthropic and transport exceptions are read. Every exception maps to a
`_Failure`, which becomes `agent.errors.ModelAPIError` when the turn is given up.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.errors import ModelAPIError

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
client used after its event loop closed ("Event loop is closed"), which the SDK reports as an
APIConnectionError whose cause is that RuntimeError."""


class StreamIncompleteError(Exception):
    """The stream ended without `message_stop` (the connection closed early, cleanly)."""


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


def _retry_after(headers: object) -> float | None:
    get = getattr(headers, "get", None)
    if get is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = get(name)
        if value is None:
            continue
        try:
            return float(value) * scale
        except ValueError:
            continue
    return None


def _status_failure(exc: object) -> _Failure:
    status = getattr(exc, "status_code", None)
    error_type = getattr(exc, "type", None) or type(exc).__name__
    message = getattr(exc, "api_message", None) or getattr(exc, "message", None) or str(exc)
    response = getattr(exc, "response", None)
    retry_after = _retry_after(getattr(response, "headers", None))
    hint = _HINTS.get(status or 0)
    text = f"{status} {error_type}: {message}" + (f"; {hint}" if hint else "")
    if status == 429 and retry_after is None:
        # A spend limit answers 429 without retry-after: waiting will not help, retrying a few
        # times (bounded by the policy) covers a plain rate limit that forgot the header.
        code = getattr(exc, "error_code", None) or ""
        retryable = "spend" not in code and "spend" not in message.lower()
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
    """What went wrong, and whether trying the turn again may help."""
    import anthropic
    import httpx2

    if (bug := _programming_error(exc)) is not None:
        return _Failure(
            False,
            f"{type(bug).__name__}: {bug} (an error in the program, not the network: not retried)",
            "internal_error",
        )
    if isinstance(exc, anthropic.APIStatusError):
        return _status_failure(exc)
    if isinstance(exc, anthropic.APITimeoutError):
        return _Failure(True, "the request timed out", "timeout")
    if isinstance(exc, anthropic.APIConnectionError):
        return _Failure(True, f"cannot reach the API: {exc.__cause__ or exc}", "connection_error")
    if isinstance(exc, httpx2.TransportError):
        return _Failure(True, f"connection lost mid-stream: {type(exc).__name__}: {exc}", "connection_error")
    if isinstance(exc, StreamIncompleteError):
        return _Failure(True, str(exc), "connection_error")
    if isinstance(exc, anthropic.APIResponseValidationError):
        return _Failure(False, f"unexpected response: {exc.message}", "invalid_response", exc.status_code)
    if isinstance(exc, anthropic.AnthropicError):
        return _Failure(False, f"{type(exc).__name__}: {exc}", type(exc).__name__)
    return _Failure(False, f"{type(exc).__name__}: {exc}", "internal_error")
