"""`agent.orchestrator.local:run_subtask`, the runner remote workers call: in place, with checkpoints."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from types import SimpleNamespace

from agent.orchestrator.base import SubtaskCheckpoint, SubtaskRunner, SubtaskSpec
from agent.orchestrator.local import LocalRunner, _checkpoint
from agent.trust.store import set_trust
from tests.orchestrator._scenario import model, workspace, write


async def test_the_runner_runs_in_place_and_hands_over_a_checkpoint_per_turn(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    commit = ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"]
    for args in (["init", "-q"], ["add", "-A"], commit):
        subprocess.run(["git", *args], cwd=ws, check=True)
    client = model(
        [{"agent": "worker", "replies": [{"tool_calls": [write("made.txt", "made\n")]}, {"text": "made it"}]}]
    )
    runner: SubtaskRunner = LocalRunner(model_client=client)
    checkpoints: list[SubtaskCheckpoint] = []
    events: list[str] = []

    async def keep(checkpoint: SubtaskCheckpoint) -> None:
        checkpoints.append(checkpoint)

    result = await runner(
        SubtaskSpec(id="one", agent="worker", prompt="make a file"),
        ws,
        on_event=lambda task_id, event: events.append(f"{task_id}:{event.type}"),
        on_checkpoint=keep,
        resume_from=None,
        cancel=asyncio.Event(),
    )

    assert result.ok and result.result == "made it" and result.files_changed == ["made.txt"]
    assert (ws / "made.txt").read_text() == "made\n"
    assert [c.turn for c in checkpoints] == [1, 2]
    assert "made.txt" in checkpoints[-1].patch and checkpoints[-1].session_id == result.session_id
    assert "one:session_started" in events and "one:result" in events


async def test_two_subtasks_of_one_repository_each_work_in_their_own_checkout(tmp_path: Path) -> None:
    """The spec's cwd says where a worker fetched the repository from; the runner works in the
    checkout it was handed, so two subtasks naming the same repository never share a folder."""
    repo = workspace(tmp_path, files={"README.md": "repo\n"})
    commit = ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"]
    for args in (["init", "-q"], ["add", "-A"], commit):
        subprocess.run(["git", *args], cwd=repo, check=True)
    checkouts = []
    for name in ("one", "two"):
        checkout = tmp_path / f"checkout-{name}"
        subprocess.run(["git", "clone", "-q", str(repo), str(checkout)], check=True)
        set_trust(checkout, True)  # as the source is: its config sets bypass mode
        checkouts.append(checkout)
    client = model(
        [
            {
                "agent": "worker",
                "match": f"make {name}",
                "replies": [
                    {"tool_calls": [write(f"{name}.txt", f"{name}\n")], "delay_s": 0.3},
                    {"text": f"made {name}"},
                ],
            }
            for name in ("one", "two")
        ]
    )
    runner = LocalRunner(model_client=client)
    results = await asyncio.gather(
        *(
            runner(
                SubtaskSpec(id=name, agent="worker", prompt=f"make {name}", cwd=str(repo)),
                checkout,
                on_event=None,
                on_checkpoint=None,
                resume_from=None,
                cancel=asyncio.Event(),
            )
            for name, checkout in zip(("one", "two"), checkouts, strict=True)
        )
    )
    assert [r.files_changed for r in results] == [["one.txt"], ["two.txt"]], [r.error for r in results]
    assert (checkouts[0] / "one.txt").exists() and not (checkouts[0] / "two.txt").exists()
    assert (checkouts[1] / "two.txt").exists() and not (checkouts[1] / "one.txt").exists()
    assert not (repo / "one.txt").exists() and not (repo / "two.txt").exists()  # the source is untouched


async def test_two_turns_checkpoints_at_once_both_arrive_in_turn_order(tmp_path: Path) -> None:
    """Each checkpoint stages the new files (`git add -N`) in the workspace's index: two turns'
    at once raced for its lock and one was lost (the runner gathers them with
    `return_exceptions`). They take turns now, the first turn's first."""
    ws = workspace(tmp_path)
    commit = ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"]
    for args in (["init", "-q"], ["add", "-A"], commit):
        subprocess.run(["git", *args], cwd=ws, check=True)
    for i in range(50):
        (ws / f"new{i}.txt").write_text(f"{i}\n")
    order = asyncio.Lock()
    checkpoints: list[SubtaskCheckpoint] = []

    async def keep(checkpoint: SubtaskCheckpoint) -> None:
        checkpoints.append(checkpoint)

    turns = [SimpleNamespace(turn=turn, session_id="s") for turn in range(1, 11)]
    await asyncio.gather(*(_checkpoint(ws, turn, keep, order) for turn in turns))
    assert [c.turn for c in checkpoints] == list(range(1, 11))
    assert all("new49.txt" in c.patch for c in checkpoints)
