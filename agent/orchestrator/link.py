"""What a parent hands down to the children it starts: one `ParentLink` per delegating session.

It carries everything a child shares with its parent (the registry, the model client, the
permission gate and through it the root's approver and denials, the cancel signal, the slots
that bound how many children run at once) and the depth, which caps delegation.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.model.base import ModelClient
    from agent.permissions.always import AlwaysMemory
    from agent.permissions.models import Approver, PermissionMode
    from agent.runtime.parts import RuntimeParts


_OPENING = threading.Lock()
"""Children open the store in threads, at once: one opens it, the others take it."""


@dataclasses.dataclass(eq=False, repr=False)
class ParentLink:
    """The parent side of a delegation; `run_agent(parent=link)` runs a child under it."""

    registry: Any
    """The parent's AgentRegistry: children resolve and load agents from the same one."""
    parts: RuntimeParts
    client: ModelClient
    gate: Any
    """The parent's PermissionGate (a child gets `gate.child(...)`); None for a program's dispatch."""
    approver: Approver | None
    model: str | None
    """The parent's resolved model id (`model: inherit`)."""
    session_id: str | None
    depth: int
    """The parent's depth: 0 for a root session, and for `subagent dispatch` (no model above)."""
    cancel: asyncio.Event
    permission_mode: PermissionMode | None = None
    always: AlwaysMemory | None = None
    """A program's dispatch (no parent gate): its `always` answers, shared by every subtask.
    Under a parent gate the children share the parent's through `gate.child`."""
    parent_tool_use_id: str | None = None
    """The parent's own `parent_tool_use_id` (set when the parent is itself a child)."""
    slots: dict[int, asyncio.Semaphore] = dataclasses.field(default_factory=dict)
    """Shared by the whole session tree: at most `max_parallel_tasks` children per level run at
    once (one semaphore per level, so a child waiting on its own children cannot starve them)."""
    merge_queues: dict[str, Any] = dataclasses.field(default_factory=dict)
    """One MergeQueue per workspace: one batch of merges at a time into it."""
    snapshots: dict[str, asyncio.Future[Any]] = dataclasses.field(default_factory=dict)
    """Work under way for a workspace (its checkpoint, packing, a base checkout, preparing them):
    siblings starting together share it."""
    stores: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The session store the children's runs share (`open_store`)."""
    mcp: Any = None
    """The run's MCP servers (`agent.mcpclient.for_run.RunServers`, from the session's
    `SessionSeat`): started once, shared by the session tree (a child adds its persona's own)."""

    def slot(self, depth: int) -> asyncio.Semaphore:
        limit = self.registry.config.defaults.max_parallel_tasks
        return self.slots.setdefault(depth, asyncio.Semaphore(max(1, limit)))

    def open_store(self) -> Any:
        """The session store of the children's runs: opened once for the session tree, so their
        writes take turns on one connection instead of each child's own waiting out SQLite's
        busy handler (children starting together all create their session at once). Its commits
        do not wait for the disk (`relax_commits` of the SQLite store; the root's do, and each of them
        makes the children's before it durable too: docs/decisions.md)."""
        from agent.sessions.base import RelaxableStore

        with _OPENING:
            if "store" not in self.stores:
                store = self.parts.open_store()
                if isinstance(store, RelaxableStore):
                    store.relax_commits()
                self.stores["store"] = store
            return self.stores["store"]

    def merge_queue(self, repo: Any) -> Any:
        from agent.orchestrator.merge import MergeQueue

        return self.merge_queues.setdefault(str(repo.workspace), MergeQueue(repo))

    async def checkpoint(self, repo: Any, label: str) -> str:
        """A snapshot of `repo`'s workspace, shared with siblings asking while it is being taken."""
        return str(await self._shared(str(repo.workspace), repo.snapshot, label))

    async def packed(self, repo: Any) -> None:
        """Pack the workspace's shadow repository once for siblings about to check it out."""
        from agent.orchestrator.worktree import pack_objects

        await self._shared(f"pack:{repo.workspace}", pack_objects, repo)

    async def base(self, repo: Any, commit: str) -> Any:
        """A base checkout for one overlay tree of `commit` (`bases.acquire`); siblings asking
        together wait on one build or refresh, so at most one thread blocks on it."""
        from agent.orchestrator import bases

        await self._shared(f"base:{repo.workspace}:{commit}", bases.prepare, repo, commit)
        return await asyncio.to_thread(bases.acquire, repo, commit)

    def prepare(self, workspace: Any) -> None:
        """Start, in the background, what children's overlay trees of `workspace` will need: a
        checkpoint and its base checkout. Called as the model begins writing a `task` call, so
        the first child does not wait for a base (overlay and reflinked trees are made from it);
        nothing when children would get checkouts."""
        from agent.orchestrator.trees import tree_kind
        from agent.sessions.checkpoints import ShadowRepo

        if tree_kind(self.registry.config.defaults.worktrees)[0] == "checkout":
            return
        key = f"prepare:{workspace}"
        if key in self.snapshots and not self.snapshots[key].done():
            return
        repo = ShadowRepo(workspace)

        async def prepare() -> None:
            from agent.orchestrator import bases

            commit = await self.checkpoint(repo, "before subagents")
            await self._shared(f"base:{repo.workspace}:{commit}", bases.prepare, repo, commit)

        pending = asyncio.ensure_future(prepare())
        pending.add_done_callback(_quietly)  # a failure shows again when a child needs the base
        self.snapshots[key] = pending

    async def _shared(self, key: str, work: Any, *args: Any) -> Any:
        """`work(*args)` in a thread, shared with whoever asks for `key` while it runs."""
        pending = self.snapshots.get(key)
        if pending is None or pending.done():
            pending = asyncio.ensure_future(asyncio.to_thread(work, *args))
            self.snapshots[key] = pending
        return await asyncio.shield(pending)

    def for_child(self, **changes: Any) -> ParentLink:
        """The link a child passes to its own children: same shared state, new identity."""
        return dataclasses.replace(self, **changes)


def _quietly(done: asyncio.Future[Any]) -> None:
    if not done.cancelled():
        done.exception()
