"""The Claude Agent SDK (the real package) drives `subagent` as if it were Claude Code.

Each test gives `cli_path` a launcher that runs this checkout's `python -m agent`, and points it at
a local Messages API server; what the SDK hands the program must be its own message types.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.stall_server import Stall, StallServer
from tests.headless.conftest import SdkSite
from tests.model import sse
from tests.model.messages_server import MessagesServer

sdk = pytest.importorskip("claude_agent_sdk")


async def _collect(prompt: str, options: Any) -> list[Any]:
    return [message async for message in sdk.query(prompt=prompt, options=options)]


def _texts(request: dict[str, Any]) -> list[str]:
    """Every text a request's messages carry (tool results' content included)."""
    out = []
    for message in request["messages"]:
        content = message["content"]
        for block in [content] if isinstance(content, str) else content:
            if isinstance(block, str):
                out.append(block)
            elif block.get("type") == "text":
                out.append(block["text"])
            elif block.get("type") == "tool_result":
                out.append(json.dumps(block.get("content")))
    return out


async def test_query_yields_the_sdks_own_types(sdk_site: SdkSite) -> None:
    (sdk_site.workspace / "notes.txt").write_text("the answer is 42\n")
    replies = [
        sse.reply(sse.tool_block(0, "toolu_r", "read", {"file_path": "notes.txt"}), stop_reason="tool_use"),
        sse.reply(sse.text_block(0, "It says 42.")),
    ]
    with MessagesServer(replies) as server:
        messages = await _collect("what do the notes say?", sdk_site.options(server.url))
    init = messages[0]
    assert isinstance(init, sdk.SystemMessage) and init.subtype == "init"
    assert init.data["cwd"] == str(sdk_site.workspace.resolve()) and "read" in init.data["tools"]
    assert init.data["permissionMode"] == "default" and "orchestrator" in init.data["agents"]
    assistant = [m for m in messages if isinstance(m, sdk.AssistantMessage)]
    assert isinstance(assistant[0].content[0], sdk.ToolUseBlock) and assistant[0].content[0].name == "read"
    assert assistant[0].model == "claude-sonnet-5-5" and assistant[0].usage["input_tokens"] == 10
    assert (
        isinstance(assistant[-1].content[0], sdk.TextBlock) and assistant[-1].content[0].text == "It says 42."
    )
    results = [m for m in messages if isinstance(m, sdk.UserMessage)]
    block = results[0].content[0]
    assert isinstance(block, sdk.ToolResultBlock) and "the answer is 42" in block.content
    result = messages[-1]
    assert isinstance(result, sdk.ResultMessage)
    assert (result.subtype, result.is_error, result.num_turns, result.result) == (
        "success",
        False,
        2,
        "It says 42.",
    )
    assert result.session_id == init.data["session_id"] and result.duration_ms >= result.duration_api_ms >= 0
    assert result.total_cost_usd and result.total_cost_usd > 0
    assert result.model_usage["claude-sonnet-5-5"]["costUSD"] == pytest.approx(result.total_cost_usd)
    assert result.model_usage["claude-sonnet-5-5"]["inputTokens"] == 20
    started = next(m for m in messages if isinstance(m, sdk.SystemMessage) and m.subtype == "session_started")
    assert started.data["sandbox"] in ("bwrap", "unavailable") and started.data["agent"] == "orchestrator"
    window = started.data["context_window"]
    assert window > 0 and result.model_usage["claude-sonnet-5-5"]["contextWindow"] == window
    assert server.requests[0]["messages"][0]["content"][0]["text"] == "what do the notes say?"


async def _allow(name: str, tool_input: dict[str, Any], context: Any) -> Any:
    return sdk.PermissionResultAllow()


async def _deny(name: str, tool_input: dict[str, Any], context: Any) -> Any:
    return sdk.PermissionResultDeny(message="not that file, use draft.txt")


async def _stream(prompt: str) -> Any:
    yield {"type": "user", "message": {"role": "user", "content": prompt}, "parent_tool_use_id": None}


@pytest.mark.parametrize(("callback", "written"), [(_allow, True), (_deny, False)])
async def test_can_use_tool_answers_each_ask(sdk_site: SdkSite, callback: Any, written: bool) -> None:
    asked: list[tuple[str, dict[str, Any]]] = []

    async def can_use_tool(name: str, tool_input: dict[str, Any], context: Any) -> Any:
        asked.append((name, tool_input))
        return await callback(name, tool_input, context)

    call = {"file_path": "out.txt", "content": "hello\n"}
    replies = [
        sse.reply(sse.tool_block(0, "toolu_w", "write", call), stop_reason="tool_use"),
        sse.reply(sse.text_block(0, "Done.")),
    ]
    with MessagesServer(replies) as server:
        options = sdk_site.options(server.url, can_use_tool=can_use_tool)
        messages = await _collect(_stream("write out.txt"), options)  # type: ignore[arg-type]
    assert asked == [("write", call)]
    assert (sdk_site.workspace / "out.txt").exists() is written
    result = messages[-1]
    assert isinstance(result, sdk.ResultMessage)
    told = _texts(server.requests[1])
    if written:
        assert result.permission_denials == []
    else:
        assert [d["tool_name"] for d in result.permission_denials] == ["write"]
        assert any(
            "not that file, use draft.txt" in text for text in told
        )  # the SDK's message reached the model


async def test_a_conversation_keeps_its_session_across_messages(sdk_site: SdkSite) -> None:
    replies = [sse.reply(sse.text_block(0, "first answer")), sse.reply(sse.text_block(0, "second answer"))]
    with MessagesServer(replies) as server:
        async with sdk.ClaudeSDKClient(sdk_site.options(server.url)) as client:
            await client.query("one")
            first = [m async for m in client.receive_response()]
            await client.query("two")
            second = [m async for m in client.receive_response()]
    assert isinstance(first[-1], sdk.ResultMessage) and first[-1].result == "first answer"
    assert isinstance(second[-1], sdk.ResultMessage) and second[-1].result == "second answer"
    assert first[-1].session_id == second[-1].session_id
    assert _texts(server.requests[1]) == ["one", "first answer", "two"]


async def test_an_interrupt_ends_the_turn_and_the_conversation_goes_on(sdk_site: SdkSite) -> None:
    head = sse.message_start() + sse.text_block(0, "thinking about it", pieces=2)[:-1]
    replies = [Stall(head), sse.reply(sse.text_block(0, "after the interrupt"))]
    with StallServer(replies) as server:
        options = sdk_site.options(server.url, include_partial_messages=True)
        async with sdk.ClaudeSDKClient(options) as client:
            await client.query("a long task")
            seen: list[Any] = []
            async for message in client.receive_response():
                seen.append(message)
                if isinstance(message, sdk.StreamEvent) and message.event["type"] == "content_block_delta":
                    await client.interrupt()
            await client.query("go on")
            after = [m async for m in client.receive_response()]
    interrupted = seen[-1]
    assert isinstance(interrupted, sdk.ResultMessage) and interrupted.is_error
    assert interrupted.subtype == "error_during_execution"
    assert isinstance(after[-1], sdk.ResultMessage) and after[-1].result == "after the interrupt"
    assert after[-1].session_id == interrupted.session_id


async def test_json_schema_yields_structured_output_after_a_retry(sdk_site: SdkSite) -> None:
    schema = {"type": "object", "properties": {"count": {"type": "integer"}}, "required": ["count"]}
    replies = [
        sse.reply(sse.text_block(0, '{"count": "three"}')),
        sse.reply(sse.text_block(0, '```json\n{"count": 3}\n```')),
    ]
    with MessagesServer(replies) as server:
        options = sdk_site.options(server.url, output_format={"type": "json_schema", "schema": schema})
        messages = await _collect("count the files", options)
    result = messages[-1]
    assert isinstance(result, sdk.ResultMessage) and result.structured_output == {"count": 3}
    assert len([m for m in messages if isinstance(m, sdk.ResultMessage)]) == 1
    assert "count" in _texts(server.requests[0])[0] and "JSON Schema" in _texts(server.requests[0])[0]
    assert "'three' is not of type 'integer'" in _texts(server.requests[1])[-1]


def test_the_sdks_parser_takes_every_line_we_print(sdk_site: SdkSite, tmp_path: Path) -> None:
    """Every stdout line of a run with partial messages, a tool call and a denial parses, and
    none is skipped as unknown."""
    from claude_agent_sdk._internal.message_parser import parse_message

    from tests.conftest import run_subagent

    replies = [
        sse.reply(
            sse.thinking_block(0, "let me look", "sig"),
            sse.tool_block(1, "toolu_w", "write", {"file_path": "x.txt", "content": "x"}),
            stop_reason="tool_use",
        ),
        sse.reply(sse.text_block(0, "Could not write.")),
    ]
    with MessagesServer(replies) as server:
        proc = run_subagent(
            "-p", "write x", "--output-format", "stream-json", "--verbose", "--include-partial-messages",
            cwd=sdk_site.workspace, ANTHROPIC_BASE_URL=server.url, **sdk_site.env,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    parsed = [parse_message(line) for line in lines]
    assert None not in parsed
    kinds = {type(p).__name__ for p in parsed}
    assert {"SystemMessage", "StreamEvent", "AssistantMessage", "UserMessage", "ResultMessage"} <= kinds
    result = lines[-1]
    assert result["type"] == "result" and result["permission_denials"][0]["tool_name"] == "write"
    assert "no terminal to ask on" in result["permission_denials"][0]["reason"]


def _write_then_done(name: str) -> list[str]:
    call = {"file_path": name, "content": "x\n"}
    return [
        sse.reply(
            sse.tool_block(0, "toolu_" + name.replace(".", "_"), "write", call), stop_reason="tool_use"
        ),
        sse.reply(sse.text_block(0, "Done.")),
    ]


async def test_set_permission_mode_and_set_model_apply_to_the_next_message(sdk_site: SdkSite) -> None:
    with MessagesServer([*_write_then_done("one.txt"), *_write_then_done("two.txt")]) as server:
        async with sdk.ClaudeSDKClient(sdk_site.options(server.url)) as client:
            await client.query("write one.txt")
            first = [m async for m in client.receive_response()]
            await client.set_permission_mode("acceptEdits")
            await client.set_model("haiku")
            await client.query("write two.txt")
            second = [m async for m in client.receive_response()]
    assert not (sdk_site.workspace / "one.txt").exists()  # default mode, no one to ask: denied
    assert "no terminal to ask on" in first[-1].permission_denials[0]["reason"]
    assert (sdk_site.workspace / "two.txt").exists() and second[-1].permission_denials == []
    assert "haiku" in server.requests[2]["model"] and "haiku" not in server.requests[0]["model"]
    inits = [m for m in second if isinstance(m, sdk.SystemMessage) and m.subtype == "init"]
    assert inits[0].data["permissionMode"] == "acceptEdits"


async def test_allowed_tools_let_a_call_through_and_dont_ask_denies_the_rest(sdk_site: SdkSite) -> None:
    with MessagesServer(_write_then_done("a.txt")) as server:
        allowed = await _collect("write a.txt", sdk_site.options(server.url, allowed_tools=["Write"]))
    with MessagesServer(_write_then_done("b.txt")) as server:
        options = sdk_site.options(server.url, permission_mode="dontAsk")
        refused = await _collect("write b.txt", options)
    assert (sdk_site.workspace / "a.txt").exists() and allowed[-1].permission_denials == []
    assert not (sdk_site.workspace / "b.txt").exists()
    assert "--permission-mode dontAsk refuses" in refused[-1].permission_denials[0]["reason"]


async def test_a_refused_option_fails_the_sdk_with_the_reason(sdk_site: SdkSite) -> None:
    errors: list[str] = []
    with MessagesServer([]) as server:
        options = sdk_site.options(server.url, max_thinking_tokens=1000, stderr=errors.append)
        with pytest.raises(Exception):  # noqa: B017 - the SDK's own error type for a failed CLI
            await _collect("hi", options)
    assert any("--max-thinking-tokens is not supported" in line for line in errors)


async def test_a_subagents_messages_carry_the_task_call_and_its_cost_counts(sdk_site: SdkSite) -> None:
    def model(body: dict[str, Any]) -> str:
        first = _texts(body)[0]
        if first.startswith("look for the config"):  # the child
            return sse.reply(sse.text_block(0, "It is in setup.cfg."), input_tokens=100)
        if body["messages"][-1]["role"] == "user" and len(body["messages"]) > 1:
            return sse.reply(sse.text_block(0, "The child found it."))
        task = {"description": "find config", "prompt": "look for the config", "subagent_type": "explore"}
        return sse.reply(sse.tool_block(0, "toolu_task", "task", task), stop_reason="tool_use")

    with MessagesServer(model) as server:
        messages = await _collect("where is the config?", sdk_site.options(server.url))
    child = [m for m in messages if isinstance(m, sdk.AssistantMessage) and m.parent_tool_use_id]
    assert [b.text for m in child for b in m.content] == ["It is in setup.cfg."]
    assert child[0].parent_tool_use_id == "toolu_task"
    started = [m for m in messages if isinstance(m, sdk.SystemMessage) and m.subtype == "subagent_started"]
    assert (
        started[0].data["agent"] == "explore" and started[0].data["child_session_id"] == child[0].session_id
    )
    result = messages[-1]
    assert isinstance(result, sdk.ResultMessage) and result.result == "The child found it."
    assert len([m for m in messages if isinstance(m, sdk.ResultMessage)]) == 1  # the child's is not one
    costs = sum(usage["costUSD"] for usage in result.model_usage.values())
    assert costs == pytest.approx(result.total_cost_usd)
    assert sum(usage["inputTokens"] for usage in result.model_usage.values()) == 120  # 10 + 100 + 10


async def test_the_sdks_agents_become_subagents(sdk_site: SdkSite) -> None:
    """`ClaudeAgentOptions(agents=...)` arrives in `initialize`; the orchestrator can delegate to it."""

    def model(body: dict[str, Any]) -> str:
        if "You review diffs." in json.dumps(body.get("system")):  # the SDK-defined agent
            assert [t["name"] for t in body["tools"]] == ["read", "grep"]
            return sse.reply(sse.text_block(0, "Looks fine."))
        if len(body["messages"]) > 1:
            return sse.reply(sse.text_block(0, "Reviewed."))
        task = {"description": "review", "prompt": "review the change", "subagent_type": "reviewer"}
        return sse.reply(sse.tool_block(0, "toolu_task", "task", task), stop_reason="tool_use")

    agents = {"reviewer": sdk.AgentDefinition(description="Reviews diffs", prompt="You review diffs.",
                                              tools=["Read", "Grep"])}  # fmt: skip
    with MessagesServer(model) as server:
        messages = await _collect(_stream("review it"), sdk_site.options(server.url, agents=agents))  # type: ignore[arg-type]
    init = messages[0]
    assert "reviewer" in init.data["agents"]
    child = [
        m for m in messages if isinstance(m, sdk.AssistantMessage) and m.parent_tool_use_id == "toolu_task"
    ]
    assert child[0].content[0].text == "Looks fine." and messages[-1].result == "Reviewed."


async def test_hooks_are_refused_at_initialize_not_skipped(sdk_site: SdkSite) -> None:
    async def guard(data: Any, tool_use_id: Any, context: Any) -> Any:
        return {}

    hooks = {"PreToolUse": [sdk.HookMatcher(matcher="Bash", hooks=[guard])]}
    with MessagesServer([]) as server:
        with pytest.raises(Exception, match="does not run the SDK's hooks"):
            await _collect(_stream("hi"), sdk_site.options(server.url, hooks=hooks))  # type: ignore[arg-type]
    assert server.requests == []
