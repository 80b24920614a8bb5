"""The dispatch seam: subtasks in, results out, the same for every executor.

The in-process asyncio executor and the Temporal executor both implement `Dispatcher`; the
`task` tool, `subagent dispatch` and the Python API all go through it.
"""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from agent.events import Event, PermissionDenial, ResultSubtype, Usage
from agent.permissions.models import PermissionMode


class SubtaskSpec(BaseModel):
    """One unit of delegated work."""

    model_config = ConfigDict(extra="forbid")

    id: str
    """Caller-chosen id, unique within a dispatch (`t1`, `add-endpoint`)."""
    agent: str
    prompt: str
    description: str = ""
    """3-5 words a person reads in progress views."""
    cwd: str | None = None
    """Workspace: a local path, or a git URL for remote workers. Default: the dispatch's cwd."""
    commit: str | None = None
    """The commit a remote worker checks out; local runs use the current checkpoint."""
    verify: str | None = None
    """Command that must pass when the child reports done; default: the agent's `verify`."""
    model: str | None = None
    max_turns: int | None = None
    permission_mode: PermissionMode | None = None


class DispatchOptions(BaseModel):
    """What a dispatch sets for every subtask that does not set it itself.

    One model for every executor: the local one and Temporal both apply it with `applied`, before a
    subtask runs or travels, so an option reaches a remote worker exactly as it reaches a local child.
    Each field is a field of `SubtaskSpec` (a task's own value wins).
    """

    model_config = ConfigDict(extra="forbid")

    permission_mode: PermissionMode | None = None

    def applied(self, spec: SubtaskSpec) -> SubtaskSpec:
        """`spec` with this dispatch's settings where it has none of its own."""
        fills = {k: v for k, v in self.model_dump().items() if v is not None and getattr(spec, k) is None}
        return spec.model_copy(update=fills) if fills else spec


class VerifyResult(BaseModel):
    command: str
    passed: bool
    exit_code: int | None
    output: str
    """Capped output of the last run."""
    rounds: int
    """How many times it ran (failures are sent back to the child between runs)."""


class SubtaskResult(BaseModel):
    id: str
    agent: str
    status: ResultSubtype | Literal["error_empty_result", "error_merge_conflict", "error_verify_failed"]
    result: str
    """The child's final report."""
    session_id: str | None = None
    files_changed: list[str] = []
    patch: str = ""
    """Unified diff of the child's changes against where it started."""
    conflicts: list[str] = []
    """Files whose merge back conflicted; the child's work is on `branch`."""
    branch: str | None = None
    """Shadow-repository branch keeping the child's work when it could not be merged."""
    verification: VerifyResult | None = None
    usage: Usage = Usage()
    total_cost_usd: float = 0.0
    num_turns: int = 0
    duration_ms: float = 0.0
    error: str | None = None
    """What went wrong, in the runtime's words (never the child's final text: that is `result`)."""
    permission_denials: list[PermissionDenial] = []
    """Calls refused to the child and to its own subagents."""
    transcript_ref: str | None = None
    """Where the child's transcript can be read: a session id here, or a blob URL from a remote worker."""

    @property
    def ok(self) -> bool:
        return self.status == "success"


EventSink = Callable[[str, Event], None]
"""Receives (subtask id, event) for live progress."""


class Dispatcher(Protocol):
    """Runs subtasks and returns one result per subtask, in the order given."""

    async def run(
        self, tasks: list[SubtaskSpec], *, on_event: EventSink | None = None
    ) -> list[SubtaskResult]:
        """Run all tasks (concurrently, bounded); cancelling the awaiting task cancels every subtask."""
        ...


class SubtaskCheckpoint(BaseModel):
    """What a retried attempt needs to resume a subtask instead of starting over."""

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    turn: int
    """The last model turn completed; a resumed run starts at `turn + 1`."""
    patch: str = ""
    """`git diff --binary` of the workspace's changes so far, against the subtask's start commit."""
    transcript: bytes = b""
    """The session's messages so far, zlib-compressed JSON (empty when `transcript_ref` is set)."""
    transcript_ref: str | None = None
    """Or a reference to the transcript (a blob URL, a session id) when it is kept elsewhere."""
    session_id: str | None = None


class SubtaskRunner(Protocol):
    """Runs ONE subtask in a prepared workspace; remote executors call it on their workers.

    It reports progress through `on_event`, hands a checkpoint to `on_checkpoint` after each turn
    (awaited, so the executor can persist it), resumes from `resume_from` when given (the workspace
    then already holds the checkpoint's patch), and stops promptly once `cancel` is set.
    """

    async def __call__(
        self,
        spec: SubtaskSpec,
        workspace: Path,
        *,
        on_event: EventSink | None,
        on_checkpoint: Callable[[SubtaskCheckpoint], Awaitable[None]] | None,
        resume_from: SubtaskCheckpoint | None,
        cancel: asyncio.Event,
    ) -> SubtaskResult:
        """Run the subtask to its end (or to cancellation) and return its result."""
        ...
