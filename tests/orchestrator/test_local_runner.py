"""`agent.orchestrator.local:run_subtask`, the runner remote workers call: in place, with checkpoints."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from agent.orchestrator.base import SubtaskCheckpoint, SubtaskRunner, SubtaskSpec
from agent.orchestrator.local import LocalRunner
from tests.orchestrator._scenario import model, workspace, write


async def test_the_runner_runs_in_place_and_hands_over_a_checkpoint_per_turn(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    commit = ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"]
    for args in (["init", "-q"], ["add", "-A"], commit):
        subprocess.run(["git", *args], cwd=ws, check=True)
    client = model([{"agent": "worker", "replies": [{"tool_calls": [write("made.txt", "made\n")]},
                                                    {"text": "made it"}]}])
    runner: SubtaskRunner = LocalRunner(model_client=client)
    checkpoints: list[SubtaskCheckpoint] = []
    events: list[str] = []

    async def keep(checkpoint: SubtaskCheckpoint) -> None:
        checkpoints.append(checkpoint)

    result = await runner(
        SubtaskSpec(id="one", agent="worker", prompt="make a file"), ws,
        on_event=lambda task_id, event: events.append(f"{task_id}:{event.type}"),
        on_checkpoint=keep, resume_from=None, cancel=asyncio.Event(),
    )

    assert result.ok and result.result == "made it" and result.files_changed == ["made.txt"]
    assert (ws / "made.txt").read_text() == "made\n"
    assert [c.turn for c in checkpoints] == [1, 2]
    assert "made.txt" in checkpoints[-1].patch and checkpoints[-1].session_id == result.session_id
    assert "one:session_started" in events and "one:result" in events
