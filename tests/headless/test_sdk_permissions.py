"""What the SDK's `can_use_tool` callback may send back besides allow and deny: a changed input
(`updated_input`) and permission updates (`updated_permissions`), with the real SDK."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.headless.conftest import SdkSite
from tests.model import sse
from tests.model.messages_server import MessagesServer

sdk = pytest.importorskip("claude_agent_sdk")
PermissionRuleValue = sdk.types.PermissionRuleValue


async def _stream(prompt: str) -> Any:
    yield {"type": "user", "message": {"role": "user", "content": prompt}, "parent_tool_use_id": None}


def _writes(*files: str) -> list[str]:
    """A model that writes each file in its own turn, then says Done."""
    calls = [
        sse.reply(
            sse.tool_block(0, f"toolu_{i}", "write", {"file_path": f, "content": "x\n"}),
            stop_reason="tool_use",
        )
        for i, f in enumerate(files)
    ]
    return [*calls, sse.reply(sse.text_block(0, "Done."))]


async def _run(site: SdkSite, replies: list[str], can_use_tool: Any, **extra: Any) -> tuple[list[Any], Any]:
    with MessagesServer(replies) as server:
        options = site.options(server.url, can_use_tool=can_use_tool, **extra)
        messages = [m async for m in sdk.query(prompt=_stream("write"), options=options)]  # type: ignore[arg-type]
    return messages, server


def _answered(messages: list[Any]) -> list[dict[str, Any]]:
    return [
        m.data for m in messages if isinstance(m, sdk.SystemMessage) and m.subtype == "permission_answered"
    ]


async def test_an_allow_with_a_changed_input_runs_the_changed_input(sdk_site: SdkSite) -> None:
    changed = {"file_path": "draft.txt", "content": "reviewed\n"}

    async def can_use_tool(name: str, tool_input: dict[str, Any], context: Any) -> Any:
        return sdk.PermissionResultAllow(updated_input=changed)

    messages, server = await _run(sdk_site, _writes("out.txt"), can_use_tool)
    assert (sdk_site.workspace / "draft.txt").read_text() == "reviewed\n"
    assert not (sdk_site.workspace / "out.txt").exists()
    assert _answered(messages)[0]["updated_input"] == changed
    told = json.dumps(server.requests[1]["messages"][-1]["content"])
    assert "changed this call's input" in told and "draft.txt" in told  # the model knows what ran
    assert messages[-1].permission_denials == []


@pytest.mark.parametrize(
    ("changed", "why"),
    [
        ({"file_path": "secret.txt", "content": "x\n"}, "is denied: edit `secret.txt`: deny by rule"),
        ({"file_path": "draft.txt"}, "that write does not take: content: Field required"),
    ],
)
async def test_a_changed_input_is_checked_again(sdk_site: SdkSite, changed: dict[str, Any], why: str) -> None:
    """A deny rule holds on the input the SDK sends, and so does the tool's schema."""

    async def can_use_tool(name: str, tool_input: dict[str, Any], context: Any) -> Any:
        return sdk.PermissionResultAllow(updated_input=changed)

    messages, _ = await _run(
        sdk_site, _writes("out.txt"), can_use_tool, disallowed_tools=["Write(secret.txt)"]
    )
    assert sorted(p.name for p in sdk_site.workspace.iterdir()) == []
    denial = messages[-1].permission_denials[0]
    assert denial["tool_name"] == "write" and why in denial["reason"], denial["reason"]


async def test_an_add_rules_update_lets_the_next_identical_call_through(sdk_site: SdkSite) -> None:
    asked: list[dict[str, Any]] = []
    update = sdk.PermissionUpdate(
        type="addRules",
        rules=[PermissionRuleValue(tool_name="Write", rule_content="a.txt")],
        behavior="allow",
    )

    async def can_use_tool(name: str, tool_input: dict[str, Any], context: Any) -> Any:
        asked.append(tool_input)
        return sdk.PermissionResultAllow(updated_permissions=[update])

    messages, _ = await _run(sdk_site, _writes("a.txt", "a.txt", "b.txt"), can_use_tool)
    assert [a["file_path"] for a in asked] == ["a.txt", "b.txt"]  # the second a.txt was not asked
    assert messages[-1].permission_denials == []


async def test_a_set_mode_update_holds_for_the_rest_of_the_session(sdk_site: SdkSite) -> None:
    asked: list[str] = []
    update = sdk.PermissionUpdate(type="setMode", mode="acceptEdits")

    async def can_use_tool(name: str, tool_input: dict[str, Any], context: Any) -> Any:
        asked.append(tool_input["file_path"])
        return sdk.PermissionResultAllow(updated_permissions=[update])

    messages, _ = await _run(sdk_site, _writes("a.txt", "b.txt"), can_use_tool)
    assert asked == ["a.txt"] and (sdk_site.workspace / "b.txt").exists()
    assert messages[-1].permission_denials == []


async def test_an_update_subagent_cannot_apply_is_refused_with_the_reason(sdk_site: SdkSite) -> None:
    update = sdk.PermissionUpdate(
        type="addRules", rules=[PermissionRuleValue(tool_name="Write")], behavior="allow",
        destination="localSettings",
    )  # fmt: skip

    async def can_use_tool(name: str, tool_input: dict[str, Any], context: Any) -> Any:
        return sdk.PermissionResultAllow(updated_permissions=[update])

    messages, _ = await _run(sdk_site, _writes("a.txt"), can_use_tool)
    assert not (sdk_site.workspace / "a.txt").exists()
    reason = messages[-1].permission_denials[0]["reason"]
    assert "updatedPermissions[0] (addRules): destination 'localSettings'" in reason
    assert "send destination 'session'" in reason
