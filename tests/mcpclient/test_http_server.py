"""A server over streamable HTTP on loopback: the test server run as `http PORT`."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mcpclient._fixtures import SERVER, git_workspace, results, run_events, script, warm, write_mcp_json


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(SERVER), "http", str(port)], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "the HTTP server did not start"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_tools_of_a_streamable_http_server(tmp_path: Path, http_server: str) -> None:
    ws = git_workspace(tmp_path / "ws")
    port = http_server.split(":")[2].split("/")[0]
    write_mcp_json(
        ws, {"web": {"type": "http", "url": "http://127.0.0.1:${PORT}/mcp", "headers": {"X-A": "b"}}}
    )
    calls = script(tmp_path / "s.yaml", [[{"name": "mcp__web__echo", "input": {"text": "over http"}},
                                          {"name": "mcp__web__lookup", "input": {"key": "k"}}]])  # fmt: skip
    warm(ws, tmp_path, "--trust", PORT=port)
    events, _ = run_events(ws, calls, "--trust", "--permission-mode", "bypass", PORT=port)
    found = results(events)
    assert found["mcp__web__echo"]["output"] == "echo: over http"
    assert found["mcp__web__lookup"]["output"] == "value of k"
    started = {e["name"]: e for e in events if e.get("type") == "tool_call_started"}
    assert started["mcp__web__lookup"]["kind"] == "read" and started["mcp__web__echo"]["kind"] == "other"
    assert started["mcp__web__echo"]["title"] == "web: echo"
