"""Make a stored transcript a valid Messages API request prefix again after a crash.

The loop stores each message only once it is complete, but a run can die between a `tool_use`
and its `tool_result`, and a damaged or hand-edited store may hold worse. The API rejects a
`tool_use` that is not answered, first thing, in the very next user message; this pure function
restores that shape and says what it changed, so the resumed model knows what happened.
"""

from collections.abc import Iterable, Sequence

from pydantic import BaseModel

from agent.sessions.base import StoredMessage
from agent.transcript import (
    Block,
    Message,
    OtherBlock,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    Transcript,
    interrupted_block,
    tool_uses,
)


class RepairResult(BaseModel):
    """The repaired messages (ready for the API) and what was changed."""

    messages: Transcript
    notes: list[str]
    """One line per change, for the log and the user; empty when the transcript was already valid."""


def repair_transcript(
    messages: Sequence[StoredMessage] | Sequence[Message], started_tools: Iterable[str] = ()
) -> RepairResult:
    """Repair `messages` so the next request built on them is valid.

    Args:
        messages: the stored transcript, oldest first.
        started_tools: ids of tool calls that had begun executing (`store.started_tools`), so an
            interrupted call can say whether it may have had effects.
    """
    notes: list[str] = []
    started = set(started_tools)
    normalised = _drop_empty(_normalise(messages, notes), notes)
    normalised = _drop_cut_tail(normalised, notes)
    merged = _merge_same_role(normalised, notes)
    while merged and merged[0].role != "user":
        notes.append("dropped an assistant message at the start (a request must begin with the user)")
        merged.pop(0)
    return RepairResult(messages=_answer_tool_uses(merged, started, notes), notes=notes)


def _normalise(messages: Sequence[StoredMessage] | Sequence[Message], notes: list[str]) -> list[Message]:
    out: list[Message] = []
    for raw in messages:
        blocks = raw.content
        kept = [b for b in blocks if not _empty_text(b)]
        if len(kept) != len(blocks):
            notes.append(f"dropped {len(blocks) - len(kept)} empty text block(s) from a {raw.role} message")
        out.append(Message(role=raw.role, content=kept))
    return out


def _empty_text(block: Block) -> bool:
    """A text block with no text (one without its `text` field at all is read as an OtherBlock)."""
    if isinstance(block, OtherBlock):
        return block.type == "text" and "text" not in (block.model_extra or {})
    return isinstance(block, TextBlock) and not block.text.strip()


def _drop_empty(messages: list[Message], notes: list[str]) -> list[Message]:
    kept = [m for m in messages if m.content]
    if len(kept) != len(messages):
        notes.append(f"dropped {len(messages) - len(kept)} message(s) with no content")
    return kept


def _is_cut(message: Message) -> bool:
    """An assistant message that cannot have been received whole: a tool call without an input object."""
    return any(not isinstance(call.input, dict) for call in tool_uses(message.content))


def _drop_cut_tail(messages: list[Message], notes: list[str]) -> list[Message]:
    if messages and messages[-1].role == "assistant" and _is_cut(messages[-1]):
        notes.append("dropped the last assistant message: it was cut off mid tool call")
        return messages[:-1]
    return [_mend_inputs(m, notes) if m.role == "assistant" and _is_cut(m) else m for m in messages]


def _mend_inputs(message: Message, notes: list[str]) -> Message:
    blocks: list[Block] = []
    for block in message.content:
        if isinstance(block, ToolUseBlock) and not isinstance(block.input, dict):
            block = block.with_fields(input={})
            notes.append(f"tool call {block.id} had no valid input; sent as {{}}")
        blocks.append(block)
    return Message(role=message.role, content=blocks)


def _merge_same_role(messages: list[Message], notes: list[str]) -> list[Message]:
    merged: list[Message] = []
    for message in messages:
        if merged and merged[-1].role == message.role:
            merged[-1] = Message(role=message.role, content=[*merged[-1].content, *message.content])
            notes.append(f"merged two consecutive {message.role} messages")
        else:
            merged.append(message)
    return merged


def _answer_tool_uses(messages: list[Message], started: set[str], notes: list[str]) -> list[Message]:
    """Give every tool_use its tool_result first thing in the next user message; drop orphans."""
    out: list[Message] = []
    pending: list[str] = []  # tool_use ids of the previous assistant message, in order
    for message in messages:
        if message.role == "assistant":
            if pending:  # an assistant message follows one with unanswered calls
                out.append(Message(role="user", content=_interrupted(pending, started, notes)))
            out.append(message)
            pending = [call.id for call in tool_uses(message.content)]
            continue
        out.append(_fix_user_message(message, pending, started, notes))
        pending = []
    if pending:
        out.append(Message(role="user", content=_interrupted(pending, started, notes)))
    return out


def _fix_user_message(message: Message, pending: list[str], started: set[str], notes: list[str]) -> Message:
    results: dict[str, ToolResultBlock] = {}
    others: list[Block] = []
    for block in message.content:
        if not isinstance(block, ToolResultBlock):
            others.append(block)
        elif block.tool_use_id in pending and block.tool_use_id not in results:
            results[block.tool_use_id] = block
        else:
            notes.append(f"dropped a tool_result for {block.tool_use_id}: no matching tool call before it")
    missing = [tool_id for tool_id in pending if tool_id not in results]
    answered = _interrupted(missing, started, notes) if missing else []
    filled = {**results, **{b.tool_use_id: b for b in answered}}
    ordered: list[Block] = [filled[tool_id] for tool_id in pending]
    if results and message.content[: len(results)] != [results[t] for t in pending if t in results]:
        notes.append("moved tool results to the front of their user message")
    return Message(role="user", content=ordered + others)


def _interrupted(tool_ids: list[str], started: set[str], notes: list[str]) -> list[ToolResultBlock]:
    blocks: list[ToolResultBlock] = []
    for tool_id in tool_ids:
        ran = tool_id in started
        notes.append(
            f"tool call {tool_id} had no result; answered as interrupted "
            f"({'it had started' if ran else 'it had not started'})"
        )
        blocks.append(interrupted_block(tool_id, ran))
    return blocks
