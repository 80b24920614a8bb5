"""`subagent acp` and `subagent mcp` answer the handshake before their SDK has loaded.

Each test starts the real server twice over raw JSON-RPC lines: once with the real SDK, which
answers the handshake and so records its answers; then with an SDK that never finishes importing
(a package of the same name earlier on PYTHONPATH that sleeps), so whatever answers the second
start gives can only come from the front. They must be the SDK's answers, and the server must end
as soon as the client closes its input with everything answered.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import subagent_argv, subprocess_env

_CLIENT = {"name": "t", "version": "1"}
MCP_LEGACY = [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize",
     "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": _CLIENT}},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
]  # fmt: skip
_META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
         "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
         "io.modelcontextprotocol/clientCapabilities": {}}  # fmt: skip
MCP_2026 = [
    {"jsonrpc": "2.0", "id": "a", "method": "server/discover", "params": {"_meta": _META}},
    {"jsonrpc": "2.0", "id": "b", "method": "tools/list", "params": {"_meta": _META}},
]
_FS = {"fs": {"readTextFile": True, "writeTextFile": True}}
ACP = [{"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": 1, "clientCapabilities": _FS}}]  # fmt: skip


def answers_then_exit(
    argv: list[str], requests: list[dict[str, Any]], env: dict[str, str]
) -> list[dict[str, Any]]:
    """Send `requests`, read one answer per request, close stdin; the answers, after a clean exit."""
    pipe = subprocess.PIPE
    # Unbuffered: a line read ahead into a buffer would be invisible to select().
    proc = subprocess.Popen(argv, stdin=pipe, stdout=pipe, stderr=pipe, env=env, bufsize=0)
    assert proc.stdin is not None and proc.stdout is not None
    for request in requests:
        proc.stdin.write(json.dumps(request).encode() + b"\n")
    proc.stdin.flush()
    answers: list[dict[str, Any]] = []
    deadline = time.monotonic() + 120
    while len(answers) < sum("id" in r for r in requests):
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            proc.kill()  # so that its stderr ends and can be read whole
            raise AssertionError(f"no answer; stderr: {proc.communicate()[1][-4000:]!r}")
        answers.append(json.loads(proc.stdout.readline()))
    proc.stdin.close()
    assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    return answers


def _sleeping_sdk(tmp_path: Path, package: str) -> str:
    """A folder holding `package` whose import never ends."""
    folder = tmp_path / "shadow"
    (folder / package).mkdir(parents=True)
    (folder / package / "__init__.py").write_text("import time\ntime.sleep(600)\n")
    return str(folder)


@pytest.mark.parametrize(("command", "package", "requests"), [
    ("mcp", "mcp", MCP_LEGACY), ("mcp", "mcp", MCP_2026), ("acp", "acp", ACP),
])  # fmt: skip
def test_the_handshake_is_answered_as_the_sdk_answered_it_without_the_sdk(
    tmp_path: Path, command: str, package: str, requests: list[dict[str, Any]]
) -> None:
    env = subprocess_env()
    from_sdk = answers_then_exit(subagent_argv(command), requests, env)
    record = Path(env["SUBAGENT_HOME"]) / f"stdio-answers-{command}.json"
    assert len(json.loads(record.read_text())["answers"]) == len(from_sdk)
    blocked = dict(env, PYTHONPATH=_sleeping_sdk(tmp_path, package) + os.pathsep + env["PYTHONPATH"])
    from_front = answers_then_exit(subagent_argv(command), requests, blocked)
    assert from_front == from_sdk
    assert [a["id"] for a in from_front] == [r["id"] for r in requests if "id" in r]


def test_a_changed_server_is_not_answered_from_an_old_record(tmp_path: Path) -> None:
    env = subprocess_env()
    answers_then_exit(subagent_argv("mcp"), MCP_LEGACY, env)
    record = Path(env["SUBAGENT_HOME"]) / "stdio-answers-mcp.json"
    kept = json.loads(record.read_text())
    kept["fingerprint"]["server"] = "another version of mcp_server.py"
    kept["answers"] = {key: {"tools": []} for key in kept["answers"]}  # what that version listed
    record.write_text(json.dumps(kept))
    answers = answers_then_exit(subagent_argv("mcp"), MCP_LEGACY, env)
    assert [t["name"] for t in answers[1]["result"]["tools"]] == ["run_task", "reply", "list_agents"]
