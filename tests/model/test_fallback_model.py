"""A turn the model stays overloaded on (529) after the retry policy's tries goes to the request's
fallback model, from its start; the local Messages API server answers the 529s."""

from __future__ import annotations

from typing import Any

import pytest

from agent.errors import ModelAPIError
from agent.model.anthropic_client import AnthropicModel, RetryPolicy
from agent.model.base import ModelRequest
from tests.model import sse
from tests.model.messages_server import MessagesServer

MAIN, FALLBACK = "claude-sonnet-5-5", "claude-haiku-4-5"


def _request(fallback: str | None) -> ModelRequest:
    messages = [{"role": "user", "content": "hi"}]
    return ModelRequest(model=MAIN, system=[], messages=messages, max_tokens=64, fallback_model=fallback)


async def _stream(server: MessagesServer, request: ModelRequest) -> list[Any]:
    client = AnthropicModel(api_key="test-key", base_url=server.url, retry=RetryPolicy(max_attempts=3))
    return [item async for item in client.stream(request)]


async def test_after_the_last_retry_the_turn_goes_to_the_fallback_model() -> None:
    with MessagesServer([sse.reply(sse.text_block(0, "from the fallback"))], overloaded={MAIN}) as server:
        items = await _stream(server, _request(FALLBACK))
    assert [body["model"] for body in server.requests] == [MAIN, MAIN, MAIN, FALLBACK]
    assert server.requests[-1]["messages"] == server.requests[0]["messages"]  # the turn from its start
    kinds = [item.kind for item in items]
    assert kinds.count("retry") == 2 and kinds.index("fallback") > kinds.index("retry")
    switch = next(item for item in items if item.kind == "fallback")
    assert (switch.from_model, switch.to_model) == (MAIN, FALLBACK)
    assert "529 overloaded_error" in switch.message and "after 3 attempts" in switch.message
    assert "fallback_model" not in server.requests[-1]  # ours, never sent
    assert items[-1].kind == "done"


async def test_without_a_fallback_model_the_overload_is_the_error() -> None:
    with MessagesServer([], overloaded={MAIN}) as server, pytest.raises(ModelAPIError) as info:
        await _stream(server, _request(None))
    assert info.value.status == 529 and len(server.requests) == 3


async def test_a_fallback_overloaded_too_fails_after_its_own_tries() -> None:
    with MessagesServer([], overloaded={MAIN, FALLBACK}) as server, pytest.raises(ModelAPIError) as info:
        await _stream(server, _request(FALLBACK))
    assert [body["model"] for body in server.requests] == [MAIN] * 3 + [FALLBACK] * 3
    assert info.value.status == 529


async def test_an_error_other_than_an_overload_does_not_switch() -> None:
    reply = sse.event("error", {"type": "error", "error": {"type": "invalid_request_error", "message": "no"}})
    with MessagesServer([reply]) as server, pytest.raises(ModelAPIError):
        await _stream(server, _request(FALLBACK))
    assert [body["model"] for body in server.requests] == [MAIN]
