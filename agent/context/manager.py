"""Keep a session inside its context window: elide old tool outputs, then summarize, never overflow.

Before every request the loop calls `ContextManager.fit`. With T = window - reserve:
- estimate over T (or a compaction forced by `model_context_window_exceeded`): compact. First
  elide large tool outputs older than the protected recent part; if that brings the context under
  60% of T, stop there. Otherwise summarize the older turns (`agent.context.summary`), keeping
  the recent ones verbatim. If it is still over T, elide what is left; if even that fails the
  run stops with `ContextWindowError` rather than send a request the API would refuse.
- otherwise, past half of T, once the old large outputs add up to a batch (a quarter of T, at
  most 20,000 tokens), elide them in one go. Each elision means writing the cache again from the
  first elided output on, so elisions are rare and large, and a session that stays small never
  pays for one.
The protected recent part and the verbatim tail are each a quarter of T (at most 40,000 tokens).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal

from agent.context.elide import elidable_chars, elide_tool_outputs
from agent.context.server_side import effective_messages, server_compaction_options
from agent.context.summary import (
    original_goal,
    reply_text,
    split_index,
    summary_message,
    summary_request_messages,
)
from agent.context.tokens import BYTES_PER_TOKEN, ContextTracker, json_bytes, request_bytes, transcript_bytes
from agent.errors import ContextWindowError, ModelAPIError
from agent.events import Usage
from agent.model.base import MessageDoneEvent, ModelClient, ModelRequest
from agent.transcript import CompactionBlock, Message, blocks_to_wire

Build = Callable[[list[Message]], ModelRequest]
"""messages -> the request the loop would send with them (tools, system, breakpoints placed)."""
_MIN_SUMMARIZED_BYTES = 16_000
"""A forced compaction summarizes only older turns larger than this (about 4,000 tokens): a
summary (five sections, often 1,000-2,000 tokens) of less would not make the context smaller."""
_OMITTED = Message.parse(
    {"role": "user", "content": "(the earliest turns are omitted from this summary request)"}
)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class ContextPolicy:
    """How a session economises its context (agents.yaml `defaults`, the model's config)."""

    reserve_tokens: int = 20_000
    """Compact before the context comes this close to the window."""
    caching: bool = True
    """Place cache breakpoints (off only to measure what caching saves)."""
    elision: bool = True
    """Elide old large tool outputs in batches before the window is near."""
    server_compaction: bool = False
    """Let the API compact (beta `compact-2026-01-12`); ours stays the fallback."""
    min_elide_chars: int = 2_000
    """Tool outputs shorter than this are never elided."""


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Compaction:
    """What `fit` did to the transcript."""

    messages: list[Message]
    method: Literal["summary", "elision"]
    tokens_before: int
    tokens_after: int
    usage: Usage = dataclasses.field(default_factory=Usage)
    """Tokens the summarizing call used (added to the session's usage)."""


class ContextManager:
    """One session's context keeper; see the module docstring."""

    def __init__(self, policy: ContextPolicy, window: int, save_dir: Path, client: ModelClient) -> None:
        self.policy = policy
        self.window = window
        self.save_dir = save_dir
        self._client = client
        self._tracker = ContextTracker()
        self._forced = False
        reserve = policy.reserve_tokens if policy.reserve_tokens < window else window // 4
        own = reserve // 2 if policy.server_compaction else reserve
        self.trigger = window - own
        """Tokens above which the loop compacts before sending."""
        self.server_trigger = window - reserve
        quarter = max(1, self.trigger // 4)
        self._protect_bytes = min(40_000, quarter) * BYTES_PER_TOKEN
        self._tail_bytes = self._protect_bytes
        self._batch_chars = min(20_000, quarter) * BYTES_PER_TOKEN

    def finish_request(self, request: ModelRequest) -> ModelRequest:
        """The request as sent: breakpoints dropped when caching is off, server compaction added."""
        update: dict[str, Any] = {}
        if not self.policy.caching:
            update["system"] = [_uncached(b) for b in request.system]
            update["messages"] = [
                {**m, "content": [_uncached(b) for b in m["content"]]}
                if isinstance(m["content"], list)
                else m
                for m in request.messages
            ]
        if self.policy.server_compaction:
            update.update(server_compaction_options(self.server_trigger))
        return request.model_copy(update=update) if update else request

    def estimate(self, request: ModelRequest) -> int:
        """Tokens `request` will fill in the window (the part the server keeps, with server compaction)."""
        return self._tracker.estimate(self._bytes(request))

    def observe(self, request: ModelRequest, done: MessageDoneEvent) -> tuple[int, int] | None:
        """Learn the context size from a reply's usage; (tokens before, after) when the server
        compacted the conversation in this reply."""
        if any(isinstance(b, CompactionBlock) for b in done.content):
            self._tracker.reset()  # the server dropped what came before; re-estimate from bytes
            kept_messages = [{"role": "assistant", "content": blocks_to_wire(done.content)}]
            kept = request.model_copy(update={"messages": kept_messages})
            return done.usage.context_tokens, self.estimate(kept)
        if done.usage.context_tokens <= self.window:  # a larger figure cannot be a context size
            self._tracker.observe(self._bytes(request), done.usage)
        return None

    def force(self) -> None:
        """Compact before the next request (the model ran out of window mid-reply)."""
        self._forced = True

    async def fit(
        self,
        messages: list[Message],
        build: Build,
        before_compact: Callable[[], Awaitable[None]] | None = None,
    ) -> Compaction | None:
        """A compacted transcript when the next request needs one, else None.

        `before_compact()` is awaited when a compaction starts (the PreCompact hooks);
        elision alone is not a compaction.
        """
        before = self.estimate(build(messages))
        forced, self._forced = self._forced, False
        if forced or before > self.trigger:
            if before_compact is not None:
                await before_compact()
            return await self._compact(messages, build, before, forced)
        if not self.policy.elision or self.policy.server_compaction or before <= self.trigger // 2:
            return None
        end = _protect_index(messages, self._protect_bytes)
        if elidable_chars(messages, end, self.policy.min_elide_chars) < self._batch_chars:
            return None
        return self._elide(messages, build, before, end)

    def _bytes(self, request: ModelRequest) -> int:
        if self.policy.server_compaction:
            request = request.model_copy(update={"messages": effective_messages(request.messages)})
        return request_bytes(request)

    def _elide(self, messages: list[Message], build: Build, before: int, end: int) -> Compaction:
        result = elide_tool_outputs(messages, end, self.policy.min_elide_chars, self.save_dir)
        return Compaction(result.messages, "elision", before, self.estimate(build(result.messages)))

    async def _compact(
        self, messages: list[Message], build: Build, before: int, forced: bool
    ) -> Compaction | None:
        current = self._elide(messages, build, before, _protect_index(messages, self._protect_bytes)).messages
        if not forced and self.estimate(build(current)) <= self.trigger * 6 // 10:
            return Compaction(current, "elision", before, self.estimate(build(current)))
        usage = Usage()
        tail_bytes = min(self._tail_bytes, transcript_bytes(current) // 4) if forced else self._tail_bytes
        split = split_index(current, tail_bytes)
        if forced and transcript_bytes(current[:split]) < _MIN_SUMMARIZED_BYTES:
            split = 0  # `/compact` on a short conversation: summarizing it would only add
        if split > 1:
            older, tail = current[:split], current[split:]
            summary, usage = await self._summarize(older, build)
            current = [summary_message(original_goal(messages), summary, older), *tail]
        if self.estimate(build(current)) > self.trigger:
            elided = elide_tool_outputs(current, len(current), self.policy.min_elide_chars, self.save_dir)
            current = elided.messages
        after = self.estimate(build(current))
        if after > self.trigger:
            raise ContextWindowError(
                f"the conversation needs about {after:,} tokens even after compaction, over the "
                f"{self.trigger:,} allowed (window {self.window:,} minus the reserve); the last "
                "message or the system prompt and tools are too large: shorten them, or raise the "
                "model's context_window in agents.yaml if the model allows it"
            )
        if current == messages:
            return None  # nothing old enough or large enough to compact; the request fits
        return Compaction(current, "summary" if split > 1 else "elision", before, after, usage)

    async def _summarize(self, older: list[Message], build: Build) -> tuple[str, Usage]:
        """The model's summary of `older` (a fallback note when the call fails)."""
        asked = summary_request_messages(older)
        if self.estimate(build(asked)) > self.trigger:
            elided = elide_tool_outputs(older, len(older), self.policy.min_elide_chars, self.save_dir)
            asked = summary_request_messages(_fit_front(elided.messages, self._tail_bytes * 2))
        done: MessageDoneEvent | None = None
        try:
            async for item in self._client.stream(build(asked)):
                if item.kind == "done":
                    done = item
        except ModelAPIError as exc:
            return f"(the summarizing call failed: {exc}; the task and file list above still hold)", Usage()
        if done is None:
            return "", Usage()
        return reply_text(done.content), done.usage


def _uncached(block: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in block.items() if k != "cache_control"}


def _protect_index(messages: list[Message], protect_bytes: int) -> int:
    """The first message of the recent part (at most `protect_bytes`) that is never elided early."""
    size = 0
    for index in range(len(messages) - 1, -1, -1):
        size += json_bytes(messages[index].to_wire())
        if size > protect_bytes:
            return index + 1
    return 0


def _fit_front(messages: list[Message], max_bytes: int) -> list[Message]:
    """The latest turns within `max_bytes`, starting at an assistant message after a stand-in."""
    split = split_index(messages, max_bytes)
    return [_OMITTED, *messages[split:]]
