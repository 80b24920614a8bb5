"""The hooks of a session's own points: SessionStart, UserPromptSubmit, PreCompact, Stop /
SubagentStop and SessionEnd (the tool hooks are `agent.loop.tool_calls`'). Each method puts the
hooks' events in `said` (PreCompact: emits them), for the loop to yield in its stream."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent.hooks.protocol import NO_ANSWER, HookAnswer
from agent.hooks.runner import HookRunner


class LoopHooks:
    """One session's loop-level hooks (none when `runner` is None)."""

    def __init__(self, runner: HookRunner | None, *, resumed: bool, child: bool) -> None:
        self.runner = runner
        self.resumed = resumed
        self.child = child
        self.stop_hook_active = False
        """True once a Stop hook kept the agent going (`stop_hook_active` in the next Stop's input)."""

    async def fire(
        self, event: str, fields: dict[str, Any], emit: Callable[[Any], None], match: str = ""
    ) -> HookAnswer:
        """Run `event`'s hooks (none without a runner), their events to `emit`."""
        if self.runner is None:
            return NO_ANSWER
        return await self.runner.fire(event, fields, emit, match=match)

    async def start(self, prompt: str | None, said: list[Any]) -> tuple[str | None, str | None]:
        """SessionStart, then UserPromptSubmit: (context for the model, why the run must end)."""
        source = "resume" if self.resumed else "startup"
        start = await self.fire("SessionStart", {"source": source}, said.append, match=source)
        if start.stop:
            return None, start.stop_reason or "a SessionStart hook ended the run"
        if not prompt:
            return start.context or None, None
        submit = await self.fire("UserPromptSubmit", {"prompt": prompt}, said.append)
        if submit.decision == "block" or submit.stop:
            why = submit.reason or submit.stop_reason or "no reason given"
            return None, f"the prompt was blocked by a UserPromptSubmit hook: {why}"
        return "\n\n".join(filter(None, (start.context, submit.context))) or None, None

    async def stop(self, said: list[Any]) -> str | None:
        """Stop (SubagentStop for a child): the text to go on with when a hook blocked the stop."""
        event = "SubagentStop" if self.child else "Stop"
        answer = await self.fire(event, {"stop_hook_active": self.stop_hook_active}, said.append)
        if answer.decision != "block" or answer.stop:
            return None
        self.stop_hook_active = True
        return answer.reason or f"a {event} hook asked to go on"

    async def pre_compact(self, manual: bool, emit: Callable[[Any], None]) -> None:
        """PreCompact, before a compaction: `manual` (`/compact`) or `auto` (the window filled, or
        a reply was cut by it). As in Claude Code it cannot stop the compaction; its events and
        failures are shown."""
        trigger = "manual" if manual else "auto"
        await self.fire("PreCompact", {"trigger": trigger, "custom_instructions": ""}, emit, match=trigger)
