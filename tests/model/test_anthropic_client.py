"""The streaming client against respx (through the httpx2 bridge), alone and driving the loop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from agent.errors import ApiStatusError, ModelAPIError
from agent.loop.agent_loop import run_loop
from agent.model.anthropic_client import AnthropicModel, RetryPolicy
from agent.model.base import ModelRequest
from tests.loop.fakes import TableGate, WriteNoteTool, build_setup
from tests.model import sse
from tests.model.respx_bridge import DroppingStream, bridged_client
from tests.request_check import check_request

URL = "https://api.anthropic.com/v1/messages"
SSE_HEADERS = {"content-type": "text/event-stream"}


def ok(body: str) -> httpx.Response:
    return httpx.Response(200, text=body, headers=SSE_HEADERS)


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(router: respx.Router, sleeps: Sleeps | None = None, attempts: int = 4) -> AnthropicModel:
    return AnthropicModel(
        api_key="test-key",
        http_client=bridged_client(router),
        sleep=sleeps if sleeps is not None else Sleeps(),
        retry=RetryPolicy(max_attempts=attempts),
    )


def sent_bodies(route: respx.Route) -> list[dict[str, Any]]:
    bodies = [json.loads(call.request.content) for call in route.calls]
    for body in bodies:
        check_request(body)
    return bodies


async def run(tmp_path: Path, router: respx.Router, sleeps: Sleeps | None = None, **kw: Any) -> list[Any]:
    setup = build_setup(tmp_path, client_for(router, sleeps), **kw)
    return [e async for e in run_loop(setup, "do it")]


def request() -> ModelRequest:
    return ModelRequest(
        model="claude-sonnet-5-5", system=[], messages=[{"role": "user", "content": "hi"}], max_tokens=100
    )


async def test_text_only_streams_deltas_then_the_message(tmp_path: Path) -> None:
    router = respx.Router()
    route = router.post(URL).mock(
        return_value=ok(sse.reply(sse.text_block(0, "Hello, world", pieces=3), cache_read=500))
    )
    events = await run(tmp_path, router)
    deltas = [e.text for e in events if e.type == "text_delta"]
    assert len(deltas) >= 3 and "".join(deltas) == "Hello, world"
    result = events[-1]
    assert (result.subtype, result.result) == ("success", "Hello, world")
    assert result.usage.cache_read_input_tokens == 500
    body = sent_bodies(route)[0]
    assert body["model"] == "claude-sonnet-5-5" and body["max_tokens"] == 8000
    assert "test-key" in str(dict(route.calls[0].request.headers))


async def test_one_tool_call_then_the_answer(tmp_path: Path) -> None:
    WriteNoteTool.order = []
    router = respx.Router()
    route = router.post(URL).mock(
        side_effect=[
            ok(
                sse.reply(
                    sse.text_block(0, "Writing."),
                    sse.tool_block(1, "toolu_A", "write_note", {"name": "f.txt", "text": "hi"}),
                    stop_reason="tool_use",
                )
            ),
            ok(sse.reply(sse.text_block(0, "Done."))),
        ]
    )
    events = await run(tmp_path, router)
    assert (tmp_path / "f.txt").read_text() == "hi"
    assert events[-1].result == "Done."
    second = sent_bodies(route)[1]["messages"]
    assert second[1]["content"][1] == {
        "type": "tool_use",
        "id": "toolu_A",
        "name": "write_note",
        "input": {"name": "f.txt", "text": "hi"},
    }
    assert second[2]["content"][0]["tool_use_id"] == "toolu_A"


async def test_parallel_calls_are_answered_in_one_message(tmp_path: Path) -> None:
    for name in "abc":
        (tmp_path / name).write_text(name.upper())
    router = respx.Router()
    blocks = [sse.tool_block(i, f"toolu_{n}", "read_note", {"name": n}) for i, n in enumerate("abc")]
    route = router.post(URL).mock(
        side_effect=[ok(sse.reply(*blocks, stop_reason="tool_use")), ok(sse.reply(sse.text_block(0, "ok")))]
    )
    await run(tmp_path, router)
    answer = sent_bodies(route)[1]["messages"][2]
    assert [(b["tool_use_id"], b["content"]) for b in answer["content"]] == [
        ("toolu_a", "A"),
        ("toolu_b", "B"),
        ("toolu_c", "C"),
    ]


async def test_thinking_blocks_go_back_with_their_signatures(tmp_path: Path) -> None:
    from agent.registry.spec import AgentSpec, ThinkingConfig

    (tmp_path / "a").write_text("A")
    router = respx.Router()
    route = router.post(URL).mock(
        side_effect=[
            ok(
                sse.reply(
                    sse.thinking_block(0, "Let me read a.", "sig-EqQBCkYIBRgC"),
                    sse.tool_block(1, "toolu_1", "read_note", {"name": "a"}),
                    stop_reason="tool_use",
                )
            ),
            ok(sse.reply(sse.text_block(0, "A it is"))),
        ]
    )
    spec = AgentSpec(name="tester", prompt="p", thinking=ThinkingConfig(effort="low"), temperature=0.3)
    events = await run(tmp_path, router, spec=spec)
    assert "".join(e.text for e in events if e.type == "thinking_delta") == "Let me read a."
    first, second = sent_bodies(route)
    assert first["thinking"] == {"type": "enabled", "budget_tokens": 4000} and "temperature" not in first
    assert second["messages"][1]["content"][0] == {
        "type": "thinking",
        "thinking": "Let me read a.",
        "signature": "sig-EqQBCkYIBRgC",
    }


async def test_max_tokens_cutting_a_tool_call_never_runs_it(tmp_path: Path) -> None:
    WriteNoteTool.order = []
    router = respx.Router()
    cut = sse.tool_block(
        0, "toolu_cut", "write_note", raw_json='{"name": "big.txt", "text": "lorem ips', stop=False
    )
    route = router.post(URL).mock(
        side_effect=[
            ok(sse.reply(cut, stop_reason="max_tokens")),
            ok(sse.reply(sse.text_block(0, "I'll split it."))),
        ]
    )
    events = await run(tmp_path, router)
    assert WriteNoteTool.order == [] and not (tmp_path / "big.txt").exists()
    answer = sent_bodies(route)[1]["messages"][2]["content"][0]
    assert answer["tool_use_id"] == "toolu_cut" and answer["is_error"] and "cut off" in answer["content"]
    assert events[-1].subtype == "success"


async def test_pause_turn_resends_the_content_unchanged(tmp_path: Path) -> None:
    router = respx.Router()
    route = router.post(URL).mock(
        side_effect=[
            ok(sse.reply(sse.text_block(0, "Searching"), stop_reason="pause_turn")),
            ok(sse.reply(sse.text_block(0, "Found it"))),
        ]
    )
    events = await run(tmp_path, router)
    second = sent_bodies(route)[1]["messages"]
    assert [m["role"] for m in second] == ["user", "assistant"]
    assert second[1]["content"][0]["text"] == "Searching"
    assert events[-1].result == "Found it"


async def test_persona_sampling_options_are_not_sent(tmp_path: Path) -> None:
    from agent.registry.spec import AgentSpec

    router = respx.Router()
    route = router.post(URL).mock(return_value=ok(sse.reply(sse.text_block(0, "hi"))))
    events = await run(tmp_path, router, spec=AgentSpec(name="t", prompt="p", temperature=0.3, top_p=0.9))
    assert events[-1].subtype == "success"
    body = sent_bodies(route)[0]
    assert "temperature" not in body and "top_p" not in body


async def test_refusal_ends_the_run_without_resending(tmp_path: Path) -> None:
    router = respx.Router()
    route = router.post(URL).mock(
        return_value=ok(sse.reply(sse.text_block(0, "I can't."), stop_reason="refusal"))
    )
    events = await run(tmp_path, router)
    assert (events[-1].subtype, events[-1].is_error, route.call_count) == ("error_during_execution", True, 1)


async def test_429_waits_as_long_as_retry_after_says(tmp_path: Path) -> None:
    router = respx.Router()
    limited = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    router.post(URL).mock(
        side_effect=[
            httpx.Response(429, json=limited, headers={"retry-after": "7"}),
            httpx.Response(429, json=limited, headers={"retry-after-ms": "1500"}),
            ok(sse.reply(sse.text_block(0, "fine"))),
        ]
    )
    sleeps = Sleeps()
    events = await run(tmp_path, router, sleeps)
    assert sleeps == [7.0, 1.5]
    retries = [e for e in events if e.type == "error"]
    assert len(retries) == 2 and all(e.retrying for e in retries)
    assert events[-1].subtype == "success"


async def test_spend_limit_429_without_retry_after_is_not_retried() -> None:
    router = respx.Router()
    route = router.post(URL).mock(
        return_value=httpx.Response(
            429,
            json={
                "type": "error",
                "error": {"type": "rate_limit_error", "message": "You have reached your spend limit."},
            },
        )
    )
    with pytest.raises(ModelAPIError) as info:
        async for _ in client_for(router).stream(request()):
            pass
    assert route.call_count == 1 and info.value.status == 429


async def test_529_is_retried_then_succeeds(tmp_path: Path) -> None:
    router = respx.Router()
    route = router.post(URL).mock(
        side_effect=[
            httpx.Response(
                529, json={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
            ),
            ok(sse.reply(sse.text_block(0, "back"))),
        ]
    )
    events = await run(tmp_path, router)
    assert route.call_count == 2 and events[-1].result == "back"


async def test_overloaded_event_mid_stream_retries_the_turn(tmp_path: Path) -> None:
    router = respx.Router()
    broken = sse.message_start() + sse.text_block(0, "half an ans") + sse.overloaded()
    route = router.post(URL).mock(side_effect=[ok(broken), ok(sse.reply(sse.text_block(0, "whole answer")))])
    events = await run(tmp_path, router)
    assert route.call_count == 2
    error = next(e for e in events if e.type == "error")
    assert error.retrying and error.error_type == "overloaded_error"
    assert events[-1].result == "whole answer"
    assert sent_bodies(route)[1]["messages"] == sent_bodies(route)[0]["messages"]


async def test_connection_dropped_mid_stream_retries_the_turn(tmp_path: Path) -> None:
    router = respx.Router()
    head = (sse.message_start() + sse.text_block(0, "partial")).encode()
    route = router.post(URL).mock(
        side_effect=[
            httpx.Response(200, stream=DroppingStream(head), headers=SSE_HEADERS),
            ok(sse.reply(sse.text_block(0, "complete"))),
        ]
    )
    events = await run(tmp_path, router)
    assert route.call_count == 2 and events[-1].result == "complete"
    assert next(e for e in events if e.type == "error").error_type == "connection_error"


async def test_connection_refused_is_retried() -> None:
    router = respx.Router()
    route = router.post(URL).mock(
        side_effect=[httpx.ConnectError("refused"), ok(sse.reply(sse.text_block(0, "x")))]
    )
    kinds = [e.kind async for e in client_for(router).stream(request())]
    assert route.call_count == 2 and kinds[0] == "retry" and kinds[-1] == "done"


async def test_unknown_event_types_are_tolerated(tmp_path: Path) -> None:
    router = respx.Router()
    body = (
        sse.message_start()
        + sse.event("future_event", {"type": "future_event", "data": 1})
        + sse.text_block(0, "still fine")
        + sse.message_end("end_turn")
    )
    router.post(URL).mock(return_value=ok(body))
    events = await run(tmp_path, router)
    assert events[-1].result == "still fine"


async def test_bounded_tries_then_a_clear_error_and_a_valid_transcript(tmp_path: Path) -> None:
    from tests.loop.fakes import MemoryStore

    router = respx.Router()
    route = router.post(URL).mock(
        return_value=httpx.Response(
            500, json={"type": "error", "error": {"type": "api_error", "message": "boom"}}
        )
    )
    store = MemoryStore()
    events = await run(tmp_path, router, store=store)
    assert route.call_count == 4
    final_error = [e for e in events if e.type == "error"][-1]
    assert not final_error.retrying and "after 4 attempts" in final_error.message
    assert events[-1].subtype == "error_during_execution"
    assert [r.role for r in store.rows] == ["user"]


async def test_bad_request_is_not_retried_and_keeps_its_cause() -> None:
    router = respx.Router()
    router.post(URL).mock(
        return_value=httpx.Response(
            400, json={"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}}
        )
    )
    with pytest.raises(ModelAPIError) as info:
        async for _ in client_for(router).stream(request()):
            pass
    assert info.value.status == 400 and info.value.error_type == "invalid_request_error"
    assert isinstance(info.value.__cause__, ApiStatusError)


async def test_gate_denial_over_http(tmp_path: Path) -> None:
    router = respx.Router()
    route = router.post(URL).mock(
        side_effect=[
            ok(
                sse.reply(
                    sse.tool_block(0, "toolu_w", "write_note", {"name": "f", "text": "x"}),
                    stop_reason="tool_use",
                )
            ),
            ok(sse.reply(sse.text_block(0, "Could not write."))),
        ]
    )
    events = await run(tmp_path, router, gate=TableGate({"edit": "deny"}))
    assert events[-1].subtype == "error_permission_denied"
    assert sent_bodies(route)[1]["messages"][2]["content"][0]["is_error"] is True


async def test_a_stream_closed_before_message_stop_is_retried(tmp_path: Path) -> None:
    router = respx.Router()
    cut = sse.message_start() + sse.text_block(0, "cut short")
    route = router.post(URL).mock(side_effect=[ok(cut), ok(sse.reply(sse.text_block(0, "whole")))])
    events = await run(tmp_path, router)
    assert route.call_count == 2 and events[-1].result == "whole"
