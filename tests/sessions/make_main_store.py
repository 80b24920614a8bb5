"""Write `tests/sessions/data/main_store.db`: sessions stored by the code before the typed
transcript (issue 17), so tests can prove a store written then still loads, byte for byte.

Run once from a checkout of that code (`git worktree add /tmp/old 5f93a61`), never by the suite:

    cd /tmp/old && SUBAGENT_HOME=/tmp/old-home python tests/sessions/make_main_store.py OUT.db

The replies come over SSE through the real Anthropic client (thinking with its signature, text
with citations, tool calls), the tools are the real ones (a PNG read gives an image result, a
failing read an error result), and a second run resumes the session (its prompt joins no stored
result: a new user message).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import respx

from tests.model import sse
from tests.model.respx_bridge import bridged_client

_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
_CITATION = {
    "type": "char_location",
    "cited_text": "hello",
    "document_index": 0,
    "document_title": None,
    "start_char_index": 0,
    "end_char_index": 5,
}


def _cited_text(index: int) -> str:
    start = {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}
    delta = {"type": "citations_delta", "citation": _CITATION}
    text = {"type": "text_delta", "text": "It says hello."}
    return (
        sse.event("content_block_start", start)
        + sse.event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        + sse.event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": text})
        + sse.event("content_block_stop", {"type": "content_block_stop", "index": index})
    )


def _replies() -> list[str]:
    return [
        sse.reply(
            sse.thinking_block(0, "Read the note and the picture.", "sig-EqQBCkYIBRgC"),
            sse.text_block(1, "Reading them — both."),
            sse.tool_block(2, "toolu_01", "read", {"file_path": "note.txt"}),
            sse.tool_block(3, "toolu_02", "read", {"file_path": "dot.png"}),
            sse.tool_block(4, "toolu_03", "read", {"file_path": "missing.txt"}),
            stop_reason="tool_use",
        ),
        sse.reply(
            sse.tool_block(0, "toolu_04", "write", {"file_path": "out.txt", "content": "é\n"}),
            stop_reason="tool_use",
        ),
        sse.reply(_cited_text(0)),
        sse.reply(sse.tool_block(0, "toolu_05", "bash", {"command": "echo again"}), stop_reason="tool_use"),
        sse.reply(sse.text_block(0, "Done again.")),
    ]


async def _run(prompt: str, cwd: Path, client: Any, **options: Any) -> Any:
    from agent.api import run_agent

    events = [e async for e in run_agent(prompt, cwd=cwd, model_client=client, **options)]
    return events[-1]


async def main(out: Path) -> None:
    from agent.model.anthropic_client import AnthropicModel
    from agent.paths import data_home

    work = Path(os.environ["SUBAGENT_HOME"]).parent / "ws"
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    (work / "note.txt").write_text("hello\nworld\n")
    (work / "dot.png").write_bytes(_PNG)
    router = respx.Router()
    router.post("https://api.anthropic.com/v1/messages").mock(
        side_effect=[
            respx.MockResponse(200, text=body, headers={"content-type": "text/event-stream"})
            for body in _replies()
        ]
    )
    client = AnthropicModel(api_key="test-key", http_client=bridged_client(router))
    first = await _run("read note.txt and dot.png", work, client, permission_mode="bypass")
    second = await _run("once more", work, client, permission_mode="bypass", resume=first.session_id)
    print(json.dumps({"first": first.subtype, "second": second.subtype, "session": first.session_id}))
    source = sqlite3.connect(data_home() / "sessions.db")
    target = sqlite3.connect(out)
    source.backup(target)  # the WAL's pages included
    target.execute("VACUUM")
    target.close()
    source.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]).resolve()))
