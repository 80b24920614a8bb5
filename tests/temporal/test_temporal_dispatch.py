"""The Temporal executor end to end: a real dev server, real `subagent worker` subprocesses, real git."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from agent.errors import RemoteDispatchError
from agent.events import Event
from agent.orchestrator.base import SubtaskSpec
from agent.orchestrator.temporal.client import TemporalDispatcher
from agent.orchestrator.temporal.connection import TemporalSettings, connect
from agent.orchestrator.temporal.models import AttemptPolicy, ProgressSnapshot
from tests.conftest import run_subagent
from tests.temporal.harness import DevServer, WorkerProcess, free_port

pytestmark = pytest.mark.slow

FAST = AttemptPolicy(heartbeat_timeout_s=2.0, max_attempts=3, retry_initial_s=0.2)


def scripted(task_id: str, log: Path, turns: int = 3, sleep_s: float = 0.2, **extra: object) -> SubtaskSpec:
    prompt = json.dumps({"turns": turns, "sleep_s": sleep_s, "log": str(log), **extra})
    return SubtaskSpec(id=task_id, agent="scripted", prompt=prompt, description=f"scripted {task_id}")


def read_log(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def dispatcher(server: DevServer, queue: str, repo: Path, **kwargs: object) -> TemporalDispatcher:
    settings = TemporalSettings(address=server.address, task_queue=queue)
    return TemporalDispatcher(settings, cwd=repo, policy=FAST, poll_interval_s=0.2, **kwargs)  # type: ignore[arg-type]


async def test_every_subtask_comes_back_with_its_work_and_live_events(
    temporal_server: DevServer, worker_pair: tuple[str, list[WorkerProcess]], git_repo: Path, tmp_path: Path
) -> None:
    queue, _ = worker_pair
    log = tmp_path / "turns.jsonl"
    tasks = [scripted(f"t{i}", log, turns=3, sleep_s=0.3) for i in range(1, 5)]
    tasks.append(SubtaskSpec(id="ghost", agent="no-such-agent", prompt="{}"))
    events: list[tuple[str, Event]] = []

    results = await dispatcher(temporal_server, queue, git_repo).run(
        tasks, on_event=lambda task_id, event: events.append((task_id, event))
    )

    assert [r.id for r in results] == ["t1", "t2", "t3", "t4", "ghost"]
    for result in results[:4]:
        assert result.ok, result.error
        assert result.files_changed == ["turn1.txt", "turn2.txt", "turn3.txt"]
        assert f"+{result.id} turn 3" in result.patch
        assert result.transcript_ref and result.transcript_ref.startswith("file://")
    ghost = results[4]
    assert ghost.status == "error_during_execution"
    assert "ghost" in (ghost.error or "") and "unknown agent 'no-such-agent'" in (ghost.error or "")
    # --max-concurrent 1: each worker runs one subtask at a time (no interleaving in its log),
    # so four subtasks dispatched at once are spread over both workers.
    by_pid: dict[object, list[dict[str, object]]] = {}
    for entry in read_log(log):
        by_pid.setdefault(entry["pid"], []).append(entry)
    assert len(by_pid) == 2
    for entries in by_pid.values():
        running = [e["id"] for e in entries if e["event"] == "start"]
        assert [e["id"] for e in entries if e["event"] == "done"] == running
        assert all(e["id"] == entries[i - 1]["id"] for i, e in enumerate(entries) if e["event"] != "start")
    assert {task_id for task_id, event in events if event.type == "turn_started"} >= {"t1", "t2", "t3", "t4"}
    ended = sorted(task_id for task_id, event in events if event.type == "result")
    assert ended == ["ghost", "t1", "t2", "t3", "t4"], "every subtask ends its event stream with one result"


async def test_cancelling_the_dispatch_stops_the_running_subtask(
    temporal_server: DevServer, worker_pair: tuple[str, list[WorkerProcess]], git_repo: Path, tmp_path: Path
) -> None:
    queue, _ = worker_pair
    log = tmp_path / "turns.jsonl"
    run = asyncio.create_task(
        dispatcher(temporal_server, queue, git_repo).run([scripted("endless", log, turns=500, sleep_s=0.2)])
    )
    while not any(e["event"] == "turn" for e in read_log(log)):
        await asyncio.sleep(0.05)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run

    assert any(e["event"] == "cancelled" for e in read_log(log)), "the runner's cancel event was not set"
    settled = len(read_log(log))
    client = await connect(TemporalSettings(address=temporal_server.address))
    query = f"TaskQueue = '{queue}' AND ExecutionStatus = 'Canceled'"
    for _ in range(50):  # visibility is eventually consistent
        cancelled = [w.id async for w in client.list_workflows(query) if w.id.endswith("-endless")]
        if cancelled:
            break
        await asyncio.sleep(0.1)
    assert cancelled, "the subtask's workflow did not close as cancelled"
    assert len(read_log(log)) == settled, "the subtask kept running after the dispatch was cancelled"


async def test_a_result_over_two_megabytes_comes_back_by_reference(
    temporal_server: DevServer,
    worker_pair: tuple[str, list[WorkerProcess]],
    git_repo: Path,
    worker_root: Path,
    tmp_path: Path,
) -> None:
    queue, _ = worker_pair
    [result] = await dispatcher(temporal_server, queue, git_repo).run(
        [scripted("big", tmp_path / "log.jsonl", turns=1, sleep_s=0.0, big_result_bytes=2_400_000)]
    )

    assert result.ok, result.error
    assert len(result.result) > 3_000_000
    stored = list((worker_root / "blobs").glob("*big-result-*.zlib"))
    assert stored and stored[0].stat().st_size > 2 * 1024 * 1024


async def test_a_commit_the_worker_cannot_fetch_fails_that_subtask_clearly(
    temporal_server: DevServer, worker_pair: tuple[str, list[WorkerProcess]], git_repo: Path, tmp_path: Path
) -> None:
    queue, _ = worker_pair
    missing = "0123456789abcdef0123456789abcdef01234567"
    spec = scripted("far", tmp_path / "log.jsonl")
    spec = spec.model_copy(update={"cwd": git_repo.as_uri(), "commit": missing})
    [result] = await dispatcher(temporal_server, queue, git_repo).run([spec])

    assert result.status == "error_during_execution"
    assert "subtask far" in (result.error or "") and missing in (result.error or "")
    assert not (tmp_path / "log.jsonl").exists(), "the runner must not start without its workspace"


async def test_an_unreachable_address_fails_fast_naming_the_subtasks(
    git_repo: Path, tmp_path: Path, temporal_sdk: None
) -> None:
    address = f"127.0.0.1:{free_port()}"
    settings = TemporalSettings(address=address, connect_timeout_s=2.0)
    with pytest.raises(RemoteDispatchError) as caught:
        await TemporalDispatcher(settings, cwd=git_repo).run([scripted("lonely", tmp_path / "log")])
    assert address in str(caught.value) and "lonely" in str(caught.value)

    tasks = tmp_path / "tasks.yaml"
    tasks.write_text("- {id: t1, agent: scripted, prompt: '{}'}\n")
    done = run_subagent(
        "dispatch", str(tasks), "--executor", "temporal", "--temporal-address", address, cwd=git_repo
    )
    assert done.returncode == 1
    assert address in done.stderr and "t1" in done.stderr


async def test_a_worker_stopped_with_sigterm_hands_its_subtask_over(
    temporal_server: DevServer,
    worker_pair: tuple[str, list[WorkerProcess]],
    git_repo: Path,
    worker_root: Path,
    tmp_path: Path,
) -> None:
    queue, workers = worker_pair
    # A third worker, so two remain for the next test whichever one holds the subtask.
    workers.append(WorkerProcess(temporal_server.address, queue, worker_root, "w3", 1).start())
    log = tmp_path / "turns.jsonl"
    run = asyncio.create_task(
        dispatcher(temporal_server, queue, git_repo).run([scripted("moving", log, turns=6, sleep_s=0.3)])
    )
    while not any(e["event"] == "turn" and e["turn"] == 2 for e in read_log(log)):
        await asyncio.sleep(0.05)
    holder = next(w for w in workers if w.pid == read_log(log)[0]["pid"])
    await asyncio.to_thread(holder.stop)  # SIGTERM, as Kubernetes sends
    workers.remove(holder)
    [result] = await asyncio.wait_for(run, 60)

    assert result.ok, result.error
    starts = [e for e in read_log(log) if e["event"] == "start"]
    assert len(starts) == 2 and starts[1]["pid"] != holder.pid and int(starts[1]["from_turn"]) > 1
    assert result.files_changed == [f"turn{i}.txt" for i in range(1, 7)]


async def test_a_killed_worker_s_subtask_resumes_on_the_other_worker_exactly_once(
    temporal_server: DevServer, worker_pair: tuple[str, list[WorkerProcess]], git_repo: Path, tmp_path: Path
) -> None:
    # Last in this file: it leaves the shared pair with one worker.
    queue, workers = worker_pair
    log = tmp_path / "turns.jsonl"
    progress: list[ProgressSnapshot] = []
    run = asyncio.create_task(
        dispatcher(
            temporal_server, queue, git_repo, on_progress=lambda _id, p: progress.append(p.model_copy())
        ).run([scripted("long", log, turns=8, sleep_s=0.4)])
    )
    while not any(e["event"] == "turn" and e["turn"] == 3 for e in read_log(log)):
        await asyncio.sleep(0.05)
    victim_pid = read_log(log)[0]["pid"]
    next(w for w in workers if w.pid == victim_pid).kill()
    [result] = await asyncio.wait_for(run, 60)

    assert result.ok, result.error
    entries = read_log(log)
    starts = [e for e in entries if e["event"] == "start"]
    assert len(starts) == 2 and starts[1]["pid"] != victim_pid
    assert int(starts[1]["from_turn"]) > 1, "the retry must resume from the checkpoint, not from turn 1"
    assert sum(e["event"] == "done" for e in entries) == 1
    turns = [int(e["turn"]) for e in entries if e["event"] == "turn"]
    assert sorted(set(turns)) == list(range(1, 9))
    assert len(turns) <= 9, f"at most the turn in flight is run again, got {turns}"
    assert result.files_changed == [f"turn{i}.txt" for i in range(1, 9)]
    assert all(result.patch.count(f"+long turn {i}\n") == 1 for i in range(1, 9))
    assert any(p.attempt == 2 and p.resumed_from_turn for p in progress)
