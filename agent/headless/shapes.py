"""The event stream as Claude Code's stream-json messages (`system/init`, `assistant`, `user`,
`result`, `stream_event`), which the Claude Agent SDK's parser and CI tooling read.

One `ClaudeShapes` per headless process; it keeps what Claude Code's messages carry and our
events spread out (the model of each session, each turn's usage for its assistant message, the
API time, each model's usage and cost). Events Claude Code has no message for travel as `system`
messages with our event type as the subtype, which readers of Claude Code's stream skip.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from agent import __version__
from agent.events import Usage
from agent.transcript import blocks_to_wire

CLAUDE_CODE_INTERFACE = "2.1.337"
"""The Claude Code release whose headless interface this reproduces: the one bundled with
claude-agent-sdk 0.2.190, which the tests drive us with (init's `claude_code_version`)."""

RESULT_SUBTYPES = {
    "success": "success",
    "error_max_turns": "error_max_turns",
    "error_max_budget": "error_max_budget_usd",
    "error_during_execution": "error_during_execution",
    "error_permission_denied": "success",
    "cancelled": "error_during_execution",
}
"""Ours -> Claude Code's, which has no subtype for a cancel, and ends a run the model finished
after a denial as `success` with the call in `permission_denials`; ours stays in `subagent`."""

_QUIET = frozenset({"turn_started", "text_delta", "thinking_delta", "usage", "assistant_message", "result"})
"""Events folded into Claude Code's messages, never sent as extra `system` lines."""


def _uid() -> str:
    return str(uuid.uuid4())


def claude_usage(usage: Usage) -> dict[str, Any]:
    return {**usage.model_dump(), "server_tool_use": {"web_search_requests": 0}, "service_tier": "standard"}


class ClaudeShapes:
    """Translates events to Claude Code's messages; `messages(event)` returns zero or more."""

    def __init__(self, *, partial: bool = False) -> None:
        self.permission_mode = "default"
        """Claude Code's name of the mode the run starts in, for its `init` (the session sets it)."""
        self.partial = partial
        self.agents: list[str] = []
        self.slash_commands: list[str] = []
        """The workspace's custom commands, by name (the `init` message lists them)."""
        self.skills: list[str] = []
        """The skills found, by name."""
        self._models: dict[str, str] = {}  # session -> model
        self._turn: dict[str, tuple[str, float, Usage]] = {}  # session -> message id, start, usage
        self._blocks: dict[str, tuple[int, str]] = {}  # session -> streamed block index, its type
        self._owner: dict[str, str] = {}  # tool_use_id -> the session that called it
        self._totals: dict[str, tuple[float, str | None]] = {}  # session -> cost, parent session
        self._tokens: dict[str, Usage] = {}  # model -> usage
        self._answered: dict[str, str] = {}  # session -> the model that answered its latest turn
        self._moved: dict[str, dict[str, float]] = {}  # session -> fallback model -> its turns' cost
        self._windows: dict[str, int] = {}  # model -> context window
        self.api_ms = 0.0
        self.stop_reason: str | None = None

    def messages(self, event: Any) -> list[dict[str, Any]]:
        """Claude Code's messages for one event (a root `result` included; see `result`)."""
        handler = getattr(self, "_on_" + event.type, None)
        out: list[dict[str, Any]] = handler(event) if handler else []
        if event.type not in _QUIET:
            out.append(self._extra(event))
        return out

    def _base(self, event: Any) -> dict[str, Any]:
        return {
            "parent_tool_use_id": event.parent_tool_use_id,
            "session_id": event.session_id,
            "uuid": _uid(),
        }

    def _extra(self, event: Any) -> dict[str, Any]:
        data = event.model_dump(mode="json", exclude={"type", "output"})  # the output is in the `user` line
        return {**data, "type": "system", "subtype": event.type, "uuid": _uid()}

    def _on_session_started(self, event: Any) -> list[dict[str, Any]]:
        self._models[event.session_id] = event.model
        self._windows[event.model] = event.context_window
        if event.parent_tool_use_id is not None:
            return []
        init = {
            "type": "system",
            "subtype": "init",
            "cwd": event.cwd,
            "session_id": event.session_id,
            "tools": event.tools,
            "mcp_servers": [server.model_dump(exclude_none=True) for server in event.mcp_servers],
            "model": event.model,
            "permissionMode": self.permission_mode,
            "slash_commands": self.slash_commands,
            "apiKeySource": "ANTHROPIC_API_KEY",
            "claude_code_version": CLAUDE_CODE_INTERFACE,
            "subagent_version": __version__,
            "output_style": "default",
            "agents": self.agents,
            "skills": self.skills,
            "plugins": [],
            "uuid": _uid(),
        }
        return [init]

    def _on_turn_started(self, event: Any) -> list[dict[str, Any]]:
        message_id = "msg_" + uuid.uuid4().hex[:24]
        self._turn[event.session_id] = (message_id, time.monotonic(), Usage())
        self._blocks.pop(event.session_id, None)
        start = {
            "type": "message_start",
            "message": {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "content": [],
                "model": self._models.get(event.session_id, ""),
                "stop_reason": None,
                "usage": {},
            },
        }
        return self._stream(event, start)

    def _stream(self, event: Any, raw: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"type": "stream_event", "event": raw, **self._base(event)}] if self.partial else []

    def _delta(self, event: Any, kind: str) -> list[dict[str, Any]]:
        index, open_kind = self._blocks.get(event.session_id, (-1, ""))
        out: list[dict[str, Any]] = []
        if open_kind != kind:
            if index >= 0:
                out += self._stream(event, {"type": "content_block_stop", "index": index})
            index += 1
            self._blocks[event.session_id] = (index, kind)
            block = {"type": "text", "text": ""} if kind == "text" else {"type": "thinking", "thinking": ""}
            out += self._stream(
                event, {"type": "content_block_start", "index": index, "content_block": block}
            )
        delta = (
            {"type": "text_delta", "text": event.text}
            if kind == "text"
            else {"type": "thinking_delta", "thinking": event.text}
        )
        return out + self._stream(event, {"type": "content_block_delta", "index": index, "delta": delta})

    def _on_text_delta(self, event: Any) -> list[dict[str, Any]]:
        return self._delta(event, "text")

    def _on_thinking_delta(self, event: Any) -> list[dict[str, Any]]:
        return self._delta(event, "thinking")

    def _on_usage(self, event: Any) -> list[dict[str, Any]]:
        message_id, started, _ = self._turn.get(
            event.session_id, ("msg_" + uuid.uuid4().hex[:24], 0.0, Usage())
        )
        self._turn[event.session_id] = (message_id, started, event.usage)
        home = self._models.get(event.session_id, "")
        model = event.model or home
        self._answered[event.session_id] = model
        self._tokens[model] = self._tokens.get(model, Usage()) + event.usage
        if model != home:  # a fallback model answered: its cost is its own, not the session's model's
            moved = self._moved.setdefault(event.session_id, {})
            moved[model] = moved.get(model, 0.0) + event.turn_cost_usd
        return []

    def _on_assistant_message(self, event: Any) -> list[dict[str, Any]]:
        message_id, started, usage = self._turn.get(
            event.session_id, ("msg_" + uuid.uuid4().hex[:24], 0.0, Usage())
        )
        if started:
            self.api_ms += (time.monotonic() - started) * 1000
        if event.parent_tool_use_id is None:
            self.stop_reason = event.stop_reason
        out: list[dict[str, Any]] = []
        index, _ = self._blocks.pop(event.session_id, (-1, ""))
        if index >= 0:
            out += self._stream(event, {"type": "content_block_stop", "index": index})
        out += self._stream(
            event,
            {
                "type": "message_delta",
                "delta": {"stop_reason": event.stop_reason},
                "usage": {"output_tokens": usage.output_tokens},
            },
        )
        out += self._stream(event, {"type": "message_stop"})
        for block in blocks_to_wire(event.content):  # one line per block, as Claude Code prints them
            if block.get("type") == "tool_use":
                self._owner[block["id"]] = event.session_id
            message = {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": self._answered.get(event.session_id) or self._models.get(event.session_id, ""),
                "content": [block],
                "stop_reason": event.stop_reason,
                "stop_sequence": None,
                "usage": claude_usage(usage),
            }
            out.append({"type": "assistant", "message": message, **self._base(event)})
        return out

    def _on_tool_call_finished(self, event: Any) -> list[dict[str, Any]]:
        block = {
            "type": "tool_result",
            "tool_use_id": event.tool_use_id,
            "content": event.output,
            "is_error": event.is_error,
        }
        return [{"type": "user", "message": {"role": "user", "content": [block]}, **self._base(event)}]

    def _on_result(self, event: Any) -> list[dict[str, Any]]:
        parent = self._owner.get(event.parent_tool_use_id or "")
        self._totals[event.session_id] = (event.total_cost_usd, parent)
        return [] if event.parent_tool_use_id is not None else [self.result(event)]

    def model_usage(self) -> dict[str, dict[str, Any]]:
        """Each model's tokens and cost; a session's own cost is its total less its children's, and
        less its turns a fallback model answered, which count under that model."""
        own: dict[str, float] = {s: cost for s, (cost, _) in self._totals.items()}
        for cost, parent in self._totals.values():
            if parent is not None and parent in own:
                own[parent] -= cost
        costs: dict[str, float] = {}
        for session, cost in own.items():
            costs[self._models.get(session, "")] = costs.get(self._models.get(session, ""), 0.0) + cost
        for session, moved in self._moved.items():
            for model, cost in moved.items():
                costs[model] = costs.get(model, 0.0) + cost
                costs[self._models.get(session, "")] = costs.get(self._models.get(session, ""), 0.0) - cost
        out: dict[str, dict[str, Any]] = {}
        for model, usage in self._tokens.items():
            cost = costs.get(model, 0.0)
            out[model] = {
                "inputTokens": usage.input_tokens,
                "outputTokens": usage.output_tokens,
                "cacheReadInputTokens": usage.cache_read_input_tokens,
                "cacheCreationInputTokens": usage.cache_creation_input_tokens,
                "webSearchRequests": 0,
                "costUSD": max(cost, 0.0),
                "contextWindow": self._windows.get(model, 0),
            }
        return out

    def result(self, event: Any) -> dict[str, Any]:
        """The root run's `result` message (Claude Code's fields; ours under `subagent`)."""
        out: dict[str, Any] = {
            "type": "result",
            "subtype": RESULT_SUBTYPES[event.subtype],
            "is_error": RESULT_SUBTYPES[event.subtype] != "success",
            "duration_ms": round(event.duration_ms),
            "duration_api_ms": round(self.api_ms),
            "num_turns": event.num_turns,
            "result": event.result,
            "stop_reason": self.stop_reason,
            "session_id": event.session_id,
            "total_cost_usd": event.total_cost_usd,
            "usage": claude_usage(event.usage),
            "modelUsage": self.model_usage(),
            "permission_denials": [
                {
                    "tool_name": d.tool_name,
                    "tool_use_id": d.tool_use_id,
                    "tool_input": d.tool_input,
                    "reason": d.reason,
                }
                for d in event.permission_denials
            ],
            "uuid": _uid(),
            "subagent": {"subtype": event.subtype, "files_changed": event.files_changed},
        }
        if out["is_error"]:
            out["errors"] = [event.result] if event.result else []
        return out
