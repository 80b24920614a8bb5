"""The loop's context handling over HTTP: the real SDK client against the caching server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from agent.context import ContextManager, ContextPolicy
from agent.errors import ContextWindowError, ModelAPIError
from agent.loop.agent_loop import run_loop
from agent.model.anthropic_client import AnthropicModel
from agent.model.base import MessageDoneEvent, ModelRequest
from agent.model.resolve import ResolvedModel
from agent.transcript import Message, blocks_to_wire, messages_to_wire, parse_messages, text_of
from tests.context.cache_server import CachingMessagesServer, Turn
from tests.context.driver import is_summary_request
from tests.loop.fakes import build_setup
from tests.model import sse
from tests.model.respx_bridge import bridged_client

BIG = "payload line for the context tests\n" * 230  # about 8 KB, 2,000 tokens


def replier(turns: list[Turn], summary: str = "Goal: g\nNext step: go on.") -> Any:
    queue = list(turns)

    def reply(body: dict[str, Any]) -> Turn:
        return Turn(text=summary) if is_summary_request(body) else queue.pop(0)

    return reply


def reads(count: int) -> list[Turn]:
    return [Turn(tools=[(f"toolu_{n}", "read_note", {"name": "big.txt"})]) for n in range(count)]


def setup_for(tmp_path: Path, url: str, window: int, policy: ContextPolicy) -> Any:
    (tmp_path / "big.txt").write_text(BIG)
    setup = build_setup(tmp_path, AnthropicModel(api_key="k", base_url=url), context=policy)
    setup.model = ResolvedModel("claude-test", window, 8_000, None, False)
    return setup


async def test_a_reply_cut_by_the_window_compacts_and_the_run_goes_on(tmp_path: Path) -> None:
    turns = [
        *reads(6),
        Turn(text="half a rep", stop_reason="model_context_window_exceeded"),
        Turn(text="Done."),
    ]
    with CachingMessagesServer(replier(turns)) as server:
        setup = setup_for(tmp_path, server.url, 200_000, ContextPolicy())
        events = [e async for e in run_loop(setup, "the goal: copy big.txt")]
    assert events[-1].subtype == "success" and events[-1].result == "Done."
    [compaction] = [e for e in events if e.type == "compaction"]
    assert compaction.method == "summary" and compaction.tokens_after < compaction.tokens_before
    summary_calls = [b for b in server.requests if is_summary_request(b)]
    assert len(summary_calls) == 1
    last = json.dumps(server.requests[-1]["messages"])
    assert "the goal: copy big.txt" in last and "Continue exactly where you stopped" in last
    assert not server.violations


async def test_a_prompt_the_api_finds_too_long_is_compacted_and_sent_again(tmp_path: Path) -> None:
    # The loop believes in a 60k window; the server allows 20k, so it refuses a request once.
    with CachingMessagesServer(replier([*reads(12), Turn(text="Done.")]), window=20_000) as server:
        setup = setup_for(tmp_path, server.url, 60_000, ContextPolicy(reserve_tokens=10_000, elision=False))
        events = [e async for e in run_loop(setup, "the goal")]
    assert events[-1].subtype == "success", events[-1]
    assert len(server.over_window) == 1
    assert [e.method for e in events if e.type == "compaction"] == ["summary"]
    assert not server.violations


async def test_with_caching_off_no_request_carries_a_breakpoint(tmp_path: Path) -> None:
    with CachingMessagesServer(replier([*reads(3), Turn(text="Done.")])) as server:
        setup = setup_for(tmp_path, server.url, 200_000, ContextPolicy(caching=False))
        events = [e async for e in run_loop(setup, "the goal")]
    assert events[-1].subtype == "success"
    assert all("cache_control" not in json.dumps(b) for b in server.requests)
    assert sum(u.cache_read_input_tokens for u in server.usages) == 0


async def test_old_large_outputs_are_elided_in_one_batch_past_half_the_window(tmp_path: Path) -> None:
    with CachingMessagesServer(replier([*reads(14), Turn(text="Done.")])) as server:
        setup = setup_for(tmp_path, server.url, 60_000, ContextPolicy(reserve_tokens=10_000))
        events = [e async for e in run_loop(setup, "the goal")]
    assert events[-1].subtype == "success"
    elisions = [e for e in events if e.type == "compaction"]
    assert [e.method for e in elisions] == ["elision"]
    saved = sorted((tmp_path / ".data" / "elided").glob("*.txt"))
    assert saved and saved[0].read_text() == BIG
    last = json.dumps(server.requests[-1]["messages"])
    assert str(saved[0]) in last
    # Once past the cache's minimum size, only the request the elision rewrote missed the cache.
    assert sum(u.cache_read_input_tokens == 0 for u in server.usages[2:]) == 1


class _FailingClient:
    """A model whose every call fails (the summarizing call's fallback)."""

    async def stream(self, request: ModelRequest) -> Any:
        raise ModelAPIError("overloaded", status=529)
        yield  # pragma: no cover

    async def model_info(self, model: str) -> None:
        return None


def _build(messages: list[Message], system: str = "s") -> ModelRequest:
    return ModelRequest(
        model="m",
        system=[{"type": "text", "text": system}],
        messages=messages_to_wire(messages),
        max_tokens=10,
    )


def _transcript(count: int) -> list[Message]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": [{"type": "text", "text": "GOAL X"}]}]
    for n in range(count):
        messages.append(
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": f"t{n}", "name": "read", "input": {"file_path": f"f{n}"}}
                ],
            }
        )
        messages.append(
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": f"t{n}", "content": "y" * 300}],
            }
        )
    return parse_messages(messages)


