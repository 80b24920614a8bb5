"""Server-side compaction (beta): the API summarizes the conversation itself past a token trigger.

Opt-in per model (`server_compaction: true` under `models:` in agents.yaml) because it is a beta:
requests then carry `context_management: {edits: [{type: compact_20260112, trigger}]}` and the
`compact-2026-01-12` beta header (the client sends such requests through `client.beta.messages`).
A reply may start with a `compaction` block; it is stored and sent back verbatim like any other
block, and the server ignores everything before it, so only the messages from there on count
against the window. The runtime's own compaction stays as the fallback.
"""

from __future__ import annotations

from typing import Any

BETA = "compact-2026-01-12"
EDIT_TYPE = "compact_20260112"


def server_compaction_options(trigger_tokens: int) -> dict[str, Any]:
    """The `ModelRequest` fields that turn server-side compaction on."""
    edit = {"type": EDIT_TYPE, "trigger": {"type": "input_tokens", "value": trigger_tokens}}
    return {"context_management": {"edits": [edit]}, "betas": [BETA]}


def effective_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages the server keeps: from the last assistant message holding a compaction block."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        content = message["content"]
        if message["role"] == "assistant" and isinstance(content, list):
            if any(b.get("type") == "compaction" for b in content):
                return messages[index:]
    return messages
