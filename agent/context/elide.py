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

from agent.transcript import Message, ToolResultBlock, tool_uses

ELIDED_PREFIX = "[elided to save context:"


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class ElisionResult:
    """The transcript with old tool outputs elided, and how much went."""

    messages: list[Message]
    count: int
    """How many tool results were elided."""
    chars_removed: int


def _elidable_text(block: object, min_chars: int) -> str | None:
    """The text of a plain-text tool result of at least `min_chars` not elided yet, else None."""
    if not isinstance(block, ToolResultBlock) or not block.text_only:
        return None
    text = block.text()
    return text if len(text) >= min_chars and not text.startswith(ELIDED_PREFIX) else None


def elidable_chars(messages: list[Message], end: int, min_chars: int) -> int:
    """Characters of tool output that eliding `messages[:end]` would remove."""
    total = 0
    for message in messages[:end]:
        for block in message.content:
            text = _elidable_text(block, min_chars)
            total += len(text) if text is not None else 0
    return total


def _tool_names(messages: list[Message]) -> dict[str, str]:
    return {call.id: call.name for m in messages if m.role == "assistant" for call in tool_uses(m.content)}


def _note(name: str, text: str, saved: Path) -> str:
    lines = text.count("\n") + 1
    return (
        f"{ELIDED_PREFIX} {len(text):,} characters ({lines:,} lines) of {name} output. The full "
        f"output is saved in {saved}; read it again (read with offset/limit, or grep) if you need it]"
    )


def elide_tool_outputs(messages: list[Message], end: int, min_chars: int, save_dir: Path) -> ElisionResult:
    """Elide every large text tool result in `messages[:end]`; later messages are kept as they are."""
    names = _tool_names(messages)
    out: list[Message] = []
    count = removed = 0
    for index, message in enumerate(messages):
        if index >= end or message.role != "user":
            out.append(message)
            continue
        blocks = []
        for block in message.content:
            text = _elidable_text(block, min_chars)
            if text is None or not isinstance(block, ToolResultBlock):
                blocks.append(block)
                continue
            save_dir.mkdir(parents=True, exist_ok=True)
            saved = save_dir / f"{block.tool_use_id}.txt"
            saved.write_text(text, encoding="utf-8")
            blocks.append(block.with_fields(content=_note(names.get(block.tool_use_id, "tool"), text, saved)))
            count += 1
            removed += len(text)
        out.append(message.model_copy(update={"content": blocks}))
    return ElisionResult(out, count, removed)