async def test_a_failed_summarizing_call_still_keeps_the_goal(tmp_path: Path) -> None:
    manager = ContextManager(ContextPolicy(reserve_tokens=1_000), 4_000, tmp_path, _FailingClient())
    done = await manager.fit(_transcript(30), _build)
    assert done is not None and done.method == "summary"
    (text,) = text_of(done.messages[0].content)
    assert "GOAL X" in text and "summarizing call failed" in text
    assert manager.estimate(_build(done.messages)) <= manager.trigger


async def test_a_system_prompt_too_big_for_the_window_is_a_clear_error(tmp_path: Path) -> None:
    manager = ContextManager(ContextPolicy(reserve_tokens=1_000), 4_000, tmp_path, _FailingClient())
    with pytest.raises(ContextWindowError, match="even after compaction"):
        await manager.fit(_transcript(1), lambda m: _build(m, system="z" * 20_000))


async def test_server_compaction_goes_through_the_beta_endpoint_with_its_header(tmp_path: Path) -> None:
    policy = ContextPolicy(server_compaction=True)
    manager = ContextManager(policy, 200_000, tmp_path, _FailingClient())
    request = manager.finish_request(_build(parse_messages([{"role": "user", "content": "hi"}])))
    kwargs = request.to_api_kwargs()
    assert kwargs["betas"] == ["compact-2026-01-12"]
    assert kwargs["context_management"]["edits"][0]["type"] == "compact_20260112"
    router = respx.Router(assert_all_called=False)
    compaction = sse.event(
        "content_block_start",
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {
                "type": "compaction",
                "content": "summary so far",
                "encrypted_content": "opaque",
            },
        },
    )
    compaction += sse.event("content_block_stop", {"type": "content_block_stop", "index": 0})
    route = router.post(url__startswith="https://api.anthropic.com/v1/messages").mock(
        return_value=httpx.Response(
            200,
            text=sse.reply(compaction, sse.text_block(1, "ok")),
            headers={"content-type": "text/event-stream"},
        )
    )
    client = AnthropicModel(api_key="k", http_client=bridged_client(router))
    items = [item async for item in client.stream(request)]
    sent = route.calls[0].request
    assert sent.headers["anthropic-beta"] == "compact-2026-01-12"
    assert json.loads(sent.content)["context_management"]["edits"][0]["trigger"]["value"] == 180_000
    done = items[-1]
    assert isinstance(done, MessageDoneEvent)
    assert blocks_to_wire(done.content)[0] == {
        "type": "compaction",
        "content": "summary so far",
        "encrypted_content": "opaque",
    }
    # What came before the compaction block no longer counts against the window.
    history = [
        *parse_messages([{"role": "user", "content": "x" * 40_000}]),
        Message(role="assistant", content=done.content),
        *parse_messages([{"role": "user", "content": "next"}]),
    ]
    assert manager.observe(request, done) is not None
    assert manager.estimate(_build(history)) < 1_000


async def test_a_compaction_by_the_server_is_an_event_and_its_block_goes_back(tmp_path: Path) -> None:
    compaction = sse.event(
        "content_block_start",
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "compaction", "content": "sum"},
        },
    ) + sse.event("content_block_stop", {"type": "content_block_stop", "index": 0})
    router = respx.Router(assert_all_called=False)
    headers = {"content-type": "text/event-stream"}
    route = router.post(url__startswith="https://api.anthropic.com/v1/messages").mock(
        side_effect=[
            httpx.Response(
                200,
                text=sse.reply(
                    compaction,
                    sse.tool_block(1, "toolu_1", "read_note", {"name": "a"}),
                    stop_reason="tool_use",
                ),
                headers=headers,
            ),
            httpx.Response(200, text=sse.reply(sse.text_block(0, "Done.")), headers=headers),
        ]
    )
    (tmp_path / "a").write_text("A")
    client = AnthropicModel(api_key="k", http_client=bridged_client(router))
    setup = build_setup(tmp_path, client, context=ContextPolicy(server_compaction=True))
    events = [e async for e in run_loop(setup, "go")]
    assert events[-1].subtype == "success"
    assert [e.method for e in events if e.type == "compaction"] == ["server"]
    second = json.loads(route.calls[1].request.content)
    assert second["messages"][1]["content"][0] == {"type": "compaction", "content": "sum"}


async def test_a_forced_compaction_with_nothing_to_compact_changes_nothing(tmp_path: Path) -> None:
    manager = ContextManager(ContextPolicy(), 200_000, tmp_path, _FailingClient())
    manager.force()
    assert await manager.fit(parse_messages([{"role": "user", "content": "hi"}]), _build) is None
    assert await manager.fit(_transcript(2), _build) is None  # and the force was used up
