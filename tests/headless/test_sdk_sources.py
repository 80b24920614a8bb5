"""The SDK's `mcp_servers` (`--mcp-config`) and `setting_sources` (`--setting-sources`), end to end
through `query()`: a real MCP server's tool used by the scripted model, and a workspace settings
file left out but for its deny rules."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_subagent
from tests.headless.conftest import SdkSite
from tests.mcpclient._fixtures import SERVER
from tests.model import sse
from tests.model.messages_server import MessagesServer

sdk = pytest.importorskip("claude_agent_sdk")


async def _collect(site: SdkSite, replies: list[str], **extra: Any) -> tuple[list[Any], MessagesServer]:
    with MessagesServer(replies) as server:
        options = site.options(server.url, **extra)
        messages = [m async for m in sdk.query(prompt="go", options=options)]
    return messages, server


def _calls(*calls: tuple[str, dict[str, Any]]) -> list[str]:
    turns = [
        sse.reply(sse.tool_block(0, f"toolu_{i}", name, args), stop_reason="tool_use")
        for i, (name, args) in enumerate(calls)
    ]
    return [*turns, sse.reply(sse.text_block(0, "Done."))]


async def test_an_mcp_server_from_the_sdk_options_serves_the_model(sdk_site: SdkSite, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    servers = {"t": {"command": sys.executable, "args": [str(SERVER)], "env": {"MARKER": str(marker)}}}
    # never listed before, the server's tools are reached through mcp_call (the run does not wait
    # for it to start); the permission asked is still the real tool's, which the rule allows
    replies = _calls(("mcp_call", {"tool": "mcp__t__echo", "arguments": {"text": "hi"}}))
    messages, server = await _collect(sdk_site, replies, mcp_servers=servers, allowed_tools=["mcp__t__echo"])
    assert {"mcp_tools", "mcp_call"} <= {tool["name"] for tool in server.requests[0]["tools"]}
    results = [b for m in messages if isinstance(m, sdk.UserMessage) for b in m.content]
    assert isinstance(results[0], sdk.ToolResultBlock) and "echo: hi" in str(results[0].content)
    assert not results[0].is_error and messages[-1].permission_denials == []
    assert marker.read_text().split()  # the server was started (it wrote its pid)


async def test_setting_sources_leave_a_file_out_but_not_its_deny_rules(sdk_site: SdkSite) -> None:
    """With every source, the trusted workspace's settings allow a.txt and deny b.txt; with
    `user` alone, its allow is gone (a.txt is asked, and no one answers) and its deny holds."""
    ws = sdk_site.workspace
    claude = ws / ".claude"
    claude.mkdir()
    settings = {"permissions": {"allow": ["Write(a.txt)"], "deny": ["Write(b.txt)"]}}
    (claude / "settings.json").write_text(json.dumps(settings))
    trusted = run_subagent("trust", str(ws), **sdk_site.env)
    assert trusted.returncode == 0, trusted.stderr
    write = [("write", {"file_path": name, "content": "x\n"}) for name in ("a.txt", "b.txt")]

    every, _ = await _collect(sdk_site, _calls(*write))
    assert (ws / "a.txt").exists() and not (ws / "b.txt").exists()
    assert [d["tool_name"] for d in every[-1].permission_denials] == ["write"]
    (ws / "a.txt").unlink()

    only_user, _ = await _collect(sdk_site, _calls(*write), setting_sources=["user"])
    assert not (ws / "a.txt").exists() and not (ws / "b.txt").exists()
    reasons = [d["reason"] for d in only_user[-1].permission_denials]
    assert "no terminal to ask on" in reasons[0]
    assert f"deny by rule edit: `b.txt` from {claude / 'settings.json'}" in reasons[1]
