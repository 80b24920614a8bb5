"""What travels through Temporal: the workflow's input and the activity's heartbeat details.

Everything is a pydantic model sent with temporalio's pydantic data converter; the result and the
checkpoint travel inside `PayloadEnvelope`s (compressed, by reference when large).
"""

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from agent.orchestrator.base import SubtaskSpec
from agent.orchestrator.temporal.payloads import DEFAULT_INLINE_LIMIT, PayloadEnvelope

WORKFLOW_NAME = "subagent.subtask"
ACTIVITY_NAME = "subagent.run_subtask"


class WorkspaceRef(BaseModel):
    """Where a worker fetches the workspace: never files in the payload."""

    source: str
    """A git URL, or a local path (usable when the worker shares the machine or the mount)."""
    commit: str
    """The full commit id the worker checks out."""


class AttemptPolicy(BaseModel):
    """Timeouts and retries of the activity, chosen by the dispatcher."""

    heartbeat_timeout_s: float = 60.0
    """A worker silent this long is presumed dead; the attempt is retried elsewhere."""
    start_to_close_s: float = 4 * 3600.0
    """Longest one attempt may run."""
    max_attempts: int = 3
    """Attempts in all (first run included); bounded so a poison subtask stops."""
    retry_initial_s: float = 1.0
    """Wait before the first retry (doubles after)."""
    inline_limit: int = DEFAULT_INLINE_LIMIT
    """Encoded bytes a result may carry inline before going by reference."""


class SubtaskRequest(BaseModel):
    """The workflow's input."""

    spec: SubtaskSpec
    workspace: WorkspaceRef
    policy: AttemptPolicy = AttemptPolicy()


class ProgressSnapshot(BaseModel):
    """Where a running subtask is; read by the dispatcher from the heartbeat details."""

    attempt: int = 1
    worker: str = ""
    """Identity of the worker running this attempt."""
    turn: int = 0
    tool: str = ""
    """Title of the tool call in progress (or the last one)."""
    input_tokens: int = 0
    output_tokens: int = 0
    resumed_from_turn: int | None = None


class HeartbeatDetails(BaseModel):
    """The one heartbeat detail: progress, the latest events, and the last checkpoint."""

    progress: ProgressSnapshot = ProgressSnapshot()
    events: list[tuple[int, dict[str, Any]]] = []
    """(sequence number, event JSON) of the latest progress events, oldest first."""
    checkpoint: PayloadEnvelope | None = None
    """The last `SubtaskCheckpoint`, compressed (by reference when large)."""


ProgressSink = Callable[[str, ProgressSnapshot], None]
"""Receives (subtask id, progress) each time a remote subtask's heartbeat is read."""
