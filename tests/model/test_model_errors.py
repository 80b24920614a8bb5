"""Every failure of a turn maps to ModelAPIError with a decision to retry; the models API is optional."""

from __future__ import annotations

import json

import httpx
import httpx2
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.errors import (
    ApiConnectionError,
    ApiStatusError,
    InvalidResponseError,
    ModelAPIError,
    StreamIncompleteError,
)
from agent.model._errors import classify_error
from agent.model.anthropic_client import AnthropicModel, RetryPolicy
from agent.model.base import ModelRequest
from tests.model import sse
from tests.model.respx_bridge import bridged_client

URL = "https://api.anthropic.com/v1/messages"


def api_error(status: int, kind: str, message: str = "m", **headers: str) -> ApiStatusError:
    return ApiStatusError(status, {"type": "error", "error": {"type": kind, "message": message}}, headers)


@pytest.mark.parametrize(
    "exc,retryable,error_type",
    [
        (api_error(400, "invalid_request_error"), False, "invalid_request_error"),
        (api_error(401, "authentication_error"), False, "authentication_error"),
        (api_error(404, "not_found_error"), False, "not_found_error"),
        (api_error(413, "request_too_large"), False, "request_too_large"),
        (api_error(429, "rate_limit_error", **{"retry-after": "3"}), True, "rate_limit_error"),
        (api_error(429, "rate_limit_error", "You have reached your spend limit."), False, "rate_limit_error"),
        (api_error(500, "api_error"), True, "api_error"),
        (api_error(529, "overloaded_error"), True, "overloaded_error"),
        (api_error(200, "overloaded_error"), True, "overloaded_error"),
        (api_error(200, "invalid_request_error"), False, "invalid_request_error"),
        (ApiStatusError.from_body(502, b"<html>Bad gateway</html>", {}), True, "http_502"),
        (ApiStatusError.from_body(403, b"", {}), False, "http_403"),
        (ApiConnectionError(OSError("refused"), timed_out=False), True, "connection_error"),
        (ApiConnectionError(OSError("slow"), timed_out=True), True, "timeout"),
        (StreamIncompleteError.connection_lost(httpx2.ReadError("reset")), True, "connection_error"),
        (StreamIncompleteError("cut"), True, "connection_error"),
        (InvalidResponseError("not JSON"), False, "invalid_response"),
        (RuntimeError("bug"), False, "internal_error"),
    ],
)
def test_each_failure_is_classified(exc: Exception, retryable: bool, error_type: str) -> None:
    failure = classify_error(exc)
    assert (failure.retryable, failure.error_type) == (retryable, error_type)
    error = failure.to_model_error(attempts=2)
    assert isinstance(error, ModelAPIError) and error.error_type == error_type
    assert str(error).startswith("model API error: ") and str(error).endswith("(after 2 attempts)")


def test_retry_after_and_hints_reach_the_message() -> None:
    limited = classify_error(api_error(429, "rate_limit_error", **{"retry-after-ms": "1500"}))
    assert limited.retry_after_s == 1.5
    denied = classify_error(api_error(401, "authentication_error", "invalid key"))
    assert "401 authentication_error: invalid key; check ANTHROPIC_API_KEY" in denied.message


@settings(deadline=None)  # a loaded machine; the property is not about speed
@given(
    status=st.integers(min_value=100, max_value=599),
    body=st.one_of(st.binary(max_size=80), st.builds(lambda d: json.dumps(d).encode(), st.dictionaries(
        st.sampled_from(["type", "error", "message"]),
        st.recursive(st.none() | st.text(max_size=8) | st.integers(), lambda c: st.dictionaries(
            st.sampled_from(["type", "message", "details", "error_code"]), c, max_size=3), max_leaves=6),
        max_size=3))),
)  # fmt: skip
def test_any_error_reply_is_classified_without_raising(status: int, body: bytes) -> None:
    failure = classify_error(ApiStatusError.from_body(status, body, {}))
    assert failure.status == status and failure.error_type and failure.message.startswith(str(status))


def _client(router: respx.Router) -> AnthropicModel:
    async def no_wait(_: float) -> None:
        return None

    return AnthropicModel(api_key="k", http_client=bridged_client(router), sleep=no_wait,
                          retry=RetryPolicy(max_attempts=3))  # fmt: skip


