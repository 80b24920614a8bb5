"""The long activity: fetch the workspace, run ONE subtask through the runner, heartbeat all along.

Heartbeats carry the progress (turn, tool, tokens), the latest events and the last checkpoint.
When a worker dies, Temporal notices the silent heartbeat, retries the activity on another
worker, and hands it those details: the new attempt checks out the commit, applies the
checkpoint's patch and tells the runner to resume from the checkpoint's turn. A cancelled
activity sets the runner's cancel event and waits (bounded) for it to stop its model stream and
tool processes.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from agent.errors import ConfigError, RunError, WorkspaceFetchError
from agent.events import Event
from agent.loop.cancel_grace import run_with_grace
from agent.orchestrator.base import SubtaskCheckpoint, SubtaskResult, SubtaskRunner
from agent.orchestrator.temporal.models import (
    ACTIVITY_NAME,
    HeartbeatDetails,
    ProgressSnapshot,
    SubtaskRequest,
)
from agent.orchestrator.temporal.payloads import BlobStore, PayloadEnvelope, pack, unpack
from agent.orchestrator.temporal.workspace import apply_patch, prepare_workspace
from agent.sessions.leftovers import record_swept

CHECKPOINT_INLINE_LIMIT = 256 * 1024
"""Checkpoints ride every heartbeat, so they go by reference sooner than results do."""
EVENTS_KEPT = 64
CANCEL_GRACE_S = 30.0
"""How long a cancelled runner may take to stop before its task is cancelled outright."""
_DROPPED_EVENTS = {"text_delta", "thinking_delta", "assistant_message"}
_OUTPUT_CAP = 2000


class AttemptTracker:
    """One attempt's heartbeat details, updated from the runner's events and checkpoints."""

    def __init__(self, blobs: BlobStore, name: str, progress: ProgressSnapshot) -> None:
        self.blobs = blobs
        self.name = name
        self.details = HeartbeatDetails(progress=progress)
        self.last_checkpoint: SubtaskCheckpoint | None = None
        self._seq = 0

    def on_event(self, subtask_id: str, event: Event) -> None:
        """Fold an event into the progress; keep it for the dispatcher unless it is bulky."""
        progress = self.details.progress
        if event.type == "turn_started":
            progress.turn = event.turn
        elif event.type == "tool_call_started":
            progress.tool = event.title
        elif event.type == "usage":
            progress.input_tokens = event.total.context_tokens
            progress.output_tokens = event.total.output_tokens
        if event.type in _DROPPED_EVENTS:
            return
        data = event.model_dump(mode="json")
        if event.type == "tool_call_finished":
            data["output"] = data["output"][:_OUTPUT_CAP]
            data["changes"] = []
        self._seq += 1
        self.details.events = [*self.details.events[-(EVENTS_KEPT - 1) :], (self._seq, data)]
        self.beat()

    async def on_checkpoint(self, checkpoint: SubtaskCheckpoint) -> None:
        """Record the checkpoint in the heartbeat details, so a retry elsewhere can resume from it."""
        envelope = await asyncio.to_thread(
            pack,
            checkpoint,
            name=f"{self.name}-checkpoint",
            store=self.blobs,
            inline_limit=CHECKPOINT_INLINE_LIMIT,
        )
        self.last_checkpoint = checkpoint
        self.details.checkpoint = envelope
        self.details.progress.turn = max(self.details.progress.turn, checkpoint.turn)
        self.beat()

    def beat(self) -> None:
        """Hand the details to the SDK, which sends the newest within the throttle interval."""
        activity.heartbeat(self.details)

    async def beat_forever(self, interval: float) -> None:
        """Heartbeat while the runner is quiet (a long model call), so the worker is seen alive."""
        while True:
            self.beat()
            await asyncio.sleep(interval)


class SubtaskActivities:
    """The activity, bound to the worker's runner, blob store and scratch directory."""

    def __init__(self, runner: SubtaskRunner, *, blobs: BlobStore, work_dir: Path, identity: str) -> None:
        self.runner = runner
        self.blobs = blobs
        self.work_dir = work_dir
        self.identity = identity

    @activity.defn(name=ACTIVITY_NAME)
    async def run_subtask(self, request: SubtaskRequest) -> PayloadEnvelope:
        """Run the subtask once (resuming if a previous attempt left a checkpoint)."""
        info = activity.info()
        spec = request.spec
        resume = await asyncio.to_thread(_resume_point, info.heartbeat_details)
        progress = ProgressSnapshot(
            attempt=info.attempt,
            worker=self.identity,
            turn=resume.turn if resume else 0,
            resumed_from_turn=resume.turn if resume else None,
        )
        tracker = AttemptTracker(self.blobs, info.workflow_id, progress)
        if resume is not None:
            tracker.last_checkpoint = resume
            tracker.details.checkpoint = _previous_envelope(info.heartbeat_details)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        workdir = Path(
            tempfile.mkdtemp(
                prefix=f"{_safe(spec.id)}-a{info.attempt}-", suffix=OWNER_SUFFIX, dir=self.work_dir
            )
        )
        beat = asyncio.create_task(tracker.beat_forever(_beat_interval(info.heartbeat_timeout)))
        try:
            result = await self._attempt(request, workdir, tracker, resume)
        except asyncio.CancelledError:
            if not activity.is_worker_shutdown():
                raise  # the dispatch cancelled it: report it cancelled
            raise ApplicationError(
                f"subtask {spec.id}: worker {self.identity} shut down during attempt {info.attempt}; "
                "another worker resumes it from the last checkpoint",
                tracker.details,
                type="WorkerShutdown",
            ) from None
        except (ConfigError, WorkspaceFetchError) as exc:
            raise ApplicationError(
                f"subtask {spec.id} (agent {spec.agent}) on worker {self.identity}: {exc}",
                tracker.details,
                type=type(exc).__name__,
                non_retryable=True,
            ) from exc
        except Exception as exc:
            raise ApplicationError(
                f"subtask {spec.id} (agent {spec.agent}) attempt {info.attempt} on worker {self.identity}: "
                f"{type(exc).__name__}: {exc}",
                tracker.details,
                type=type(exc).__name__,
            ) from exc
        finally:
            beat.cancel()
            await asyncio.to_thread(shutil.rmtree, workdir, True)
        return await asyncio.to_thread(self._pack_result, result, tracker, request.policy.inline_limit)

    async def _attempt(
        self,
        request: SubtaskRequest,
        workdir: Path,
        tracker: AttemptTracker,
        resume: SubtaskCheckpoint | None,
    ) -> SubtaskResult:
        await prepare_workspace(request.spec.id, request.workspace, workdir)
        if resume is not None:
            await apply_patch(workdir, resume.patch)
        cancel = asyncio.Event()
        run = self.runner(
            request.spec,
            workdir,
            on_event=tracker.on_event,
            on_checkpoint=tracker.on_checkpoint,
            resume_from=resume,
            cancel=cancel,
        )
        return await run_with_grace(run, cancel, grace_s=CANCEL_GRACE_S, what=f"subtask {request.spec.id}")

    def _pack_result(
        self, result: SubtaskResult, tracker: AttemptTracker, inline_limit: int
    ) -> PayloadEnvelope:
        checkpoint = tracker.last_checkpoint
        if result.transcript_ref is None and checkpoint is not None:
            if checkpoint.transcript_ref:
                result.transcript_ref = checkpoint.transcript_ref
            elif checkpoint.transcript:
                result.transcript_ref = self.blobs.put(checkpoint.transcript, f"{tracker.name}-transcript")
        return pack(result, name=f"{tracker.name}-result", store=self.blobs, inline_limit=inline_limit)


