"""The agent loop: one session of one agent, model turns and tool calls until the task is done.

`run_loop(setup, prompt)` is an async iterator of `agent.events` events; every front end
consumes it. Each turn: build the request (`agent.prompt.request`), stream the reply (deltas go out as
they arrive; a retried turn shows as an `ErrorEvent` with `retrying=True`), act on its
stop_reason, run its tool calls (`agent.loop.tool_calls`) and send every result back in one user
message. Messages are stored as each completes. The last event is always a `ResultEvent`.

Example:
    async for event in run_loop(setup, "add a /health endpoint"):
        print(event.type)
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any

from agent.context import Compaction, ContextManager
from agent.errors import ModelAPIError, RunCancelledError, SessionError, StoreError, SubagentError
from agent.events import (
    AssistantMessageEvent,
    CompactionEvent,
    ErrorEvent,
    Event,
    EventT,
    ResultEvent,
    ResultSubtype,
    SessionStartedEvent,
    ToolCallFinishedEvent,
    TurnStartedEvent,
    UsageEvent,
)
from agent.loop.cancellable_stream import Pump
from agent.loop.loop_hooks import LoopHooks
from agent.loop.loop_setup import LoopSetup, LoopState
from agent.loop.model_turn import TurnOutcome, stream_turn
from agent.loop.turn_calls import ToolCall, TurnCalls
from agent.model.base import ModelRequest
from agent.model.pricing import Pricer
from agent.prompt.request import build_request
from agent.sessions.base import SessionStatus
from agent.transcript import (
    Block,
    Message,
    Role,
    TextBlock,
    interrupted_block,
    text_of,
    tool_uses,
)

log = logging.getLogger(__name__)

_CONTINUE_AFTER_CUTOFF = (
    "Your reply was cut off at the output token limit. Continue exactly where you stopped."
)


class AgentLoop:
    """One session's loop; `events()` runs it."""

    def __init__(self, setup: LoopSetup) -> None:
        self.setup = setup
        self._started = time.monotonic()
        self._state = LoopState(messages=list(setup.history))
        self._last_seq = setup.last_seq
        """The seq of the last stored message: every message in memory up to it is stored."""
        self._tool_schemas = [tool.schema() for tool in setup.runner.tools.values()]
        """Built once: a schema is the same on every request (and costly to generate)."""
        self._context = ContextManager(
            setup.context, setup.model.context_window, setup.runner.ctx.data_dir / "elided", setup.client
        )
        self._pricer = Pricer(setup.model.id, setup.model.price)
        self._fallback_pricer = Pricer(setup.fallback.id, setup.fallback.price) if setup.fallback else None
        self._hooks = LoopHooks(
            setup.hooks, resumed=setup.resumed, child=setup.parent_tool_use_id is not None
        )

    def _event(self, cls: type[EventT], /, **fields: Any) -> EventT:
        return cls(
            session_id=self.setup.session_id, parent_tool_use_id=self.setup.parent_tool_use_id, **fields
        )

    async def _append(self, role: Role, content: Sequence[Block]) -> None:
        """Add a message to the transcript and store it the same way: a prompt after stored tool
        results (a resumed session) joins their user message, results first, in memory and on disk."""
        messages = self._state.messages
        if messages and messages[-1].role == role == "user":
            messages[-1] = messages[-1].model_copy(update={"content": [*messages[-1].content, *content]})
        else:
            messages.append(Message(role=role, content=list(content)))
        if self.setup.store is not None:
            store, sid = self.setup.store, self.setup.session_id
            self._last_seq = await asyncio.to_thread(
                functools.partial(store.append_message, sid, role, content, merge=True)
            )

    @property
    def _spent(self) -> float:
        """This run's cost so far, its subagents' included."""
        return self._state.cost + self._state.children_cost

    def _request(self, messages: list[Message] | None = None) -> ModelRequest:
        s = self.setup
        turn = self._state.messages if messages is None else messages
        request = build_request(s.spec, s.model, s.max_output_tokens, s.env_block, turn, self._tool_schemas)
        if s.fallback is not None:
            request = request.model_copy(update={"fallback_model": s.fallback.id})
        return self._context.finish_request(request)

    async def events(self, prompt: str | None) -> AsyncGenerator[Event]:
        """Run the session to its end; the last event is the ResultEvent (after SessionEnd hooks)."""
        async for event in self._events(prompt):
            if isinstance(event, ResultEvent) and event.session_id == self.setup.session_id:
                said: list[Event] = []
                await self._hooks.fire("SessionEnd", {"reason": event.subtype}, said.append)
                for hook_event in said:
                    yield hook_event
            yield event

    async def _events(self, prompt: str | None) -> AsyncIterator[Event]:
        s = self.setup
        yield self._event(
            SessionStartedEvent,
            agent=s.spec.name,
            model=s.model.id,
            context_window=s.model.context_window,
            cwd=str(s.runner.ctx.workspace),
            tools=list(s.runner.tools),
            resumed=s.resumed,
            **s.boundary.model_dump(),
        )
        said: list[Event] = []
        context, ended = await self._hooks.start(prompt, said)
        for hook_event in said:
            yield hook_event
        if ended is not None:
            yield await self._finish("error_during_execution", ended)
            return
        if prompt or context:
            await self._append("user", [TextBlock(text=text) for text in (prompt, context) if text])
        try:
            async for event in self._compact_now() if s.compact_only else self._turns():
                yield event
        except RunCancelledError:
            last = self._state.last_turn
            for call, result in last.interrupted() if last is not None else []:
                yield self._event(
                    ToolCallFinishedEvent, tool_use_id=call.id, name=call.name, output=result.output,
                    is_error=True, duration_ms=0.0,
                )  # fmt: skip
            yield await self._finish("cancelled", "cancelled by the caller")
        except ModelAPIError as exc:
            yield self._event(ErrorEvent, message=str(exc), error_type=exc.error_type or "api_error")
            yield await self._finish("error_during_execution", str(exc))
        except SessionError as exc:  # the store failed: stop cleanly; the session resumes once it works
            message = f"{exc}. The run stopped"
            if isinstance(exc, StoreError) and exc.passing:  # the session is whole: it can go on
                message += f"; once that is fixed, resume it: `subagent run --resume {s.session_id}`"
            yield self._event(ErrorEvent, message=message, error_type="store_error")
            yield await self._finish("error_during_execution", message)
        except Exception as exc:  # a bug must still end the stream with a result front ends can show
            message = f"internal error: {type(exc).__name__}: {exc}"
            yield self._event(ErrorEvent, message=message, error_type="internal_error")
            yield await self._finish("error_during_execution", message)

    async def _turns(self) -> AsyncIterator[Event]:
        s, st = self.setup, self._state
        while True:
            if (limit := self._limit_reached()) is not None:
                yield await self._finish(*limit)
                return
            st.turns += 1
            yield self._event(TurnStartedEvent, turn=st.turns)
            outcome = TurnOutcome()
            async for event in self._model_turn(outcome):
                yield event
            done = outcome.done
            assert done is not None  # stream_turn raises unless the turn completed
            turn_usage = done.usage
            st.usage = st.usage + turn_usage
            pricer = self._fallback_pricer if outcome.fallback and self._fallback_pricer else self._pricer
            turn_cost = await pricer.cost(turn_usage)
            st.cost += turn_cost
            yield self._event(
                UsageEvent, turn=st.turns, usage=turn_usage, total=st.usage, cost_usd=self._spent,
                model=pricer.model_id, turn_cost_usd=turn_cost,
            )  # fmt: skip
            if done.content:
                await self._append("assistant", done.content)
            yield self._event(AssistantMessageEvent, content=done.content, stop_reason=done.stop_reason)
            text = "".join(text_of(done.content))
            if text:
                st.final_text = text
            calls = [ToolCall(id=b.id, name=b.name, input=b.arguments) for b in tool_uses(done.content)]
            stop = done.stop_reason
            if stop == "refusal":
                await self._answer_unrun(calls, "the model refused this turn")
                yield await self._finish("error_during_execution", text or "the model refused to continue")
                return
            if stop == "model_context_window_exceeded":
                self._context.force()  # the reply was cut by the window: compact, then go on
            if calls:
                async for event in self._run_tools(calls, done.invalid_tool_inputs):
                    yield event
                if s.runner.stop_requested is not None:
                    yield await self._finish("error_during_execution", s.runner.stop_requested)
                    return
                continue
            if stop == "pause_turn":
                continue  # the paused assistant content goes back unchanged
            if stop in ("max_tokens", "model_context_window_exceeded"):
                await self._append("user", [TextBlock(text=_CONTINUE_AFTER_CUTOFF)])
                continue
            said: list[Event] = []
            go_on = await self._hooks.stop(said)
            for hook_event in said:
                yield hook_event
            if go_on is not None:
                await self._append("user", [TextBlock(text=go_on)])
                continue
            subtype: ResultSubtype = "error_permission_denied" if st.denials else "success"
            yield await self._finish(subtype, st.final_text)
            return

    def _limit_reached(self) -> tuple[ResultSubtype, str] | None:
        """The max_turns or budget stop, when the next turn would pass it."""
        s, st = self.setup, self._state
        if st.turns >= s.max_turns:
            return "error_max_turns", f"stopped after {st.turns} turns (max_turns)"
        if s.max_budget_usd is not None and self._spent >= s.max_budget_usd:
            return "error_max_budget", f"stopped at ${self._spent:.4f} (budget ${s.max_budget_usd:.2f})"
        return None

    async def _model_turn(self, outcome: TurnOutcome) -> AsyncIterator[Event]:
        """Fit the context, then stream the turn; a prompt the API finds too long is compacted once."""
        s = self.setup
        for attempt in (1, 2):
            async for event in self._fit_context():
                yield event
            request = self._request()
            turn = functools.partial(stream_turn, s.client, request, outcome, self._event, s.runner.announce)
            pump = Pump(turn, s.cancel)
            try:
                async for event in pump.events():
                    self._pricer.start()  # the request is under way: look its price up meanwhile
                    yield event
            except ModelAPIError as exc:
                if attempt == 2 or exc.status not in (400, 413) or "too long" not in str(exc).lower():
                    raise
                self._context.force()
                continue
            assert outcome.done is not None  # stream_turn raises unless the turn completed
            compacted = self._context.observe(request, outcome.done)
            if compacted is not None:
                before, after = compacted
                yield self._event(CompactionEvent, tokens_before=before, tokens_after=after, method="server")
            return

    async def _fit_context(self) -> AsyncIterator[Event]:
        """Compact the transcript when the next request needs it (the front ends see an event)."""
        st = self._state
        pump: Pump[Compaction | None] = Pump(
            lambda emit: self._context.fit(
                st.messages, self._request, lambda: self._hooks.pre_compact(self.setup.compact_only, emit)
            ),
            self.setup.cancel,
        )
        async for event in pump.events():
            yield event
        done = pump.result
        if done is None:
            return
        st.messages = done.messages
        if self.setup.store is not None:  # a resumed run starts from here instead of compacting again
            await asyncio.to_thread(
                self.setup.store.record_compaction,
                self.setup.session_id,
                self._last_seq,
                done.messages,
                done.method,
                done.tokens_before,
                done.tokens_after,
            )
        if done.usage.context_tokens or done.usage.output_tokens:
            st.usage = st.usage + done.usage
            st.cost += await self._pricer.cost(done.usage)
        yield self._event(
            CompactionEvent,
            tokens_before=done.tokens_before,
            tokens_after=done.tokens_after,
            method=done.method,
        )

    async def _compact_now(self) -> AsyncIterator[Event]:
        """Compact the history as if the window were full, and end without a model turn."""
        self._context.force()
        text = "nothing to compact: the conversation is already short"
        async for event in self._fit_context():
            if isinstance(event, CompactionEvent):
                text = f"compacted ({event.method}): {event.tokens_before:,} → {event.tokens_after:,} tokens"
            yield event
        self._state.final_text = text
        yield await self._finish("success", text)

    async def _run_tools(self, calls: list[ToolCall], invalid: dict[str, str]) -> AsyncIterator[Event]:
        turn = TurnCalls(calls)
        pump = Pump(functools.partial(self.setup.runner.run, turn, invalid), self.setup.cancel)
        own = {call.id for call in calls}
        try:
            async for event in pump.events():
                self._count_subagent(event, own)
                yield event
        finally:
            # Even when cancelled, every tool_use gets its result (interrupted ones say so).
            self._state.last_turn = turn
            self._state.denials.extend(turn.denials)
            for result in turn.results.values():
                self._state.files.extend(c.path for c in result.changes if c.path not in self._state.files)
            await asyncio.shield(self._append("user", turn.result_blocks()))

    def _count_subagent(self, event: Event, own_calls: set[str]) -> None:
        """Add a subagent's spend and denials to this run's: the result of each run of a child
        started by one of this turn's calls (a child's result already counts its own children)."""
        if not isinstance(event, ResultEvent) or event.parent_tool_use_id not in own_calls:
            return
        if event.session_id == self.setup.session_id:
            return
        self._state.children_cost += event.total_cost_usd
        self._state.denials.extend(event.permission_denials)

    async def _answer_unrun(self, calls: list[ToolCall], why: str) -> None:
        if calls:
            await self._append("user", [interrupted_block(c.id, started=False, why=why) for c in calls])

    async def _finish(self, subtype: ResultSubtype, text: str) -> ResultEvent:
        s, st = self.setup, self._state
        if s.files_changed is not None:
            try:  # bash's changes too; the file tools' own list (in call order) comes first
                st.files.extend(f for f in await s.files_changed() if f not in st.files)
            except Exception as exc:  # a git failure must not cost the run its result
                log.warning("could not list the files this run changed: %s", exc)
        if s.store is not None:
            status: SessionStatus = (
                "completed" if subtype == "success" else "cancelled" if subtype == "cancelled" else "error"
            )
            try:  # the session's own spend: its subagents' sessions hold theirs
                await asyncio.to_thread(
                    s.store.update,
                    s.session_id,
                    status=status,
                    usage=s.prior.usage + st.usage,
                    cost_usd=s.prior.cost_usd + st.cost,
                    num_turns=s.prior.turns + st.turns,
                )
            except SubagentError as exc:  # a failing store must not cost the caller the result
                log.warning("could not store the end of session %s: %s", s.session_id, exc)
        return self._event(
            ResultEvent,
            subtype=subtype,
            is_error=subtype != "success",
            result=st.final_text if subtype == "success" else (st.final_text or text),
            num_turns=st.turns,
            usage=st.usage,
            total_cost_usd=self._spent,
            duration_ms=(time.monotonic() - self._started) * 1000,
            permission_denials=st.denials,
            files_changed=st.files,
        )


def run_loop(setup: LoopSetup, prompt: str | None) -> AsyncGenerator[Event]:
    """The event stream of one session (see `AgentLoop`)."""
    return AgentLoop(setup).events(prompt)
