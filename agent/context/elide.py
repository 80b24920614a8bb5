"""Elision: old large tool outputs leave the transcript, saved to a file the model can read again.

A tool result is elidable when it is plain text (images stay), at least `min_chars` long, and
older than the protected tail of the conversation. Its text is written to
`save_dir/<tool_use_id>.txt` and the block's content becomes one line saying what was there and
where the whole of it is. The tool_result block itself stays, so every tool_use keeps its result.
Elision runs in batches (see `agent.context.manager`), because each one moves the point from which
the prompt cache must be written again.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

ELIDED_PREFIX = "[elided to save context:"


@dataclasses.dataclass(frozen=True)
class ElisionResult:
    messages: list[dict[str, Any]]
    count: int
    """How many tool results were elided."""
    chars_removed: int


def _text_of(content: Any) -> str | None:
    """The text of a tool_result's content, or None when it holds anything but text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(b.get("type") == "text" for b in content):
        return "\n".join(b.get("text", "") for b in content)
    return None


def elidable_chars(messages: list[dict[str, Any]], end: int, min_chars: int) -> int:
    """Characters of tool output that eliding `messages[:end]` would remove."""
    total = 0
    for message in messages[:end]:
        for block in _blocks(message):
            text = _text_of(block.get("content")) if block.get("type") == "tool_result" else None
            if text is not None and len(text) >= min_chars and not text.startswith(ELIDED_PREFIX):
                total += len(text)
    return total


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message["content"]
    return content if isinstance(content, list) else []


def _tool_names(messages: list[dict[str, Any]]) -> dict[str, str]:
    return {
        b["id"]: b.get("name", "tool")
        for m in messages
        if m["role"] == "assistant"
        for b in _blocks(m)
        if b.get("type") == "tool_use"
    }


def _note(name: str, text: str, saved: Path) -> str:
    lines = text.count("\n") + 1
    return (
        f"{ELIDED_PREFIX} {len(text):,} characters ({lines:,} lines) of {name} output. The full "
        f"output is saved in {saved}; read it again (read with offset/limit, or grep) if you need it]"
    )


def elide_tool_outputs(
    messages: list[dict[str, Any]], end: int, min_chars: int, save_dir: Path
) -> ElisionResult:
    """Elide every large text tool result in `messages[:end]`; later messages are kept as they are."""
    names = _tool_names(messages)
    out: list[dict[str, Any]] = []
    count = removed = 0
    for index, message in enumerate(messages):
        if index >= end or message["role"] != "user" or not isinstance(message["content"], list):
            out.append(message)
            continue
        blocks: list[dict[str, Any]] = []
        for block in message["content"]:
            text = _text_of(block.get("content")) if block.get("type") == "tool_result" else None
            if text is None or len(text) < min_chars or text.startswith(ELIDED_PREFIX):
                blocks.append(block)
                continue
            save_dir.mkdir(parents=True, exist_ok=True)
            saved = save_dir / f"{block['tool_use_id']}.txt"
            saved.write_text(text, encoding="utf-8")
            blocks.append({**block, "content": _note(names.get(block["tool_use_id"], "tool"), text, saved)})
            count += 1
            removed += len(text)
        out.append({**message, "content": blocks})
    return ElisionResult(out, count, removed)
