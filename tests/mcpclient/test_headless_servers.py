"""`subagent -p --input-format stream-json`: one run per user message, one start of each MCP
server (`--mcp-config`) for all of them, none left when the process ends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import run_subagent
from tests.mcpclient._fixtures import git_workspace, stdio_entry
from tests.model import sse
from tests.model.messages_server import MessagesServer


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_two_user_messages_share_one_server_that_stops_with_the_process(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    marker = tmp_path / "marker"
    servers = json.dumps({"mcpServers": {"t": stdio_entry(marker)}})
    call = {"tool": "mcp__t__echo", "arguments": {"text": "hi"}}

    def reply(body: dict[str, Any]) -> str:  # a call for each user message, then an answer
        last = body["messages"][-1]["content"]
        if any(isinstance(b, dict) and b.get("type") == "tool_result" for b in last):
            return sse.reply(sse.text_block(0, "done"))
        return sse.reply(sse.tool_block(0, "toolu_x", "mcp_call", call), stop_reason="tool_use")

    messages = [{"type": "user", "message": {"role": "user", "content": text}} for text in ("one", "two")]
    with MessagesServer(reply) as api:
        proc = run_subagent(
            "-p", "--input-format", "stream-json", "--output-format", "stream-json", "--verbose",
            "--mcp-config", servers, "--permission-mode", "bypassPermissions",
            cwd=ws, input="".join(json.dumps(m) + "\n" for m in messages), timeout=120,
            ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=api.url,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    answers = [
        block["content"] for line in lines if line["type"] == "user"
        for block in line["message"]["content"] if block.get("type") == "tool_result"
    ]  # fmt: skip
    assert answers == ["echo: hi", "echo: hi"], proc.stdout[-3000:]  # a call in each run
    pids = [int(p) for p in marker.read_text().split()]
    assert len(pids) == 1 and not _alive(pids[0])  # one start for both runs; gone with the process
