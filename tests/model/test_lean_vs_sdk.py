"""The streaming client against the anthropic SDK, turn by turn: the same bytes, the same events.

Each test sends the same turns through `AnthropicModel` (httpx2, our SSE reader) and through
`SdkReferenceModel` (the SDK's `messages.stream` and `get_final_message()`), each against its own
copy of the same replies, and compares every request body byte for byte, the headers the API
reads, and every event either client yields, faults included.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.errors import ModelAPIError
from agent.loop.agent_loop import run_loop
from agent.model.anthropic_client import AnthropicModel, RetryPolicy
from agent.model.base import ModelRequest
from tests.loop.fakes import build_setup
from tests.model import sse
from tests.model.messages_server import MessagesServer
from tests.model.respx_bridge import DroppingStream, bridged_client
from tests.model.sdk_reference import SdkReferenceModel

URL = "https://api.anthropic.com/v1/messages"
SSE_HEADERS = {"content-type": "text/event-stream"}
API_HEADERS = ("accept", "content-type", "anthropic-version", "authorization", "anthropic-beta", "x-team")

Reply = Callable[[], httpx.Response | Exception]


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def ok(body: str) -> Reply:
    return lambda: httpx.Response(200, text=body, headers=SSE_HEADERS)


def status(code: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return lambda: httpx.Response(code, json=body, headers=headers or {})


def dropped(head: str) -> Reply:
    return lambda: httpx.Response(200, stream=DroppingStream(head.encode()), headers=SSE_HEADERS)


def refused() -> Callable[[], Exception]:
    return lambda: httpx.ConnectError("connection refused")  # respx raises it for the call


def block(index: int, content_block: dict[str, Any], *deltas: dict[str, Any]) -> str:
    out = sse.event("content_block_start", {"type": "content_block_start", "index": index,
                                            "content_block": content_block})  # fmt: skip
    for delta in deltas:
        out += sse.event(
            "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        )
    return out + sse.event("content_block_stop", {"type": "content_block_stop", "index": index})


class Pair:
    """Both clients, each answered by its own router from the same list of replies."""

    def __init__(self, replies: list[Reply], attempts: int = 4) -> None:
        self.routes: list[respx.Route] = []
        self.sleeps: list[Sleeps] = []
        self.clients: list[AnthropicModel] = []
        for make in (AnthropicModel, SdkReferenceModel):
            router = respx.Router()
            self.routes.append(router.post(URL).mock(side_effect=[reply() for reply in replies]))
            sleeps = Sleeps()
            self.sleeps.append(sleeps)
            self.clients.append(make(api_key="test-key", http_client=bridged_client(router), sleep=sleeps,
                                     retry=RetryPolicy(max_attempts=attempts)))  # fmt: skip

    def bodies(self) -> tuple[list[bytes], list[bytes]]:
        lean, sdk = ([bytes(call.request.content) for call in route.calls] for route in self.routes)
        return lean, sdk

    def headers(self) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        lean, sdk = (
            [{k: v for k, v in call.request.headers.items() if k in API_HEADERS} for call in route.calls]
            for route in self.routes
        )
        return lean, sdk


async def _turn(client: AnthropicModel, request: ModelRequest) -> list[Any]:
    """Every event of one turn, and the error it ended with (its fields), if any."""
    out: list[Any] = []
    random.seed(18)  # the same backoff jitter for both
    try:
        async for event in client.stream(request):
            out.append(event.model_dump())
    except ModelAPIError as exc:
        out.append(("error", str(exc), exc.status, exc.error_type, exc.attempts))
    return out


async def same_turn(
    replies: list[Reply], request: ModelRequest | None = None, attempts: int = 4
) -> list[Any]:
    """Send one turn through both clients; assert they sent and yielded the same; the events."""
    pair = Pair(replies, attempts)
    request = request or ModelRequest(
        model="claude-sonnet-5-5", system=[{"type": "text", "text": "Be brief."}],
        messages=[{"role": "user", "content": "hi"}], max_tokens=100,
    )  # fmt: skip
    lean, sdk = [await _turn(client, request) for client in pair.clients]
    assert lean == sdk
    assert pair.bodies()[0] == pair.bodies()[1]
    assert pair.headers()[0] == pair.headers()[1]
    assert pair.sleeps[0] == pair.sleeps[1]
    return lean


# --- a multi-turn task through the loop ----------------------------------------------------------


def _task_replies() -> list[Reply]:
    cite = {"type": "char_location", "cited_text": "A", "document_index": 0, "document_title": None,
            "start_char_index": 0, "end_char_index": 1}  # fmt: skip
    return [
        ok(sse.reply(
            sse.thinking_block(0, "Read both, then write.", "sig-1"),
            sse.text_block(1, "Reading a and b — «ünïcode» too."),
            sse.tool_block(2, "toolu_a", "read_note", {"name": "a"}),
            sse.tool_block(3, "toolu_b", "read_note", {"name": "b"}),
            stop_reason="tool_use", cache_read=100,
        )),
        ok(sse.reply(
            sse.thinking_block(0, "Now write it.", "sig-2"),
            block(1, {"type": "redacted_thinking", "data": "opaque=="}),
            sse.tool_block(2, "toolu_w", "write_note", {"text": "AB", "name": "c"}),
            stop_reason="tool_use",
        )),
        ok(sse.reply(
            block(0, {"type": "text", "text": "", "citations": None},
                  {"type": "text_delta", "text": "Done: "},
                  {"type": "citations_delta", "citation": cite},
                  {"type": "text_delta", "text": "c holds AB."}),
            block(1, {"type": "future_block", "b": 1, "a": None}),
        )),
    ]  # fmt: skip


class Recording:
    """A model client that records what the wrapped one yields."""

    def __init__(self, inner: AnthropicModel) -> None:
        self.inner = inner
        self.events: list[dict[str, Any]] = []

    async def stream(self, request: ModelRequest) -> Any:
        async for event in self.inner.stream(request):
            self.events.append(event.model_dump())
            yield event

    async def model_info(self, model: str) -> None:
        return None


async def test_a_task_with_thinking_and_tools_sends_the_same_bytes(tmp_path: Path) -> None:
    from agent.registry.spec import AgentSpec, ThinkingConfig

    pair = Pair(_task_replies())
    results = []
    for n, client in enumerate(pair.clients):
        workspace = tmp_path / str(n)
        workspace.mkdir()
        (workspace / "a").write_text("A")
        (workspace / "b").write_text("B")
        recording = Recording(client)
        spec = AgentSpec(name="tester", prompt="p", thinking=ThinkingConfig(effort="low"), temperature=0.3)
        events = [e async for e in run_loop(build_setup(workspace, recording, spec=spec), "combine a and b")]
        assert (workspace / "c").read_text() == "AB"
        results.append((recording.events, events[-1].result))
    assert results[0] == results[1]
    lean, sdk = pair.bodies()
    assert len(lean) == 3 and lean == sdk
    last = json.loads(lean[-1])
    assert last["messages"][3]["content"][1] == {"data": "opaque==", "type": "redacted_thinking"}
    assert last["thinking"] == {"type": "enabled", "budget_tokens": 4000} and "temperature" not in last
    final = results[0][0][-1]["content"]
    assert final[0]["citations"] == [{"cited_text": "A", "document_index": 0, "end_char_index": 1,
                                      "start_char_index": 0, "type": "char_location"}]  # fmt: skip
    assert final[1] == {"type": "future_block", "b": 1}  # a block neither knows: as it came, no nulls


async def test_beta_requests_carry_the_same_header_and_body() -> None:
    request = ModelRequest(
        model="claude-sonnet-5-5", system=[], messages=[{"role": "user", "content": "hi"}], max_tokens=50,
        tools=[{"name": "t", "description": "d", "input_schema": {"type": "object"}}],
        thinking={"type": "enabled", "budget_tokens": 1024}, metadata={"user_id": "u"},
        context_management={"edits": [{"type": "compact_20260112"}]}, betas=["compact-2026-01-12", "other-1"],
    )  # fmt: skip
    events = await same_turn([ok(sse.reply(sse.text_block(0, "ok")))], request)
    assert events[-1]["kind"] == "done"


async def test_a_task_with_server_compaction_sends_the_same_bytes(tmp_path: Path) -> None:
    from agent.context import ContextPolicy

    compaction = block(
        0, {"type": "compaction", "content": None, "encrypted_content": None},
        {"type": "compaction_delta", "content": "the story so far", "encrypted_content": "opaque"},
    )  # fmt: skip
    caller = {"type": "direct"}
    start = {"type": "tool_use", "id": "toolu_r", "name": "read_note", "input": {}, "caller": caller}
    halves = [{"type": "input_json_delta", "partial_json": part} for part in ('{"name": ', '"a"}')]
    call = block(2, start, *halves)
    replies = [
        ok(sse.reply(compaction, sse.thinking_block(1, "read a", "sig"), call, stop_reason="tool_use")),
        ok(sse.reply(sse.text_block(0, "A."))),
    ]
    pair = Pair(replies)
    for n, client in enumerate(pair.clients):
        workspace = tmp_path / str(n)
        workspace.mkdir()
        (workspace / "a").write_text("A")
        setup = build_setup(workspace, client, context=ContextPolicy(server_compaction=True))
        events = [e async for e in run_loop(setup, "read a")]
        assert events[-1].result == "A."
    lean, sdk = pair.bodies()
    assert len(lean) == 2 and lean == sdk and pair.headers()[0] == pair.headers()[1]
    sent_back = json.loads(lean[1])["messages"][1]["content"]
    summary = {"content": "the story so far", "encrypted_content": "opaque", "type": "compaction"}
    assert sent_back[0] == summary
    assert list(sent_back[2]) == ["id", "input", "name", "type", "caller"]


async def test_custom_headers_from_the_environment_reach_both(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_CUSTOM_HEADERS", "X-Team: search\nbroken line")
    pair = Pair([ok(sse.reply(sse.text_block(0, "ok")))])
    request = ModelRequest(model="m", system=[], messages=[{"role": "user", "content": "x"}], max_tokens=5)
    for client in pair.clients:
        await _turn(client, request)
    lean, sdk = pair.headers()
    assert lean == sdk and lean[0]["x-team"] == "search" and lean[0]["authorization"] == "Bearer test-key"


# --- faults: the same retries, waits and final errors ------------------------------------------


async def test_429_with_retry_after_then_success() -> None:
    events = await same_turn([
        status(429, "rate_limit_error", "slow down", {"retry-after": "7"}),
        status(429, "rate_limit_error", "slow down", {"retry-after-ms": "1500"}),
        ok(sse.reply(sse.text_block(0, "fine"))),
    ])  # fmt: skip
    assert [e["delay_s"] for e in events if e["kind"] == "retry"] == [7.0, 1.5]


@pytest.mark.parametrize("code,kind", [(529, "overloaded_error"), (500, "api_error"), (503, "api_error")])
async def test_overload_and_server_errors_are_retried(code: int, kind: str) -> None:
    events = await same_turn([status(code, kind, "busy"), ok(sse.reply(sse.text_block(0, "back")))])
    assert next(e["kind"] for e in events) == "retry" and events[-1]["kind"] == "done"


async def test_an_overloaded_event_mid_stream() -> None:
    broken = sse.message_start() + sse.text_block(0, "half an ans") + sse.overloaded()
    events = await same_turn([ok(broken), ok(sse.reply(sse.text_block(0, "whole")))])
    retry = next(e for e in events if e["kind"] == "retry")
    assert (
        retry["error_type"] == "overloaded_error" and retry["message"] == "200 overloaded_error: Overloaded"
    )


async def test_a_connection_dropped_mid_stream() -> None:
    head = sse.message_start() + sse.text_block(0, "partial")
    events = await same_turn([dropped(head), ok(sse.reply(sse.text_block(0, "complete")))])
    assert next(e for e in events if e["kind"] == "retry")["error_type"] == "connection_error"


async def test_a_truncated_stream_and_a_refused_connection() -> None:
    cut = sse.message_start() + sse.text_block(0, "cut short")
    events = await same_turn([ok(cut), refused(), ok(sse.reply(sse.text_block(0, "whole")))])
    assert [e["error_type"] for e in events if e["kind"] == "retry"] == ["connection_error"] * 2


async def test_errors_that_are_not_retried_and_tries_running_out() -> None:
    bad = await same_turn([status(400, "invalid_request_error", "bad")])
    assert bad[-1][0] == "error" and bad[-1][2:] == (400, "invalid_request_error", 1)
    spend = await same_turn([status(429, "rate_limit_error", "You have reached your spend limit.")])
    assert spend[-1][2:] == (429, "rate_limit_error", 1)
    auth = await same_turn([status(401, "authentication_error", "invalid x-api-key")])
    assert "ANTHROPIC_API_KEY" in auth[-1][1]
    worn = await same_turn([status(500, "api_error", "boom")] * 3, attempts=3)
    assert "after 3 attempts" in worn[-1][1] and worn[-1][4] == 3


# --- where the lean client departs from the SDK path on purpose ---------------------------------


async def test_malformed_tool_json_is_told_to_the_model_instead_of_ending_the_turn() -> None:
    body = sse.reply(
        sse.tool_block(0, "toolu_x", "read_note", raw_json='{"name": nope}'), stop_reason="tool_use"
    )
    pair = Pair([ok(body)])
    request = ModelRequest(model="m", system=[], messages=[{"role": "user", "content": "x"}], max_tokens=5)
    lean, sdk = [await _turn(client, request) for client in pair.clients]
    assert sdk[-1][0] == "error" and sdk[-1][3] == "internal_error"  # the SDK's parser raised
    done = lean[-1]
    assert done["kind"] == "done" and done["content"][0]["input"] == {}
    assert "not valid JSON" in done["invalid_tool_inputs"]["toolu_x"]
    assert pair.bodies()[0] == pair.bodies()[1]


# --- against a real local server over TCP --------------------------------------------------------


async def test_both_clients_send_the_same_bytes_to_a_local_server() -> None:
    call = sse.tool_block(1, "toolu_1", "read", {"file_path": "a"})
    replies = [sse.reply(sse.thinking_block(0, "t", "s"), call, stop_reason="tool_use")] * 2
    request = ModelRequest(model="claude-sonnet-5-5", system=[{"type": "text", "text": "s"}],
                           messages=[{"role": "user", "content": "héllo"}], max_tokens=100,
                           thinking={"type": "enabled", "budget_tokens": 1024})  # fmt: skip
    with MessagesServer(list(replies)) as server:
        lean = AnthropicModel(api_key="k", base_url=server.url)  # its own client, made in a thread
        import httpx2

        sdk = SdkReferenceModel(api_key="k", base_url=server.url, http_client=httpx2.AsyncClient())
        seen = [await _turn(client, request) for client in (lean, sdk)]
    assert seen[0] == seen[1] and seen[0][-1]["content"][1]["input"] == {"file_path": "a"}
    (lean_headers, lean_body), (sdk_headers, sdk_body) = server.received
    assert lean_body == sdk_body
    assert {k: lean_headers.get(k) for k in API_HEADERS} == {k: sdk_headers.get(k) for k in API_HEADERS}


# --- the facts copied from the SDK are still the installed SDK's --------------------------------


def test_the_wire_constants_are_the_installed_sdks() -> None:
    import typing

    import anthropic.types.beta as beta
    from anthropic._constants import ANTHROPIC_API_VERSION

    from agent.model._message import _BETA_FIELD_ORDER, _FIELD_ORDER, _model_order
    from agent.model._wire import API_VERSION

    assert API_VERSION == ANTHROPIC_API_VERSION
    kinds = {"text": "TextBlock", "thinking": "ThinkingBlock", "redacted_thinking": "RedactedThinkingBlock",
             "tool_use": "ToolUseBlock", "server_tool_use": "ServerToolUseBlock"}  # fmt: skip
    for kind, name in kinds.items():
        assert list(_FIELD_ORDER[kind]) == list(getattr(anthropic.types, name).model_fields), kind
        assert list(_BETA_FIELD_ORDER[kind]) == list(getattr(beta, f"Beta{name}").model_fields), kind
    for kind, name in {"mcp_tool_use": "BetaMCPToolUseBlock", "compaction": "BetaCompactionBlock"}.items():
        assert list(_BETA_FIELD_ORDER[kind]) == list(getattr(beta, name).model_fields), kind
    for citation in typing.get_args(typing.get_args(anthropic.types.TextCitation)[0]):
        fields = list(citation.model_fields)
        assert list(_model_order(dict.fromkeys(reversed(fields), 1))) == fields, citation


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text(max_size=12)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip


@settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=40), thinking=st.text(min_size=1, max_size=20),
       tool_input=st.dictionaries(st.text(min_size=1, max_size=8), _json_values, max_size=4))  # fmt: skip
async def test_any_reply_yields_the_same_message_through_both(
    text: str, thinking: str, tool_input: dict[str, Any]
) -> None:
    body = sse.reply(sse.thinking_block(0, thinking, "sig"), sse.text_block(1, text, pieces=3),
                     sse.tool_block(2, "toolu_p", "read", tool_input), stop_reason="tool_use")  # fmt: skip
    events = await same_turn([ok(body)])
    done = events[-1]
    assert done["kind"] == "done" and done["content"][2]["input"] == tool_input
    assert done["content"][1]["text"] == text
    assert done["content"][0]["thinking"] == thinking
