"""MCP servers' tools: what they cost the first request, and what starting a server costs a call.

Figures (JSON lines, `bench/_figures.py`):
- first_request_bytes with 0, 1 and 5 servers of 20 tools each, with the definitions in the
  request and with on-demand loading (`mcp_tools` / `mcp_call`, agent.mcpclient.deferred), and
  with 5 servers never listed (the two doors); the reference is the request without servers,
  measured in the same run. Each run goes through `run_agent` with the real registry, tools and
  gate, against tests/model/messages_server.py.
- first_request_delay_s with 1 and 5 servers, their listing kept and never listed: from
  `run_agent`'s call to the first request's arrival, against the run without servers in the same
  round (servers start in the background: the aim is 1). Beside it, server_start_s: what one
  server takes to start and list its tools (what the first request waited for before).
- first_call_s: from starting the servers in the background to the first tool result through the
  runtime (its tool known from the kept listing, the call waiting for the start), against the
  `mcp` SDK's client alone (start, initialize, call) on the same server in the same round: the
  ratio is what the runtime adds to a call that has to wait for its server.
Medians of `--rounds` (default 5), the variants interleaved in each round.

Run: python bench/bench_mcp.py [--rounds N]
"""

from __future__ import annotations

import argparse
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
BASE_TOOLS = 8
"""The test server's own tools; `EXTRA_TOOLS` adds the rest of the 20."""


def _server_entry() -> dict[str, Any]:
    return {
        "command": sys.executable,
        "args": [str(SERVER)],
        "env": {"EXTRA_TOOLS": str(TOOLS_PER_SERVER - BASE_TOOLS)},
    }


def _configure(servers: int) -> None:
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "subagent" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"mcp_servers": {f"s{i}": _server_entry() for i in range(servers)}}))


async def _list_once(workspace: Path) -> float:
    """Start the configured servers, list their tools (keeping the listing), stop them: seconds."""
    from agent.mcpclient.hub import McpHub
    from agent.mcpclient.sources import plan_servers

    started = time.perf_counter()
    hub = McpHub(plan_servers(workspace, trusted=True), log_dir=workspace / ".logs")
    try:
        await hub.open()
        assert not hub.failed, hub.failed
        return time.perf_counter() - started
    finally:
        await hub.close()


async def _first_request(workspace: Path) -> tuple[int, float]:
    """One run that answers at once: (its first request's bytes, seconds until it arrived)."""
    from agent.api import run_agent
    from agent.model.anthropic_client import AnthropicModel

    with MessagesServer([sse.reply(sse.text_block(0, "ok"))]) as api:
        client = AnthropicModel(base_url=api.url)
        started = time.time()
        async for _ in run_agent("hello", agent="backend-engineer", cwd=workspace, model_client=client,
                                 permission_mode="bypass"):  # fmt: skip
            pass
        return len(json.dumps(api.requests[0])), api.arrivals[0] - started


def _workspace(root: Path, tag: str) -> Path:
    workspace = root / tag
    workspace.mkdir(parents=True)
    return workspace


async def _bytes(root: Path, servers: int, on_demand: bool, listed: bool = True) -> int:
    from agent.mcpclient import deferred

    _configure(servers)
    deferred.DEFER_ABOVE_BYTES = 8_000 if on_demand else 10**9
    workspace = _workspace(root, f"bytes-{servers}-{on_demand}-{listed}")
    if servers and listed:
        await _list_once(workspace)
    size, _ = await _first_request(workspace)
    deferred.DEFER_ABOVE_BYTES = 8_000
    return size


async def _delay(root: Path, servers: int, listed: bool, tag: str) -> float:
    _configure(servers)
    workspace = _workspace(root, f"delay-{servers}-{listed}-{tag}")
    if servers and listed:
        await _list_once(workspace)
    _, delay = await _first_request(workspace)
    return delay


async def _first_call_runtime(root: Path, tag: str) -> float:
    from agent.mcpclient.hub import McpHub
    from agent.mcpclient.sources import plan_servers
    from agent.tool import ToolContext

    _configure(1)
    workspace = _workspace(root, f"call-{tag}")
    await _list_once(workspace)  # the listing is kept: the tool is known before the server runs
    started = time.perf_counter()
    hub = McpHub(plan_servers(workspace, trusted=True), log_dir=workspace / ".logs").start()
    known, _ = hub.offer(["s0"])
    echo = next(t for t in known if t.name == "mcp__s0__echo")
    await echo.run(
        echo.input_model.model_validate({"text": "x"}), ToolContext(workspace=workspace, data_dir=workspace)
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


async def _sizes(root: Path) -> None:
    base = await _bytes(root, 0, True)
    emit("first_request_bytes_0_servers", base, base, unit="bytes", reference_name="no servers")
    for servers in (1, 5):
        for on_demand in (False, True):
            size = await _bytes(root, servers, on_demand)
            how = "on_demand" if on_demand else "all_definitions"
            emit(f"first_request_bytes_{servers}_servers_{how}", size, base, unit="bytes",
                 reference_name="no servers", aim="on demand: close to 1")  # fmt: skip
    size = await _bytes(root, 5, True, listed=False)
    emit("first_request_bytes_5_servers_never_listed", size, base, unit="bytes",
         reference_name="no servers", aim="close to 1")  # fmt: skip


async def _delays(root: Path, rounds: int) -> None:
    await _delay(root, 0, True, "warm-up")  # imports and first-use costs, untimed
    variants = [(0, True), (1, True), (5, True), (1, False), (5, False)]
    found: dict[tuple[int, bool], list[float]] = {v: [] for v in variants}
    starts: list[float] = []
    for round_ in range(rounds):  # interleaved, so load on the machine falls on each alike
        for servers, listed in variants:
            found[(servers, listed)].append(await _delay(root, servers, listed, str(round_)))
        _configure(1)
        starts.append(await _list_once(_workspace(root, f"start-{round_}")))
    base = statistics.median(found[(0, True)])
    for (servers, listed), delays in found.items():
        if servers:
            how = "listing_kept" if listed else "never_listed"
            emit(f"first_request_delay_s_{servers}_servers_{how}", statistics.median(delays), base,
                 unit="s", reference_name="no servers, same rounds", aim="close to 1")  # fmt: skip
    emit(
        "server_start_s", statistics.median(starts), base, unit="s",
         reference_name="first request delay without servers",
         note="one server: start, initialize, list its tools (what a first request used to wait for)",
    )  # fmt: skip


async def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["XDG_CONFIG_HOME"] = str(root / "config")
        os.environ["SUBAGENT_HOME"] = str(root / "data")
        os.environ["ANTHROPIC_API_KEY"] = "bench"
        await _sizes(root)
        await _delays(root, rounds)
        ours: list[float] = []
        direct: list[float] = []
        for round_ in range(rounds):  # interleaved, so load on the machine falls on both alike
            ours.append(await _first_call_runtime(root, str(round_)))
            direct.append(await _first_call_sdk())
        emit("first_call_s", statistics.median(ours), statistics.median(direct), unit="s",
             reference_name="mcp SDK client alone, same server", aim="close to 1",
             note="started in the background, the call waiting for the start")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
