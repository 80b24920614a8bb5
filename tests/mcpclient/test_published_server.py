"""A published MCP server run as it is: `@modelcontextprotocol/server-memory` from npm, pinned,
installed once into a gitignored cache folder (skipped, saying why, where npm cannot install it)."""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.mcpclient._fixtures import git_workspace, results, run_events, script, warm

PACKAGE = "@modelcontextprotocol/server-memory"
VERSION = "2026.8.31"
CACHE = Path(__file__).resolve().parents[1] / ".npm-cache" / f"server-memory-{VERSION}"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def memory_server() -> Path:
    """The server's entry script, installed on first use (one installer at a time)."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("npm and node are needed to install the published MCP server")
    entry = CACHE / "node_modules" / PACKAGE / "dist" / "index.js"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not entry.exists():
            proc = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CACHE), f"{PACKAGE}@{VERSION}"],
                capture_output=True, text=True, timeout=300,
            )  # fmt: skip
            if proc.returncode != 0:
                pytest.skip(f"npm could not install {PACKAGE}@{VERSION}: {proc.stderr.strip()[-300:]}")
    return entry


def test_the_published_memory_server_through_subagent_run(tmp_path: Path, memory_server: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    memory = tmp_path / "memory.jsonl"
    servers = {
        "memory": {"command": "node", "args": [str(memory_server)], "env": {"MEMORY_FILE_PATH": str(memory)}}
    }
    (ws / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))
    entity = {"name": "billing-service", "entityType": "service", "observations": ["owns invoices"]}
    calls = script(
        tmp_path / "s.yaml",
        [
            [{"name": "mcp__memory__create_entities", "input": {"entities": [entity]}}],
            [{"name": "mcp__memory__read_graph", "input": {}}],
        ],
    )
    warm(ws, tmp_path, "--trust")
    events, _ = run_events(ws, calls, "--trust", "--permission-mode", "bypass")
    found = results(events)
    assert not found["mcp__memory__create_entities"]["is_error"]
    assert "owns invoices" in found["mcp__memory__read_graph"]["output"]
    assert "billing-service" in memory.read_text()
