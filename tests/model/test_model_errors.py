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
    model = client_for(router)
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
    model = client_for(router)
    with caplog.at_level("WARNING", logger="agent.model.anthropic_client"):
        assert await model.model_info("claude-gone") is None
        assert await model.model_info("claude-gone") is None
    assert route.call_count == 1
    assert len([r for r in caplog.records if "claude-gone" in r.getMessage()]) == 1


async def test_model_info_does_not_hide_a_bug(monkeypatch) -> None:
    model = client_for(respx.Router())

    class Broken:
        async def retrieve(self, *args: object, **kwargs: object) -> object:
            raise AttributeError("a bug, not an API failure")

    monkeypatch.setattr(model._sdk(), "models", Broken())
    try:
        await model.model_info("claude-x")
    except AttributeError as exc:
        assert "a bug" in str(exc)
    else:
        raise AssertionError("model_info swallowed a programming error")
