"""Plain-text rendering of a stored session for `subagent sessions show`.

Readable at a glance: the user's words and the assistant's in full, each tool call on one line
with its input shortened, each result abbreviated to its first lines.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from agent.sessions.base import CheckpointRecord, CompactionRecord, SessionRecord, StoredMessage
from agent.transcript import (
    Block,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)

_INPUT_CHARS = 120
_RESULT_LINES = 3
_RESULT_LINE_CHARS = 160


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split()) if "\n" not in text else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_block(block: Block) -> list[str]:
    """The lines one content block shows as."""
    if isinstance(block, TextBlock):
        return block.text.splitlines() or [""]
    if isinstance(block, ToolUseBlock):
        given = {} if block.input is None else block.input
        arguments = shorten(json.dumps(given, ensure_ascii=False), _INPUT_CHARS)
        return [f"→ {block.name} {arguments}  [{block.id}]"]
    if isinstance(block, ToolResultBlock):
        lines = block.text().splitlines() or ["(empty)"]
        mark = "✗" if block.failed else "←"
        shown = [
            f"{mark if i == 0 else ' '} {shorten(line, _RESULT_LINE_CHARS)}"
            for i, line in enumerate(lines[:_RESULT_LINES])
        ]
        if len(lines) > _RESULT_LINES:
            shown.append(f"  … {len(lines) - _RESULT_LINES} more lines")
        return shown
    if isinstance(block, ThinkingBlock | RedactedThinkingBlock):
        return ["(thinking)"]
    return [f"[{block.type}]"]


def compaction_line(record: CompactionRecord) -> str:
    """Where the loop compacted: everything above is what a resumed run no longer sends verbatim."""
    return (
        f"── compacted ({record.method}) {record.tokens_before:,} → {record.tokens_after:,} tokens "
        f"at {record.created:%Y-%m-%d %H:%M:%S}: a resumed run starts from {len(record.messages)} "
        "compacted messages and what follows ──"
    )


def render_session(
    session: SessionRecord,
    messages: list[StoredMessage],
    steps: list[tuple[CheckpointRecord, list[str]]],
    compactions: Sequence[CompactionRecord] = (),
) -> str:
    """The whole `sessions show` text: header, transcript with the compaction points, then
    checkpoints with changed files."""
    out = [
        f"session {session.id}  {session.status}  agent {session.agent}  model {session.model or '-'}",
        f"workspace {session.workspace}",
        f"created {session.created:%Y-%m-%d %H:%M:%S}  turns {session.num_turns}  "
        f"tokens in {session.usage.context_tokens} out {session.usage.output_tokens}  "
        f"cost ${session.cost_usd:.4f}",
    ]
    if session.parent_id:
        out.append(f"parent {session.parent_id} (tool call {session.parent_tool_use_id})")
    pending = list(compactions)
    for message in messages:
        out.extend(f"\n{compaction_line(c)}" for c in pending if c.upto_seq < message.seq)
        pending = [c for c in pending if c.upto_seq >= message.seq]
        out.append("")
        out.append(f"[{message.seq}] {message.role}")
        for block in message.content:
            out.extend(f"  {line}" for line in render_block(block))
    out.extend(f"\n{compaction_line(c)}" for c in pending)
    if steps:
        out.append("")
        out.append("checkpoints (undo with `subagent undo --session ID --to STEP`):")
        for record, files in steps:
            out.append(f"  step {record.step}  {record.commit[:12]}  {record.label}")
            out.extend(f"    {line}" for line in files or ["(no files changed)"])
    return "\n".join(out)
