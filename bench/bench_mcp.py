"""MCP servers' tools: what they cost the first request, and what starting a server costs a call.

Figures (JSON lines, `bench/_figures.py`):
- first_request_bytes with 0, 1 and 5 servers of 20 tools each, with the definitions in the
  request and with on-demand loading (`mcp_tools` / `mcp_call`, agent.mcpclient.deferred); the
  reference is the request without servers, measured in the same run. Each run goes through
  `run_agent` with the real registry, tools and gate, against tests/model/messages_server.py.
- first_call_s: the time from nothing to the first tool result through the runtime (start the
  server, list its tools, call through `McpTool.run`), against the same with the `mcp` SDK's
  client alone (start, initialize, call) on the same server in the same run: the ratio is what the
  runtime adds. Medians of 5, interleaved.

Run: python bench/bench_mcp.py
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._figures import emit  # noqa: E402
from tests.model import sse  # noqa: E402
from tests.model.messages_server import MessagesServer  # noqa: E402

SERVER = ROOT / "tests" / "mcpclient" / "mcp_test_server.py"
TOOLS_PER_SERVER = 20
BASE_TOOLS = 7
"""The test server's own tools; `EXTRA_TOOLS` adds the rest of the 20."""


def _server_entry() -> dict[str, Any]:
    return {
        "command": sys.executable,
        "args": [str(SERVER)],
        "env": {"EXTRA_TOOLS": str(TOOLS_PER_SERVER - BASE_TOOLS)},
    }


async def _first_request_bytes(root: Path, servers: int, on_demand: bool) -> int:
    from agent.api import run_agent
    from agent.mcpclient import deferred
    from agent.model.anthropic_client import AnthropicModel

    config = Path(os.environ["XDG_CONFIG_HOME"]) / "subagent" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"mcp_servers": {f"s{i}": _server_entry() for i in range(servers)}}))
    deferred.DEFER_ABOVE_BYTES = 8_000 if on_demand else 10**9
    workspace = root / f"ws-{servers}-{on_demand}"
    workspace.mkdir()
    with MessagesServer([sse.reply(sse.text_block(0, "ok"))]) as api:
        client = AnthropicModel(base_url=api.url)
        async for _ in run_agent("hello", agent="backend-engineer", cwd=workspace, model_client=client,
                                 permission_mode="bypass"):  # fmt: skip
            pass
        return len(json.dumps(api.requests[0]))


async def _first_call_runtime(log_dir: Path) -> float:
    from agent.mcpclient.config import ServerDef, StdioServer
    from agent.mcpclient.hub import McpHub
    from agent.mcpclient.sources import ServerPlan
    from agent.tool import ToolContext

    entry = _server_entry()
    server = ServerDef(name="s", transport=StdioServer(**entry), source="bench", scope="user")
    started = time.perf_counter()
    hub = await McpHub(ServerPlan(workspace=log_dir, usable=[server]), log_dir=log_dir).open()
    echo = next(t for t in hub.tools if t.name == "mcp__s__echo")
    await echo.run(
        echo.input_model.model_validate({"text": "x"}), ToolContext(workspace=log_dir, data_dir=log_dir)
    )
    elapsed = time.perf_counter() - started
    await hub.close()
    return elapsed


async def _first_call_sdk() -> float:
    from mcp import Client, StdioServerParameters

    entry = _server_entry()
    started = time.perf_counter()
    async with Client(StdioServerParameters(**entry), mode="legacy", cache=None) as client:
        await client.call_tool("echo", {"text": "x"})
        elapsed = time.perf_counter() - started
    return elapsed


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["XDG_CONFIG_HOME"] = str(root / "config")
        os.environ["SUBAGENT_HOME"] = str(root / "data")
        os.environ["ANTHROPIC_API_KEY"] = "bench"
        base = await _first_request_bytes(root, 0, True)
        emit("first_request_bytes_0_servers", base, base, unit="bytes", reference_name="no servers")
        for servers in (1, 5):
            for on_demand in (False, True):
                size = await _first_request_bytes(root, servers, on_demand)
                how = "on_demand" if on_demand else "all_definitions"
                emit(f"first_request_bytes_{servers}_servers_{how}", size, base, unit="bytes",
                     reference_name="no servers", aim="on demand: close to 1")  # fmt: skip
        ours: list[float] = []
        direct: list[float] = []
        for _ in range(5):  # interleaved, so load on the machine falls on both alike
            ours.append(await _first_call_runtime(root))
            direct.append(await _first_call_sdk())
        emit("first_call_s", statistics.median(ours), statistics.median(direct), unit="s",
             reference_name="mcp SDK client alone, same server", aim="close to 1")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
