"""The `system/init` message, read through the SDK's `query()`: the mode the run starts in,
whichever layer set it, and the run's MCP servers with their status."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from tests.conftest import run_subagent
from tests.headless.conftest import SdkSite
from tests.mcpclient._fixtures import SERVER, write_mcp_json
from tests.model import sse
from tests.model.messages_server import MessagesServer

sdk = pytest.importorskip("claude_agent_sdk")


async def _init(site: SdkSite, **extra: Any) -> dict[str, Any]:
    """The init message's data of a one-turn run."""
    with MessagesServer([sse.reply(sse.text_block(0, "Done."))]) as server:
        messages = [m async for m in sdk.query(prompt="go", options=site.options(server.url, **extra))]
    init = messages[0]
    assert isinstance(init, sdk.SystemMessage) and init.subtype == "init"
    assert isinstance(messages[-1], sdk.ResultMessage) and not messages[-1].is_error
    data: dict[str, Any] = init.data
    return data


async def test_init_names_the_mode_from_settings_not_only_the_flag(sdk_site: SdkSite) -> None:
    """`--settings`' defaultMode (no --permission-mode), then a trusted workspace's
    `.claude/settings.json`: init says the mode the gate starts in; the flag still wins."""
    settings = json.dumps({"permissions": {"defaultMode": "acceptEdits"}})
    assert (await _init(sdk_site, settings=settings))["permissionMode"] == "acceptEdits"

    claude = sdk_site.workspace / ".claude"
    claude.mkdir()
    (claude / "settings.json").write_text(json.dumps({"permissions": {"defaultMode": "plan"}}))
    trusted = run_subagent("trust", str(sdk_site.workspace), **sdk_site.env)
    assert trusted.returncode == 0, trusted.stderr
    assert (await _init(sdk_site))["permissionMode"] == "plan"
    assert (await _init(sdk_site, permission_mode="bypassPermissions"))[
        "permissionMode"
    ] == "bypassPermissions"


async def test_init_lists_each_mcp_server_with_its_status(sdk_site: SdkSite) -> None:
    """The caller's servers (`--mcp-config`): one that runs and one that cannot start, both still
    starting at init; the untrusted workspace's `.mcp.json` server is not started and says so."""
    write_mcp_json(sdk_site.workspace, {"repo": {"command": sys.executable, "args": [str(SERVER)]}})
    servers = {
        "t": {"command": sys.executable, "args": [str(SERVER)]},
        "broken": {"command": "/nonexistent/server-binary"},
    }
    init = await _init(sdk_site, mcp_servers=servers)
    by_name = {server["name"]: server for server in init["mcp_servers"]}
    assert set(by_name) == {"t", "broken", "repo"}
    # the run does not wait for its servers: at init they are starting (`failed` comes later, to
    # the calls); never listed before, their tools are reached through mcp_tools and mcp_call
    assert by_name["t"] == {"name": "t", "status": "pending"}
    assert by_name["broken"] == {"name": "broken", "status": "pending"}
    assert by_name["repo"] == {"name": "repo", "status": "disabled"}
    assert {"mcp_tools", "mcp_call"} <= set(init["tools"])
    assert not any(t.startswith("mcp__") for t in init["tools"])
