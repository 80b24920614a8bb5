"""Run one turn's tool calls: validate, ask the gate, checkpoint, run, and collect every result.

Permissions are settled one call at a time in the model's order (a person answers asks one by
one); then, if any allowed call may change files, one checkpoint is taken; then the calls run in
a bounded task group, independent ones (conflict_key None) side by side, calls sharing a key in
order. Results land in `TurnCalls.results` as they finish, so a cancelled turn still knows which
calls completed; the rest are answered as interrupted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from pydantic import ValidationError

from agent.errors import SubagentError, ToolFailure
from agent.events import (
    ErrorEvent,
    EventSink,
    EventT,
    PermissionAnsweredEvent,
    PermissionAskedEvent,
    PermissionDenial,
    ToolCallFinishedEvent,
    ToolCallStartedEvent,
)
from agent.hooks.protocol import NO_ANSWER, HookAnswer
from agent.hooks.runner import PEER_TOOL_NAMES, HookRunner
from agent.loop.call_text import ask_detail, validation_text
from agent.loop.changed_input import ChangedCall, ran_with
from agent.loop.turn_calls import ToolCall, TurnCalls
from agent.permissions.models import AskAnswer, AskRequest
from agent.tool import PermissionRequest, Tool, ToolCallInfo, ToolContext, ToolResult

Checkpointer = Callable[[str, str], Awaitable[None]]
"""`await checkpointer(label, tool_use_id)` before a call that may change files."""


class GateVerdict(Protocol):
    """What the loop reads of the gate's answer (read-only, so a narrower `decision` type fits)."""

    @property
    def decision(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def permission(self) -> str: ...
    @property
    def patterns(self) -> list[str]: ...


class Gate(Protocol):
    """What the loop needs of agent.permissions.gate.PermissionGate."""

    def evaluate(
        self, tool_name: str, tool_input: dict[str, Any], requests: list[PermissionRequest]
    ) -> GateVerdict: ...

    async def ask(self, request: AskRequest) -> AskAnswer: ...


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class _HookVerdict:
    """The gate's verdict as a PreToolUse hook changed it (a deny, or an ask where rules allow)."""

    decision: str
    reason: str
    permission: str
    patterns: list[str]


@dataclasses.dataclass(eq=False, repr=False)
class _Prepared:
    """A tool call ready to run: its tool, its parsed input and its context."""

    call: ToolCall
    tool: Tool[Any]
    parsed: Any
    ctx: ToolContext
    changed: bool = False
    """The approver changed the input (`call.input` is the one that runs)."""


@dataclasses.dataclass(eq=False, repr=False)
class ToolRunner:
    """Everything a turn's calls need; one per session."""

    session_id: str
    agent: str
    tools: dict[str, Tool[Any]]
    ctx: ToolContext
    gate: Gate
    checkpointer: Checkpointer | None = None
    on_start: Callable[[str], None] | None = None
    """`on_start(tool_use_id)`, in a thread, just before a tool runs (the store records it for repair)."""
    max_parallel: int = 8
    parent_tool_use_id: str | None = None
    hooks: HookRunner | None = None
    """PreToolUse, PostToolUse and Notification hooks (`agent.hooks`)."""
    stop_requested: str | None = None
    """Set when a hook answered `continue: false`: the loop ends the run after this turn."""

    def _event(self, cls: type[EventT], /, **fields: Any) -> EventT:
        return cls(session_id=self.session_id, parent_tool_use_id=self.parent_tool_use_id, **fields)

    def announce(self, name: str) -> None:
        """The model has begun writing a call to `name`: the tool may start preparing."""
        tool = self.tools.get(name)
        if tool is not None:
            tool.announced(self.ctx)

    async def run(self, turn: TurnCalls, invalid: dict[str, str], emit: EventSink) -> None:
        """Settle, checkpoint and run every call of `turn`, emitting events as they happen.

        `invalid`: calls whose input is not a JSON object, with what it was (never run)."""
        ready: list[_Prepared] = []
        for call in turn.calls:
            prepared = await self._prepare(call, invalid.get(call.id), turn, emit)
            if prepared is not None:
                ready.append(prepared)
        mutating = [p for p in ready if p.tool.mutates]
        if mutating and self.checkpointer is not None:
            first = mutating[0]
            more = f" (+{len(mutating) - 1} more)" if len(mutating) > 1 else ""
            try:
                await self.checkpointer(first.tool.title(first.parsed) + more, first.call.id)
            except Exception as exc:  # the work goes on; the person sees that undo will not cover it
                emit(
                    self._event(
                        ErrorEvent,
                        message=f"checkpoint failed, `subagent undo` will not cover this "
                        f"step: {type(exc).__name__}: {exc}",
                        error_type="checkpoint_failed",
                    )
                )
        groups: dict[Any, list[_Prepared]] = {}
        for p in ready:
            key = p.tool.conflict_key(p.parsed, p.ctx)
            groups.setdefault(key if key is not None else ("solo", p.call.id), []).append(p)
        limit = asyncio.Semaphore(self.max_parallel)
        turn.allowed = tuple((p.call.name, p.call.input) for p in ready)
        async with asyncio.TaskGroup() as group:
            for members in groups.values():
                group.create_task(self._run_in_order(members, limit, turn, emit))

    async def _run_in_order(
        self, members: list[_Prepared], limit: asyncio.Semaphore, turn: TurnCalls, emit: EventSink
    ) -> None:
        for p in members:
            async with limit:
                turn.started.add(p.call.id)
                turn.results[p.call.id] = await self._execute(p, turn, emit)

    def _finish(self, call: ToolCall, result: ToolResult, started: float, emit: EventSink) -> None:
        emit(
            self._event(
                ToolCallFinishedEvent,
                tool_use_id=call.id,
                name=call.name,
                output=result.output,
                is_error=result.is_error,
                duration_ms=(time.monotonic() - started) * 1000,
                files_touched=result.files_touched,
                changes=result.changes,
            )
        )

    def _announce(
        self, call: ToolCall, turn: TurnCalls, emit: EventSink, *, kind: Any, title: str,
        locations: list[str] | None = None,
    ) -> None:  # fmt: skip
        """Tell front ends the call started; each announced call is later seen to finish."""
        emit(self._event(ToolCallStartedEvent, tool_use_id=call.id, name=call.name, input=call.input,
                         kind=kind, title=title, locations=locations or []))  # fmt: skip
        turn.announced.add(call.id)

    async def _prepare(
        self, call: ToolCall, input_problem: str | None, turn: TurnCalls, emit: EventSink
    ) -> _Prepared | None:
        started = time.monotonic()
        tool = self.tools.get(call.name)
        failure: str | None = None
        parsed: Any = None
        if input_problem is not None:
            failure = f"this call was not run: {input_problem}"
        elif tool is None:
            failure = f"unknown tool {call.name!r}; available tools: {', '.join(sorted(self.tools))}"
        else:
            try:
                parsed = tool.input_model.model_validate(call.input)
            except ValidationError as exc:
                failure = f"invalid input for {call.name}: {validation_text(exc)}"
        if failure is not None or tool is None:
            self._announce(call, turn, emit, kind=tool.kind if tool else "other", title=call.name)
            turn.results[call.id] = ToolResult(output=failure or "", is_error=True)
            self._finish(call, turn.results[call.id], started, emit)
            return None
        ctx = self.ctx
        title = tool.title(parsed)
        self._announce(call, turn, emit, kind=tool.kind, title=title, locations=tool.locations(parsed, ctx))
        try:  # a path that cannot be, or that the filesystem policy refuses: fails before any ask
            requests = tool.permission_requests(parsed, ctx)
        except ToolFailure as exc:
            turn.results[call.id] = ToolResult(output=str(exc), is_error=True)
            self._finish(call, turn.results[call.id], started, emit)
            return None
        hook = await self._hook("PreToolUse", call, {}, emit)
        denied = await self._settle(
            call, title, requests, lambda: ask_detail(tool, parsed, call.input, ctx), emit, hook
        )
        changed = isinstance(denied, ChangedCall)
        if isinstance(denied, ChangedCall):  # allowed with another input: checked again, then run
            call, parsed, requests, denied = denied.checked(tool, call, ctx, self.gate)
        if denied is not None:
            turn.denials.append(
                PermissionDenial(
                    tool_name=call.name, tool_use_id=call.id, tool_input=call.input, reason=denied
                )
            )
            turn.results[call.id] = ToolResult(output=f"permission denied: {denied}", is_error=True)
            self._finish(call, turn.results[call.id], started, emit)
            return None
        if any(r.permission == "external_directory" for r in requests):
            ctx = dataclasses.replace(ctx, allow_external=True)
        return _Prepared(call, tool, parsed, ctx, changed)

    async def _hook(self, event: str, call: ToolCall, extra: dict[str, Any], emit: EventSink) -> HookAnswer:
        """The tool hooks' answer for `call` (none without hooks); `continue: false` is kept."""
        if self.hooks is None:
            return NO_ANSWER
        fields = {"tool_name": PEER_TOOL_NAMES.get(call.name, call.name), "tool_input": call.input}
        answer = await self.hooks.fire(
            event, {**fields, "tool_use_id": call.id, **extra}, emit, match=call.name
        )
        if answer.stop:
            self.stop_requested = answer.stop_reason or f"a {event} hook ended the run"
        return answer

    async def _settle(
        self, call: ToolCall, title: str, requests: list[PermissionRequest], detail: Callable[[], str],
        emit: EventSink, hook: HookAnswer = NO_ANSWER,
    ) -> str | ChangedCall | None:  # fmt: skip
        """None when the call may run, else the reason it may not (a ChangedCall: allowed with
        another input); `detail()` only for an ask.

        A PreToolUse hook's `deny` denies; its `ask` asks even where the rules allow; its `allow`
        answers an ask; a deny rule holds whatever the hook says."""
        verdict: GateVerdict = self.gate.evaluate(call.name, call.input, requests)
        if hook.decision == "deny":
            verdict = _HookVerdict(
                "deny", f"a PreToolUse hook denied it: {hook.reason}", verdict.permission, verdict.patterns
            )
        if verdict.decision == "allow" and hook.decision != "ask":
            return None
        if verdict.decision == "deny":
            emit(
                self._event(
                    PermissionAnsweredEvent,
                    tool_use_id=call.id,
                    decision="deny",
                    scope="rule",
                    reason=verdict.reason,
                )
            )
            return verdict.reason
        if hook.decision == "allow":
            return None
        if verdict.decision == "allow":  # a hook asks about a call the rules allow
            patterns = [p for r in requests for p in r.patterns]
            permission = requests[0].permission if requests else call.name
            reason = f"a PreToolUse hook asks: {hook.reason}" if hook.reason else "a PreToolUse hook asks"
            verdict = _HookVerdict("ask", reason, permission, patterns)
        if self.hooks is not None:
            note = {"message": f"subagent needs your permission to use {call.name}: {title}"}
            await self.hooks.fire("Notification", note, emit)
        emit(
            self._event(
                PermissionAskedEvent,
                tool_use_id=call.id,
                tool_name=call.name,
                permission=verdict.permission,
                patterns=verdict.patterns,
                title=title,
            )
        )
        answer = await self.gate.ask(
            AskRequest(
                session_id=self.session_id,
                tool_use_id=call.id,
                tool_name=call.name,
                permission=verdict.permission,
                patterns=verdict.patterns,
                title=title,
                detail=detail(),
                tool_input=call.input,
                agent=self.agent,
            )
        )
        emit(
            self._event(
                PermissionAnsweredEvent,
                tool_use_id=call.id,
                decision=answer.decision,
                scope=answer.scope,
                reason=answer.message,
                updated_input=answer.updated_input,
            )
        )
        if answer.decision == "allow":
            changed = answer.updated_input not in (None, call.input)
            return ChangedCall(answer.updated_input) if answer.updated_input and changed else None
        refused = answer.message or f"the {verdict.permission} permission was refused for {title}"
        return f"{refused} (it was asked because {verdict.reason})"

    async def _execute(self, p: _Prepared, turn: TurnCalls, emit: EventSink) -> ToolResult:
        started = time.monotonic()
        if self.on_start is not None:
            try:
                await asyncio.to_thread(self.on_start, p.call.id)
            except SubagentError as exc:  # unrecorded, a crash could not say it ran: so it does not
                result = ToolResult(output=f"not run: its start could not be recorded: {exc}", is_error=True)
                self._finish(p.call, result, started, emit)
                return result
        info = ToolCallInfo(tool_use_id=p.call.id, emit=emit, turn=turn.allowed)
        try:
            result = await p.tool.run_call(p.parsed, p.ctx, info)
        except ToolFailure as exc:
            result = ToolResult(output=str(exc), is_error=True)
        except Exception as exc:  # a bug in a tool must not end the session: the model sees it
            result = ToolResult(
                output=f"internal error in {p.call.name}: {type(exc).__name__}: {exc}", is_error=True
            )
        if p.changed:
            result = result.model_copy(update={"output": f"{ran_with(p.call.input)}\n\n{result.output}"})
        response = {"tool_response": {"output": result.output, "is_error": result.is_error}}
        hook = await self._hook("PostToolUse", p.call, response, emit)
        said = [f"PostToolUse hook: {hook.reason}" if hook.decision == "block" else "", hook.context]
        if any(said):
            result = result.model_copy(update={"output": "\n\n".join([result.output, *filter(None, said)])})
        self._finish(p.call, result, started, emit)
        return result
