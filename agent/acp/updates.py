"""Events to ACP `session/update` payloads: the one place that knows both vocabularies.

`UpdateMapper` is fed the runtime's events of one ACP session in order and returns the updates to
send for each. It keeps just enough state to show a subagent's tool calls under the `task` call
that started them (ids namespaced by child session, titles prefixed with the child's agent) and to
turn the last model stop into an ACP stop reason. `replay_updates` turns stored messages into the
updates `session/load` sends before it answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from agent.events import (
    AssistantMessageEvent,
    ErrorEvent,
    Event,
    FileChange,
    HookEvent,
    PermissionAnsweredEvent,
    PermissionAskedEvent,
    ResultEvent,
    SessionStartedEvent,
    SubagentFinishedEvent,
    SubagentStartedEvent,
    TextDeltaEvent,
    ThinkingDeltaEvent,
    ToolCallFinishedEvent,
    ToolCallStartedEvent,
)
from agent.transcript import TextBlock, ThinkingBlock, ToolResultBlock, ToolUseBlock

if TYPE_CHECKING:
    from acp.schema import ToolCallLocation

    from agent.sessions.base import StoredMessage

StopReason = Literal["end_turn", "max_tokens", "max_turn_requests", "refusal", "cancelled"]

TOOL_KINDS: dict[str, str] = {
    "read": "read",
    "edit": "edit",
    "write": "edit",
    "patch": "edit",
    "grep": "search",
    "glob": "search",
    "bash": "execute",
    "task": "other",
}
"""Kinds of the built-in tools, for replayed history (live events carry their own kind)."""

_CHANGE_KINDS = {"delete": "delete", "move": "move"}
_LINE_SUFFIX = re.compile(r"^(?P<path>.+):(?P<line>\d+)$")
_SUBTYPE_STOPS: dict[str, StopReason] = {"error_max_turns": "max_turn_requests", "cancelled": "cancelled"}


def locations_for(raw: list[str], cwd: Path) -> list[ToolCallLocation]:
    """`path` or `path:line` strings as ACP locations: absolute paths, 1-based lines."""
    from acp.schema import ToolCallLocation

    out: list[ToolCallLocation] = []
    for item in raw:
        match = _LINE_SUFFIX.match(item)
        path, line = (match["path"], int(match["line"])) if match else (item, None)
        out.append(
            ToolCallLocation(
                path=str((cwd / path) if not Path(path).is_absolute() else Path(path)), line=line
            )
        )
    return out


def _text_content(text: str) -> Any:
    from acp import text_block, tool_content

    return tool_content(text_block(text))


def _diff_content(change: FileChange) -> Any:
    from acp import tool_diff_content

    return tool_diff_content(change.path, change.new_text or "", change.old_text)


@dataclass(eq=False, repr=False)
class UpdateMapper:
    """Maps one session's events to ACP updates. See the module docstring."""

    cwd: Path
    root_session: str | None = None
    """The top-level runtime session; events from any other session belong to a subagent."""
    child_agents: dict[str, str] = field(default_factory=dict)
    """Child session id -> agent name, from SubagentStarted."""
    _owners: dict[str, str] = field(default_factory=dict)
    """Child session id -> the session whose `task` call started it."""
    last_stop: str | None = None
    result: ResultEvent | None = None
    error_shown: bool = False
    notices_shown: set[str] = field(default_factory=set)
    """Boundary notices already shown in this ACP session (pass the session's own set, so a
    notice shows once, not at every prompt)."""

    def call_id(self, session_id: str, tool_use_id: str) -> str:
        """The ACP tool call id: raw for the root session, namespaced for a subagent's calls."""
        if self.root_session is None or session_id == self.root_session:
            return tool_use_id
        return f"{session_id}/{tool_use_id}"

    def _is_child(self, event: Event) -> bool:
        return event.parent_tool_use_id is not None or (
            self.root_session is not None and event.session_id != self.root_session
        )

    def _prefix(self, event: Event) -> str:
        agent = self.child_agents.get(event.session_id)
        return f"{agent}: " if agent and self._is_child(event) else ""

    def _meta(self, event: Event) -> dict[str, Any]:
        if not self._is_child(event) or event.parent_tool_use_id is None:
            return {}
        return {"parentToolCallId": self._parent_call_id(event)}

    def _parent_call_id(self, event: Event) -> str:
        """The displayed id of the `task` call that started this event's session."""
        assert event.parent_tool_use_id is not None
        owner = self._owners.get(event.session_id, self.root_session or "")
        return self.call_id(owner, event.parent_tool_use_id)

    def updates(self, event: Event) -> list[Any]:
        """The ACP updates for one event (often none)."""
        from acp import update_agent_message_text, update_agent_thought_text

        if isinstance(event, SessionStartedEvent):
            if self.root_session is None and event.parent_tool_use_id is None:
                self.root_session = event.session_id
            return self._notices(event)
        if isinstance(event, TextDeltaEvent | ThinkingDeltaEvent):
            if self._is_child(event) or not event.text:
                return []  # a subagent's prose reaches the parent as the `task` call's result
            if isinstance(event, TextDeltaEvent):
                return [update_agent_message_text(event.text)]
            return [update_agent_thought_text(event.text)]
        if isinstance(event, AssistantMessageEvent):
            if not self._is_child(event):
                self.last_stop = event.stop_reason
            return []
        if isinstance(event, ErrorEvent):
            return self._error(event)
        if isinstance(event, HookEvent):
            return self._hook(event)
        if isinstance(event, ResultEvent):
            if not self._is_child(event):
                self.result = event
            return []
        return self._tool_updates(event)

    def _notices(self, event: SessionStartedEvent) -> list[Any]:
        """No sandbox, network, refused workspace keys: an agent message the user sees before the
        reply, with the run's boundary in `_meta` (`subagent/boundary`) for clients that read it."""
        from acp import update_agent_message_text

        who = f"{event.agent}: " if event.parent_tool_use_id else ""
        lines = [f"{who}{line}" for line in event.notices() if f"{who}{line}" not in self.notices_shown]
        if not lines:
            return []
        self.notices_shown.update(lines)
        text = "".join(f"⚠ {line}\n" for line in lines) + "\n"
        meta = {"subagent/boundary": {"agent": event.agent, **event.boundary().model_dump()}}
        return [update_agent_message_text(text).model_copy(update={"field_meta": meta})]

    def _hook(self, event: HookEvent) -> list[Any]:
        """A failed hook is told (the run went on without it); the others' effects show elsewhere
        (a denied call, a blocked stop), so they are not."""
        from acp import update_agent_message_text

        if not event.failed:
            return []
        return [
            update_agent_message_text(
                f"\n⚠ hook {event.hook_event} `{event.command}` failed: {event.message}\n"
            )
        ]

    def _error(self, event: ErrorEvent) -> list[Any]:
        from acp import update_agent_message_text

        if event.retrying or self._is_child(event):
            return []
        self.error_shown = True
        return [update_agent_message_text(f"\n\nError ({event.error_type}): {event.message}\n")]

    def _tool_updates(self, event: Event) -> list[Any]:
        if isinstance(event, ToolCallStartedEvent):
            return [self._started(event)]
        if isinstance(event, PermissionAskedEvent | PermissionAnsweredEvent):
            return [self._permission(event)]
        if isinstance(event, ToolCallFinishedEvent):
            return [self._finished(event)]
        if isinstance(event, SubagentStartedEvent | SubagentFinishedEvent):
            return self._subagent(event)
        return []

    def _started(self, event: ToolCallStartedEvent) -> Any:
        from acp import start_tool_call

        update = start_tool_call(
            self.call_id(event.session_id, event.tool_use_id),
            self._prefix(event) + event.title,
            kind=event.kind,  # our kinds are a subset of ACP's
            status="in_progress",
            locations=locations_for(event.locations, self.cwd) or None,
            raw_input=event.input,
        )
        if meta := self._meta(event):
            update.field_meta = meta
        return update

    def _permission(self, event: PermissionAskedEvent | PermissionAnsweredEvent) -> Any:
        from acp import update_tool_call

        call = self.call_id(event.session_id, event.tool_use_id)
        if isinstance(event, PermissionAskedEvent):
            return update_tool_call(call, status="pending")
        if event.decision == "allow":
            return update_tool_call(call, status="in_progress")
        reason = event.reason or "permission denied"
        return update_tool_call(call, status="failed", content=[_text_content(f"Denied: {reason}")])

    def _finished(self, event: ToolCallFinishedEvent) -> Any:
        from acp import update_tool_call

        content = [
            _diff_content(change)
            for change in event.changes
            if change.new_text is not None or change.old_text is not None
        ]
        if event.output:
            content.append(_text_content(event.output))
        kinds = {_CHANGE_KINDS[c.action] for c in event.changes if c.action in _CHANGE_KINDS}
        touched = list(dict.fromkeys([*event.files_touched, *(c.path for c in event.changes)]))
        return update_tool_call(
            self.call_id(event.session_id, event.tool_use_id),
            status="failed" if event.is_error else "completed",
            kind=kinds.pop() if len(kinds) == 1 else None,  # type: ignore[arg-type]
            content=content or None,
            locations=locations_for(touched, self.cwd) or None,
            raw_output={"is_error": event.is_error, "duration_ms": round(event.duration_ms, 1)},
        )

    def _subagent(self, event: SubagentStartedEvent | SubagentFinishedEvent) -> list[Any]:
        from acp import update_tool_call

        if event.parent_tool_use_id is None:
            return []
        task_call = self.call_id(event.session_id, event.parent_tool_use_id)
        if isinstance(event, SubagentStartedEvent):
            self.child_agents[event.child_session_id] = event.agent
            self._owners[event.child_session_id] = event.session_id
            title = f"task → {event.agent}" + (f": {event.description}" if event.description else "")
            return [update_tool_call(task_call, title=title, status="in_progress")]
        files = f"; files changed: {', '.join(event.files_changed)}" if event.files_changed else ""
        report = _text_content(f"{event.agent} finished: {event.subtype}{files}")
        return [update_tool_call(task_call, content=[report])]

    def stop_reason(self, cancelled: bool) -> StopReason:
        """What `session/prompt` answers, from the result and the last model stop."""
        if cancelled:
            return "cancelled"
        if self.result is not None and self.result.subtype in _SUBTYPE_STOPS:
            return _SUBTYPE_STOPS[self.result.subtype]
        if self.last_stop == "refusal":
            return "refusal"
        if self.last_stop == "max_tokens" and self.result is not None and self.result.is_error:
            return "max_tokens"
        return "end_turn"

    def failure_text(self) -> str | None:
        """A line to show when the run ended in an error nobody has seen yet."""
        result = self.result
        if result is None or not result.is_error or result.subtype == "cancelled" or self.error_shown:
            return None
        denials = "".join(f"\n- {d.tool_name}: {d.reason}" for d in result.permission_denials)
        return f"\n\nStopped ({result.subtype}): {result.result}{denials}\n"