@pytest.mark.parametrize(
    "body,says",
    [
        (sse.message_start() + sse.event("content_block_delta", {"oops": 1}) + sse.message_end("end_turn"),
         "content_block_delta"),
        ("event: message_start\ndata: {not json\n\n", "message_start"),
        (sse.text_block(0, "before the start") + sse.message_end("end_turn"), "before message_start"),
    ],
)  # fmt: skip
async def test_a_reply_that_is_not_the_api_stream_is_not_retried(body: str, says: str) -> None:
    router = respx.Router()
    route = router.post(URL).mock(
        return_value=httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})
    )
    request = ModelRequest(model="m", system=[], messages=[{"role": "user", "content": "x"}], max_tokens=5)
    with pytest.raises(ModelAPIError) as info:
        async for _ in _client(router).stream(request):
            pass
    assert info.value.error_type == "invalid_response" and says in str(info.value)
    assert route.call_count == 1


async def test_no_key_is_a_clear_error_before_any_request() -> None:
    router = respx.Router()
    route = router.post(URL).mock(return_value=httpx.Response(200))
    client = AnthropicModel(http_client=bridged_client(router))
    request = ModelRequest(model="m", system=[], messages=[{"role": "user", "content": "x"}], max_tokens=5)
    with pytest.raises(ModelAPIError, match="ANTHROPIC_API_KEY"):
        async for _ in client.stream(request):
            pass
    assert route.call_count == 0


async def test_model_info_is_read_once_and_optional() -> None:
    router = respx.Router()
    route = router.get("https://api.anthropic.com/v1/models/claude-x").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": "claude-x",
                "type": "model",
                "display_name": "X",
                "created_at": "2026-01-01T00:00:00Z",
                "max_input_tokens": 500_000,
                "max_tokens": 128_000,
            },
        )
    )
    router.get("https://api.anthropic.com/v1/models/claude-gone").mock(
        return_value=httpx.Response(
            404, json={"type": "error", "error": {"type": "not_found_error", "message": "no"}}
        )
    )
    model = AnthropicModel(api_key="test-key", http_client=bridged_client(router))
    info = await model.model_info("claude-x")
    assert info is not None and (info.context_window, info.max_output_tokens) == (500_000, 128_000)
    await model.model_info("claude-x")
    assert route.call_count == 1
    assert await model.model_info("claude-gone") is None


async def test_model_info_after_a_transient_failure_asks_again_and_logs_once(caplog) -> None:
    router = respx.Router()
    body = {"id": "claude-x", "type": "model", "display_name": "X", "created_at": "2026-01-01T00:00:00Z"}
    answer = httpx.Response(200, json={**body, "max_input_tokens": 500_000, "max_tokens": 128_000})
    overloaded = httpx.Response(
        529, json={"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}
    )
    route = router.get("https://api.anthropic.com/v1/models/claude-x").mock(
        side_effect=[overloaded, overloaded, answer, answer]
    )
    model = _client(router)
    with caplog.at_level("WARNING", logger="agent.model.anthropic_client"):
        assert await model.model_info("claude-x") is None
        assert await model.model_info("claude-x") is None  # not cached: asked again
        info = await model.model_info("claude-x")
        assert info is not None and info.context_window == 500_000
        assert await model.model_info("claude-x") == info  # the answer is kept
    assert route.call_count == 3
    lines = [r.getMessage() for r in caplog.records if "claude-x" in r.getMessage()]
    assert len(lines) == 1 and "529" in lines[0] and "config" in lines[0], lines


async def test_model_info_the_api_does_not_know_is_kept_as_none_and_logged_once(caplog) -> None:
    router = respx.Router()
    route = router.get("https://api.anthropic.com/v1/models/claude-gone").mock(
        return_value=httpx.Response(
            404, json={"type": "error", "error": {"type": "not_found_error", "message": "no"}}
        )
    )
    model = _client(router)
    with caplog.at_level("WARNING", logger="agent.model.anthropic_client"):
        assert await model.model_info("claude-gone") is None
        assert await model.model_info("claude-gone") is None
    assert route.call_count == 1
    assert len([r for r in caplog.records if "claude-gone" in r.getMessage()]) == 1


async def test_model_info_does_not_hide_a_bug(monkeypatch) -> None:
    model = _client(respx.Router())

    class Broken:
        async def retrieve(self, *args: object, **kwargs: object) -> object:
            raise AttributeError("a bug, not an API failure")

    monkeypatch.setattr(await model._sdk(), "models", Broken())
    try:
        await model.model_info("claude-x")
    except AttributeError as exc:
        assert "a bug" in str(exc)
    else:
        raise AssertionError("model_info swallowed a programming error")
