"""Through Temporal, the real runner on a real worker: dispatch options reach the remote subtasks as
they reach local ones, each subtask works in a checkout of its own, and a refused subtask's error
says what was refused (its final text stays its report)."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_subagent
from tests.orchestrator._scenario import WORKER, write
from tests.temporal.harness import MODEL_RUNNER, DevServer, WorkerProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A committed repository with a worker agent that may edit (default mode: edits are asked)."""
    repo = tmp_path / "repo"
    (repo / ".subagent" / "agents").mkdir(parents=True)
    config = {"defaults": {"sandbox": {"kind": "none"}}}
    (repo / ".subagent" / "config.yaml").write_text(yaml.safe_dump(config))
    (repo / ".subagent" / "agents" / "worker.md").write_text(WORKER)
    (repo / "README.md").write_text("repo\n")
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "init"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True)
    return repo


@pytest.fixture
def model_worker(
    temporal_server: DevServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WorkerProcess]:
    """One worker running two subtasks at once with the real runner and a scripted model."""
    script = tmp_path / "model.yaml"
    script.write_text(
        yaml.safe_dump(
            {
                "scripts": [
                    *(
                        {
                            "agent": "worker",
                            "match": f"make {name}",
                            "replies": [
                                {"tool_calls": [write(f"{name}.txt", f"{name}\n")], "delay_s": 0.5},
                                {"text": f"made {name}"},
                            ],
                        }
                        for name in ("one", "two")
                    ),
                ]
            }
        )
    )
    monkeypatch.setenv("SUBAGENT_TEST_SCRIPT", str(script))
    root = tmp_path / "worker"
    root.mkdir()
    worker = WorkerProcess(
        temporal_server.address, f"q-{uuid.uuid4().hex[:8]}", root, "model-worker", 2, runner=MODEL_RUNNER
    ).start()
    yield worker
    worker.stop()


def _dispatch(
    repo: Path, worker: WorkerProcess, tasks: list[dict[str, str]], *flags: str
) -> dict[str, object]:
    path = repo.parent / "tasks.yaml"
    path.write_text(yaml.safe_dump({"tasks": tasks}))
    ran = run_subagent(
        "dispatch",
        str(path),
        "--executor",
        "temporal",
        "--temporal-address",
        worker.address,
        "--task-queue",
        worker.task_queue,
        "--json",
        *flags,
        cwd=repo,
        timeout=180,
    )
    assert ran.stdout, ran.stderr
    report: dict[str, object] = json.loads(ran.stdout)
    return report


def test_permission_mode_reaches_remote_subtasks_each_in_its_own_checkout(
    repo: Path, model_worker: WorkerProcess
) -> None:
    tasks = [
        {"id": name, "agent": "worker", "prompt": f"make {name}", "cwd": str(repo)} for name in ("one", "two")
    ]
    report = _dispatch(repo, model_worker, tasks, "--permission-mode", "bypass")
    results = {r["id"]: r for r in report["results"]}  # type: ignore[attr-defined]
    assert report["ok"], results
    assert results["one"]["files_changed"] == ["one.txt"] and results["two"]["files_changed"] == ["two.txt"]
    assert "+one" in results["one"]["patch"] and "two.txt" not in results["one"]["patch"]
    assert not (repo / "one.txt").exists() and not (repo / "two.txt").exists()  # never in the source


def test_a_refused_remote_subtask_says_what_was_refused(repo: Path, model_worker: WorkerProcess) -> None:
    report = _dispatch(repo, model_worker, [{"id": "one", "agent": "worker", "prompt": "make one"}])
    (result,) = report["results"]  # type: ignore[misc]
    assert result["status"] == "error_permission_denied"
    assert result["result"] == "made one"  # its final text is its report
    assert result["error"].startswith("permission denied: ") and "made one" not in result["error"]
    assert [d["tool_input"]["file_path"] for d in result["permission_denials"]] == ["one.txt"]


def test_the_connection_flags_reach_the_temporal_dispatch(
    repo: Path, temporal_server: DevServer, tmp_path: Path
) -> None:
    """`dispatch --executor temporal` connects with `subagent worker`'s flags: a namespace the
    server does not have is refused by the server, and the subtask's result names it."""
    path = tmp_path / "tasks.yaml"
    path.write_text(yaml.safe_dump([{"id": "n1", "agent": "worker", "prompt": "x", "cwd": str(repo)}]))
    done = run_subagent(
        "dispatch", str(path), "--executor", "temporal", "--temporal-address", temporal_server.address,
        "--namespace", "no-such-namespace", "--max-attempts", "1", "--json", cwd=repo, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    [result] = report["results"]
    assert report["ok"] is False and result["id"] == "n1" and result["status"] == "error_during_execution"
    assert "no-such-namespace" in result["error"]
