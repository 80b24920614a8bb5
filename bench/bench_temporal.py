"""Temporal executor overhead and recovery, as ratios against a reference measured in the same run.

    /work/venv/bin/python bench/bench_temporal.py [--subtasks 8] [--turns 3]

Starts a real dev server and two `subagent worker`s (loopback), runs the scripted runner
(tests/temporal/scripted_runner.py) and prints JSON lines {"name", "value", "reference", "ratio"}:

- temporal_subtask_s: one subtask at a time through Temporal (workflow, activity, checkout,
  heartbeats, result), per subtask; reference: the same runner in-process on a checkout made the same
  way. The difference is the per-subtask overhead of going through Temporal.
- temporal_batch_s: all subtasks at once (two workers, four slots each); reference: asyncio.gather
  of the same in-process runs.
- recovery_s: from kill -9 of the worker running a subtask to the subtask running again on the
  other worker; reference: the heartbeat timeout (the floor: death is only noticed then).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.orchestrator.base import SubtaskSpec
from agent.orchestrator.temporal.client import TemporalDispatcher
from agent.orchestrator.temporal.connection import TemporalSettings
from agent.orchestrator.temporal.models import AttemptPolicy
from agent.orchestrator.temporal.workspace import pin_workspace, prepare_workspace
from bench._figures import emit
from tests.temporal import scripted_runner
from tests.temporal.harness import DevServer, WorkerProcess

HEARTBEAT_TIMEOUT_S = 2.0


def make_repo(root: Path) -> Path:
    import subprocess

    repo = root / "repo"
    repo.mkdir()
    for i in range(200):
        (repo / f"file{i}.py").write_text(f"VALUE = {i}\n")
    for args in (
        ["init", "-q"],
        ["add", "."],
        ["-c", "user.email=b@example.com", "-c", "user.name=b", "commit", "-qm", "init"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True)
    return repo


def specs(prefix: str, count: int, turns: int, log: Path) -> list[SubtaskSpec]:
    prompt = json.dumps({"turns": turns, "sleep_s": 0.05, "log": str(log)})
    return [SubtaskSpec(id=f"{prefix}{i}", agent="scripted", prompt=prompt) for i in range(count)]


async def in_process(spec: SubtaskSpec, repo: Path, scratch: Path) -> None:
    ref = pin_workspace(spec, repo)
    workspace = await prepare_workspace(spec.id, ref, scratch / spec.id)
    result = await scripted_runner.run(
        spec, workspace, on_event=None, on_checkpoint=None, resume_from=None, cancel=asyncio.Event()
    )
    assert result.ok


async def measure_overhead(
    dispatcher: TemporalDispatcher, repo: Path, root: Path, count: int, turns: int
) -> None:
    log = root / "overhead.jsonl"
    local = specs("local", count, turns, log)
    start = time.perf_counter()
    for spec in local:
        await in_process(spec, repo, root / "seq")
    reference = (time.perf_counter() - start) / count
    start = time.perf_counter()
    for spec in specs("seq", count, turns, log):
        [result] = await dispatcher.run([spec])
        assert result.ok, result.error
    emit(
        "temporal_subtask_s",
        (time.perf_counter() - start) / count,
        reference,
        unit="s",
        reference_name="the same subtask in-process",
    )

    start = time.perf_counter()
    await asyncio.gather(*(in_process(s, repo, root / "par") for s in specs("plocal", count, turns, log)))
    reference = time.perf_counter() - start
    start = time.perf_counter()
    results = await dispatcher.run(specs("batch", count, turns, log))
    assert all(r.ok for r in results)
    emit(
        "temporal_batch_s",
        time.perf_counter() - start,
        reference,
        unit="s",
        reference_name="the same 8 in-process (asyncio.gather)",
    )


async def measure_recovery(dispatcher: TemporalDispatcher, workers: list[WorkerProcess], root: Path) -> None:
    log = root / "recovery.jsonl"
    prompt = json.dumps({"turns": 10, "sleep_s": 0.3, "log": str(log)})
    run = asyncio.create_task(dispatcher.run([SubtaskSpec(id="victim", agent="scripted", prompt=prompt)]))
    while not log.exists() or '"turn": 2' not in log.read_text():
        await asyncio.sleep(0.02)
    first = json.loads(log.read_text().splitlines()[0])
    victim = next(w for w in workers if w.pid == first["pid"])
    killed_at = time.time()
    victim.kill()
    [result] = await run
    assert result.ok, result.error
    restarts = [json.loads(line) for line in log.read_text().splitlines()]
    restarted_at = next(e["t"] for e in restarts if e["event"] == "start" and e["pid"] != first["pid"])
    emit(
        "recovery_s",
        restarted_at - killed_at,
        HEARTBEAT_TIMEOUT_S,
        unit="s",
        reference_name="the heartbeat timeout",
    )


async def main(count: int, turns: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-temporal-") as tmp:
        root = Path(tmp)
        repo = make_repo(root)
        server = DevServer(root).start()
        workers = [WorkerProcess(server.address, "bench", root, f"bench-w{i}", 4) for i in (1, 2)]
        try:
            for worker in workers:
                worker.spawn()
            for worker in workers:
                worker.wait_ready()
            policy = AttemptPolicy(heartbeat_timeout_s=HEARTBEAT_TIMEOUT_S, retry_initial_s=0.1)
            dispatcher = TemporalDispatcher(
                TemporalSettings(address=server.address, task_queue="bench"),
                cwd=repo,
                policy=policy,
                poll_interval_s=0.5,
            )
            await dispatcher.run(specs("warm", 2, 1, root / "warm.jsonl"))
            await measure_overhead(dispatcher, repo, root, count, turns)
            await measure_recovery(dispatcher, workers, root)
        finally:
            for worker in workers:
                worker.stop()
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subtasks", type=int, default=8)
    parser.add_argument("--turns", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.subtasks, args.turns))
