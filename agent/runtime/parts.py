"""The runtime's collaborators, behind one small seam so tests and embedders can replace them.

`default_parts()` gives the real ones (registry, tools, sandbox, permission gate, session store,
checkpoints), each imported when first used so that starting a run imports only what it needs.
Tests and embedders pass their own `RuntimeParts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.loop.tool_calls import Gate
from agent.model.base import ModelClient
from agent.permissions.always import AlwaysMemory
from agent.permissions.models import Approver, PermissionMode, PermissionRule
from agent.registry.schema import SandboxConfig
from agent.registry.spec import AgentSpec
from agent.sandbox.base import Sandbox
from agent.sandbox.policy import FsPolicy
from agent.sessions.base import SessionStore
from agent.tool import Tool
from agent.transcript import Message

if TYPE_CHECKING:
    from agent.mcpclient.for_run import RunServers
    from agent.sessions.checkpoints import ShadowRepo

Snapshot = Callable[[str], Awaitable[str]]
"""`await snapshot(label) -> commit sha` of the workspace."""
ChangedFiles = Callable[[Path, str, str], Awaitable[list[str]]]
"""`await changed(workspace, sha_a, sha_b) -> absolute paths` that differ between two snapshots."""


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class RuntimeParts:
    """Factories for everything `run_events` assembles around the loop."""

    load_registry: Callable[[Path, bool], Any]
    """(cwd, trust) -> an AgentRegistry (`.config`: RegistryConfig, `.get(name)`: AgentSpec); `trust`
    trusts the workspace for this run (`--trust`)."""
    load_tools: Callable[[list[str]], list[Tool[Any]]]
    """Tool names -> instances: the one way the runtime reaches the built-in tools (tools/)."""
    make_sandbox: Callable[[SandboxConfig, FsPolicy, bool], Sandbox | None]
    """(config, the run's filesystem policy, network) -> the sandbox bash runs in."""
    make_gate: Callable[[list[PermissionRule], PermissionMode, Approver, float, AlwaysMemory | None], Gate]
    """(rules, mode, approver, ask timeout, the session's `always` memory or None for a new one)."""
    open_store: Callable[[], SessionStore]
    repair: Callable[[list[Message], set[str]], list[Message]]
    """(messages, ids of tools that had started) of an interrupted session -> a transcript the
    API accepts (no dangling tool_use; each interrupted call says whether it had started)."""
    make_snapshot: Callable[[Path], Snapshot | None]
    headless_approver: Callable[[], Approver]
    """Who answers asks when the caller named nobody: a policy that denies (never a hang)."""
    changed_files: ChangedFiles | None = None
    """What a run changed, bash included (None: only what the file tools report)."""
    sandbox_programs: Callable[[list[str]], list[Path]] | None = None
    """Tool names -> the runtime's own programs those tools run in the sandbox (ripgrep), which the
    run's policy keeps readable (None: no such programs)."""
    session_tools: Callable[[SessionSeat], list[Tool[Any]]] | None = None
    """A session's seat -> the tools it gets from outside the runtime. None here: the front ends
    compose the orchestrator's `task` tool in (agent.api.run_events, through
    `agent.orchestrator.task_tool.with_delegation`); parts that bring their own keep them (an
    embedder who wants none gives `lambda seat: []`). The runtime knows nothing of what they do;
    a tool learns about each call through `Tool.run_call`."""
    cwd_filled: Callable[[], Awaitable[None]] | None = None
    """Awaited before the run reads its cwd's files for its first request (git status, the
    project's instructions, skills): a subagent's own tree is filled while its run is set up
    (agent.orchestrator.child). None: the cwd is there."""


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class SessionSeat:
    """One session as the tools it gets through `RuntimeParts.session_tools` see it: who it is,
    what it runs with (its MCP servers too), and the delegation it sits in."""

    spec: AgentSpec
    registry: Any
    """The session's AgentRegistry: a child resolves its agent in the same one."""
    parts: RuntimeParts
    client: ModelClient
    gate: Gate
    """The session's gate: a child's gate is `gate.child(...)` (the root's approver and memory)."""
    approver: Approver
    model: str
    """The session's resolved model id (a child's `model: inherit`)."""
    session_id: str
    cancel: asyncio.Event
    permission_mode: PermissionMode | None
    """The mode the run was asked for (None: the config's), which children inherit."""
    parent_tool_use_id: str | None
    parent: Any
    """`RunOptions.parent`: the delegation this session is a child in (an
    agent.orchestrator.link.ParentLink), None for a root session."""
    mcp: RunServers | None
    """The run's MCP servers, None when it has none: the root run starts them, and its subagents
    share them (`agent.mcpclient.for_run.servers_for_run`), so a tool that starts subagents hands
    them on."""


def _load_registry(cwd: Path, trust: bool) -> Any:
    from agent.registry.discovery import load_registry_for

    return load_registry_for(cwd, trust=trust)


def _load_tools(names: list[str]) -> list[Tool[Any]]:
    from tools.registry import load_tools

    return load_tools(names)


def _sandbox_programs(names: list[str]) -> list[Path]:
    from tools.registry import sandbox_programs

    return sandbox_programs(names)


def _make_sandbox(config: SandboxConfig, policy: FsPolicy, network: bool) -> Sandbox | None:
    from agent.sandbox.probe import make_sandbox

    return make_sandbox(config, policy, network)


def _make_gate(
    rules: list[PermissionRule],
    mode: PermissionMode,
    approver: Approver,
    ask_timeout_s: float,
    memory: AlwaysMemory | None,
) -> Gate:
    """The gate over the baseline rules, then the config's and the agent's (last match wins), and
    the session's remembered answers after them."""
    from agent.permissions.gate import PermissionGate
    from agent.permissions.rules import DEFAULT_RULES

    gate: Gate = PermissionGate([*DEFAULT_RULES, *rules], mode, approver, ask_timeout_s, memory=memory)
    return gate


def _open_store() -> SessionStore:
    from agent.sessions.store import SqliteSessionStore

    return SqliteSessionStore()


def _repair(messages: list[Message], started: set[str]) -> list[Message]:
    from agent.sessions.repair import repair_transcript

    return repair_transcript(messages, started).messages


def _make_snapshot(workspace: Path) -> Snapshot | None:
    """Snapshots of `workspace`; the shadow repository's code is imported at the first one (the
    step before the first change), not on a run's way to its first request."""
    repos: list[ShadowRepo] = []

    async def snapshot(label: str) -> str:
        if not repos:
            from agent.sessions.checkpoints import ShadowRepo

            repos.append(ShadowRepo(workspace))
        sha: str = await asyncio.to_thread(repos[0].snapshot, label)
        return sha

    return snapshot


async def _changed_files(workspace: Path, a: str, b: str) -> list[str]:
    from agent.sessions.checkpoints import ShadowRepo

    changed = await asyncio.to_thread(ShadowRepo(workspace).changed_files, a, b)
    return [str(workspace / c.path) for c in changed]


def _headless_approver() -> Approver:
    from agent.permissions.headless import PolicyApprover

    return PolicyApprover("deny")


def default_parts(session_tools: Callable[[SessionSeat], list[Tool[Any]]] | None = None) -> RuntimeParts:
    """The runtime's own collaborators, imported when first used, with the `session_tools` a
    caller above the runtime brings (None: none; see `RuntimeParts.session_tools`)."""
    return RuntimeParts(
        load_registry=_load_registry,
        load_tools=_load_tools,
        make_sandbox=_make_sandbox,
        make_gate=_make_gate,
        open_store=_open_store,
        repair=_repair,
        make_snapshot=_make_snapshot,
        headless_approver=_headless_approver,
        changed_files=_changed_files,
        sandbox_programs=_sandbox_programs,
        session_tools=session_tools,
    )


@contextlib.contextmanager
def opened_store(parts: RuntimeParts | None = None) -> Iterator[SessionStore]:
    """The session store, opened through the parts seam and closed after: the one way a front end
    (sessions, undo, chat, ACP, MCP) reaches it, so an embedder's or a test's store is the one
    every command sees, and no front end knows the store is SQLite.

    Raises StoreError (agent.errors) when the store cannot be opened: damaged, locked or full.
    """
    store = (parts or default_parts()).open_store()
    try:
        yield store
    finally:
        store.close()