OWNER_SUFFIX = f".{socket.gethostname()}.{os.getpid()}"
"""Ends each attempt's checkout folder: the next worker on this host removes those of a dead pid."""


def sweep_checkouts(work_dir: Path) -> list[Path]:
    """Remove attempt checkouts left in `work_dir` by killed workers of this host; returns them."""
    host = f".{socket.gethostname()}."
    removed: list[Path] = []
    for entry in work_dir.iterdir() if work_dir.is_dir() else []:
        owner, _, pid = entry.name.rpartition(".")
        if not owner.endswith(host[:-1]) or not pid.isdigit() or Path(f"/proc/{pid}").exists():
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    record_swept("worker checkout", [str(path) for path in removed], "its worker process is gone")
    return removed


def _resume_point(details: Any) -> SubtaskCheckpoint | None:
    """The checkpoint a previous attempt left, or None; an unreadable one means starting over."""
    envelope = _previous_envelope(details)
    if envelope is None:
        return None
    try:
        return unpack(envelope, SubtaskCheckpoint)
    except RunError as exc:  # a blob dir not shared with this worker: redo the work, do not fail
        activity.logger.warning("starting over: %s", exc)
        return None


def _previous_envelope(details: Any) -> PayloadEnvelope | None:
    if not details:
        return None
    previous = HeartbeatDetails.model_validate(details[0])
    return previous.checkpoint


def _beat_interval(heartbeat_timeout: Any) -> float:
    seconds = heartbeat_timeout.total_seconds() if heartbeat_timeout else 30.0
    return max(0.1, min(seconds / 4, 10.0))


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:40]