def _input_summary(name: str, tool_input: dict[str, Any]) -> str:
    for key in ("file_path", "command", "pattern", "description", "path"):
        if isinstance(tool_input.get(key), str):
            return f"{name} {tool_input[key]}"
    return name


def replay_updates(messages: list[StoredMessage], cwd: Path) -> list[Any]:
    """The updates that show a stored conversation again (for `session/load`)."""
    from acp import (
        start_tool_call,
        update_agent_message_text,
        update_agent_thought_text,
        update_tool_call,
        update_user_message_text,
    )

    out: list[Any] = []
    for message in messages:
        for block in message.content:
            if isinstance(block, TextBlock) and block.text:
                make = update_user_message_text if message.role == "user" else update_agent_message_text
                out.append(make(block.text))
            elif isinstance(block, ThinkingBlock) and block.thinking:
                out.append(update_agent_thought_text(block.thinking))
            elif isinstance(block, ToolUseBlock):
                tool_input = block.arguments
                path = tool_input.get("file_path")
                out.append(start_tool_call(
                    block.id, _input_summary(block.name, tool_input),
                    kind=TOOL_KINDS.get(block.name, "other"),  # type: ignore[arg-type]
                    status="in_progress", raw_input=tool_input,
                    locations=locations_for([path], cwd) if isinstance(path, str) else None,
                ))  # fmt: skip
            elif isinstance(block, ToolResultBlock):
                text = block.text(mark_other=False)
                out.append(update_tool_call(
                    block.tool_use_id, status="failed" if block.failed else "completed",
                    content=[_text_content(text)] if text else None,
                ))  # fmt: skip
    return out
