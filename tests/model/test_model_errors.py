"""Every anthropic error maps to ModelAPIError; the models API is optional and read once."""

from __future__ import annotations

import inspect

import anthropic
import httpx
import httpx2
import respx

from agent.errors import ModelAPIError
from agent.model._errors import classify_error
from agent.model.anthropic_client import AnthropicModel
from tests.model.respx_bridge import bridged_client

URL = "https://api.anthropic.com/v1/messages"


def client_for(router: respx.Router) -> AnthropicModel:
    return AnthropicModel(api_key="test-key", http_client=bridged_client(router))


def _instance(cls: type[BaseException]) -> BaseException:
    req = httpx2.Request("POST", URL)
    if issubclass(cls, anthropic.APIStatusError):
        return cls("failed", response=httpx2.Response(500, request=req), body=None)
    if issubclass(cls, anthropic.APITimeoutError):
        return cls(request=req)
    if issubclass(cls, anthropic.APIConnectionError):
        return cls(request=req)
    if issubclass(cls, anthropic.APIResponseValidationError):
        return cls(httpx2.Response(200, request=req), None)
    if issubclass(cls, anthropic.APIError):
        return cls("failed", req, body=None)
    return cls("failed")


def test_every_anthropic_error_class_is_mapped() -> None:
    classes = {
        obj
        for _, obj in inspect.getmembers(anthropic, inspect.isclass)
        if issubclass(obj, anthropic.AnthropicError)
    }
    assert len(classes) > 20
    for cls in classes:
        mapped = classify_error(_instance(cls)).to_model_error(attempts=1)
        assert isinstance(mapped, ModelAPIError), cls
        assert mapped.error_type, cls


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
    model = client_for(router)
    info = await model.model_info("claude-x")
    assert info is not None and (info.context_window, info.max_output_tokens) == (500_000, 128_000)
    await model.model_info("claude-x")
    assert route.call_count == 1
    assert await model.model_info("claude-gone") is None


def _wrapped(cause: BaseException) -> anthropic.APIConnectionError:
    """What the SDK raises when its transport fails: an APIConnectionError from the cause."""
    try:
        try:
            raise cause
        except BaseException as inner:
            raise anthropic.APIConnectionError(request=httpx2.Request("POST", URL)) from inner
    except anthropic.APIConnectionError as exc:
        return exc


def test_a_closed_event_loop_or_a_programming_error_is_not_retried() -> None:
    closed = classify_error(_wrapped(RuntimeError("Event loop is closed")))
    assert not closed.retryable and "Event loop is closed" in closed.message
    assert closed.error_type == "internal_error"
    assert not classify_error(_wrapped(TypeError("'NoneType' object is not callable"))).retryable
    # the control: a transport failure under the same wrapper is still retried
    assert classify_error(_wrapped(httpx2.ConnectError("refused"))).retryable
    assert classify_error(_wrapped(ConnectionRefusedError(111, "refused"))).retryable
