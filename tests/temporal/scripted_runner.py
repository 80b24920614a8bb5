"""A deterministic `SubtaskRunner` for the Temporal tests and bench: no model, real files, real git.

The subtask's prompt is a JSON `Script`. Each "turn" writes `turnN.txt` in the workspace, sleeps
(waking early on cancel), emits events and hands a checkpoint over. Every turn executed is
appended to the script's log file, outside the workspace, with the worker's pid: that log is how
the tests see which worker ran which turn, and that a retried subtask resumed rather than restarted.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path

from pydantic import BaseModel

from agent.errors import UnknownAgentError
from agent.events import SessionStartedEvent, ToolCallStartedEvent, TurnStartedEvent, Usage, UsageEvent
from agent.orchestrator.base import EventSink, SubtaskCheckpoint, SubtaskResult, SubtaskSpec
from agent.orchestrator.temporal.workspace import workspace_patch

AGENTS = ["scripted"]


class Script(BaseModel):
    turns: int = 3
    sleep_s: float = 0.1
    log: str | None = None
    """JSON-lines file that records each turn executed (pid, attempt start)."""
    big_result_bytes: int = 0
    """Append this many incompressible bytes to the final report (for the by-reference path)."""


async def run(
    spec: SubtaskSpec,
    workspace: Path,
    *,
    on_event: EventSink | None,
    on_checkpoint: Callable[[SubtaskCheckpoint], Awaitable[None]] | None,
    resume_from: SubtaskCheckpoint | None,
    cancel: asyncio.Event,
) -> SubtaskResult:
    """Run the script's turns from the checkpoint's turn on; see the module docstring."""
    if spec.agent not in AGENTS:
        raise UnknownAgentError(spec.agent, AGENTS)
    script = Script.model_validate_json(spec.prompt)
    session = f"scripted-{spec.id}"
    first = resume_from.turn + 1 if resume_from else 1
    transcript: list[str] = json.loads(zlib.decompress(resume_from.transcript)) if resume_from else []
    _log(script, {"event": "start", "id": spec.id, "from_turn": first})
    emit = on_event or (lambda _id, _event: None)
    emit(
        spec.id,
        SessionStartedEvent(
            session_id=session,
            agent=spec.agent,
            model="scripted",
            cwd=str(workspace),
            tools=["write"],
            resumed=resume_from is not None,
        ),
    )
    total = Usage()
    for turn in range(first, script.turns + 1):
        emit(spec.id, TurnStartedEvent(session_id=session, turn=turn))
        emit(
            spec.id,
            ToolCallStartedEvent(
                session_id=session,
                tool_use_id=f"tu{turn}",
                name="write",
                input={"file_path": f"turn{turn}.txt"},
                kind="edit",
                title=f"write turn{turn}.txt",
            ),
        )
        (workspace / f"turn{turn}.txt").write_text(f"{spec.id} turn {turn}\n")
        try:
            await asyncio.wait_for(cancel.wait(), script.sleep_s)
        except TimeoutError:
            pass
        if cancel.is_set():
            _log(script, {"event": "cancelled", "id": spec.id, "turn": turn})
            return SubtaskResult(id=spec.id, agent=spec.agent, status="cancelled", result="", num_turns=turn)
        usage = Usage(input_tokens=100, output_tokens=10)
        total = total + usage
        emit(spec.id, UsageEvent(session_id=session, turn=turn, usage=usage, total=total, cost_usd=0.0))
        transcript.append(f"turn {turn}")
        _log(script, {"event": "turn", "id": spec.id, "turn": turn})
        if on_checkpoint is not None:
            await on_checkpoint(
                SubtaskCheckpoint(
                    turn=turn,
                    patch=await workspace_patch(workspace),
                    session_id=session,
                    transcript=zlib.compress(json.dumps(transcript).encode()),
                )
            )
    _log(script, {"event": "done", "id": spec.id})
    report = f"{spec.id}: {script.turns} turns done"
    if script.big_result_bytes:
        report += "\n" + base64.b64encode(os.urandom(script.big_result_bytes)).decode()
    patch = await workspace_patch(workspace)
    return SubtaskResult(
        id=spec.id,
        agent=spec.agent,
        status="success",
        result=report,
        session_id=session,
        patch=patch,
        files_changed=sorted(p.name for p in workspace.glob("turn*.txt")),
        num_turns=script.turns,
        usage=total,
    )


def _log(script: Script, record: dict[str, object]) -> None:
    if script.log:
        with open(script.log, "a") as out:
            out.write(json.dumps({**record, "pid": os.getpid(), "t": time.time()}) + "\n")
