"""What one session of the loop runs with (`LoopSetup`, which the runtime's assembly,
agent.runtime.assembly, fills) and what it gathers as it runs (`LoopState`); `agent.loop.agent_loop`
is the loop itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable

from agent.context import ContextPolicy
from agent.events import PermissionDenial, RunBoundary, Usage
from agent.hooks.runner import HookRunner
from agent.loop.tool_calls import ToolRunner
from agent.loop.turn_calls import TurnCalls
from agent.model.base import ModelClient
from agent.model.resolve import ResolvedModel
from agent.registry.spec import AgentSpec
from agent.sessions.base import SessionStore
from agent.transcript import Message


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class SessionTotals:
    """What a session used before this run (a resumed session keeps counting)."""

    usage: Usage = dataclasses.field(default_factory=Usage)
    cost_usd: float = 0.0
    turns: int = 0


@dataclasses.dataclass(eq=False, repr=False)
class LoopSetup:
    """Everything one session needs; `agent.runtime.assembly.run_events` builds it."""

    session_id: str
    spec: AgentSpec
    model: ResolvedModel
    client: ModelClient
    runner: ToolRunner
    env_block: str = ""
    """Computed once when the session starts, then byte-identical on every request (cache)."""
    store: SessionStore | None = None
    history: list[Message] = dataclasses.field(default_factory=list)
    """Repaired messages of a resumed session (from its latest stored compaction on)."""
    last_seq: int = 0
    """The seq of the session's last stored message; compactions are recorded against it."""
    max_turns: int = 50
    max_output_tokens: int = 16_000
    max_budget_usd: float | None = None
    fallback: ResolvedModel | None = None
    """Asked for a turn the model stays overloaded on (`--fallback-model`); None: the error ends the run."""
    cancel: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    parent_tool_use_id: str | None = None
    resumed: bool = False
    prior: SessionTotals = dataclasses.field(default_factory=SessionTotals)
    """What earlier runs of a resumed session used; the stored totals add this run's to it."""
    files_changed: Callable[[], Awaitable[list[str]]] | None = None
    """Everything the run changed on disk, bash included (from the checkpoints), for the result."""
    context: ContextPolicy = dataclasses.field(default_factory=ContextPolicy)
    """Caching, elision and compaction (agent/context/)."""
    compact_only: bool = False
    """Compact the history now and end, without a model turn (chat's `/compact`)."""
    boundary: RunBoundary = dataclasses.field(default_factory=RunBoundary)
    """Sandbox, network and trust, told in the `session_started` event (`agent.trust.notice`)."""
    hooks: HookRunner | None = None
    """SessionStart, UserPromptSubmit, Stop / SubagentStop and SessionEnd hooks (`agent.hooks`)."""


@dataclasses.dataclass(eq=False, repr=False)
class LoopState:
    """What a session has gathered so far in this run: its transcript, turns, spend, denials."""

    messages: list[Message]
    turns: int = 0
    usage: Usage = dataclasses.field(default_factory=Usage)
    cost: float = 0.0
    """This session's own requests."""
    children_cost: float = 0.0
    """What its subagents spent (their results, each already counting their own subagents)."""
    denials: list[PermissionDenial] = dataclasses.field(default_factory=list)
    """Refused calls of this session and of its subagents."""
    files: list[str] = dataclasses.field(default_factory=list)
    final_text: str = ""
    last_turn: TurnCalls | None = None
    """The last turn's calls: on a cancel, those it cut off (`TurnCalls.interrupted`) are told
    to the front ends, which saw them start, as ended."""
