"""Compaction by summary: the older turns become one structured summary, the recent ones stay verbatim.

The summarizing call asks the same model, with the same tools and system prompt (so it reads the
conversation from the prompt cache), for a summary in five parts: goal, decisions, files touched,
state of the work, next step. The new transcript starts with one user message holding the task as
first given (verbatim, so the goal never drifts), that summary, and the files the tool calls
touched; then the most recent turns follow unchanged. The cut is always just before an assistant
message, so every tool_use keeps its tool_result right after it.
"""

from __future__ import annotations

import re

from agent.context.tokens import json_bytes
from agent.transcript import Block, Message, TextBlock, text_of, tool_uses

SUMMARY_INSTRUCTION = (
    "<compact-request>\nThe conversation is about to be compacted. Summarize the session so far so "
    "the work can go on from your summary alone. Do not call tools. Write five short, exact "
    "sections:\nGoal: the task and every constraint the user gave.\nDecisions: what was decided, "
    "and why.\nFiles touched: each file read or changed, and what changed in it.\nState of the "
    "work: what is done, what was verified, what still fails.\nNext step: the very next action.\n"
    "</compact-request>"
)
_TASK = re.compile(r"<task>\n(.*?)\n</task>", re.DOTALL)
_PATCH_FILE = re.compile(r"^(?:\*\*\* (?:Add|Update|Delete) File: |\+\+\+ (?:b/)?)(.+)$", re.MULTILINE)
_LISTED = re.compile(r"^Files (read|changed) before this point: (.+)$", re.MULTILINE)
_CHANGING = {"edit", "write", "patch"}
_MAX_GOAL_CHARS = 20_000
_MAX_FILES = 40


def _text(message: Message) -> str:
    return "\n".join(text_of(message.content))


def original_goal(messages: list[Message]) -> str:
    """The task as first given: the first user message's text, or the one an earlier summary kept."""
    first = next((_text(m) for m in messages if m.role == "user"), "")
    found = _TASK.search(first)
    goal = found.group(1) if found else first.strip()
    if len(goal) > _MAX_GOAL_CHARS:
        goal = goal[:_MAX_GOAL_CHARS] + "\n[... the rest of the task text was cut ...]"
    return goal


def files_touched(messages: list[Message]) -> tuple[list[str], list[str]]:
    """(files read, files changed) by the tool calls in `messages` (and listed by an earlier
    summary among them), in first-seen order."""
    read: dict[str, None] = {}
    changed: dict[str, None] = {}
    for message in messages:
        if message.role == "user":
            for found in _LISTED.finditer(_text(message)):
                target = changed if found.group(1) == "changed" else read
                target.update(dict.fromkeys(found.group(2).split(", ")))
            continue
        for call in tool_uses(message.content):
            name, data = call.name, call.arguments
            paths = [str(data["file_path"])] if "file_path" in data else []
            if name == "patch":
                paths += _PATCH_FILE.findall(str(data.get("patch_text") or data.get("patch") or ""))
            touched = changed if name in _CHANGING else read if name == "read" else None
            if touched is None:
                continue
            for path in paths:
                if path.strip() != "/dev/null":
                    touched.setdefault(path.strip(), None)
    return list(read)[:_MAX_FILES], list(changed)[:_MAX_FILES]


def split_index(messages: list[Message], tail_bytes: int) -> int:
    """Where the verbatim tail starts: the earliest assistant message after which at most
    `tail_bytes` remain (len(messages) when even the last turn is bigger)."""
    size = 0
    best = len(messages)
    for index in range(len(messages) - 1, 0, -1):
        size += json_bytes(messages[index].to_wire())
        if size > tail_bytes:
            break
        if messages[index].role == "assistant":
            best = index
    return best


def summary_request_messages(older: list[Message]) -> list[Message]:
    """The older turns with the summary instruction after the last user message's blocks."""
    instruction = TextBlock(text=SUMMARY_INSTRUCTION)
    return [*older[:-1], Message(role="user", content=[*older[-1].content, instruction])]


def summary_message(goal: str, summary: str, older: list[Message]) -> Message:
    """The user message that stands for `older` in the compacted transcript."""
    read, changed = files_touched(older)
    lines = [
        "<context-summary>",
        "This session was compacted to fit the context window; this summary replaces the earlier turns.",
        "The task, as first given:",
        "<task>",
        goal,
        "</task>",
        "<summary>",
        summary.strip() or "(no summary could be made; rely on the task and the files below)",
        "</summary>",
    ]
    if changed:
        lines.append("Files changed before this point: " + ", ".join(changed))
    if read:
        lines.append("Files read before this point: " + ", ".join(read))
    lines += [
        "Tool outputs from before this point are gone: read files again when you need their content.",
        "</context-summary>",
    ]
    return Message(role="user", content=[TextBlock(text="\n".join(lines))])


def reply_text(content: list[Block]) -> str:
    """The text of the summarizing call's reply (a tool call in it is ignored)."""
    return "\n".join(text_of(content)).strip()
