"""`subagent dispatch FILE` and `subagent demo`, as real subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from agent.errors import DispatchFileError
from agent.orchestrator.dispatch_file import load_tasks
from tests.conftest import run_subagent
from tests.orchestrator._scenario import workspace, write


def _script(path: Path) -> Path:
    replies = lambda name: [{"tool_calls": [write(f"{name}.txt", f"{name}\n")]}, {"text": f"made {name}"}]  # noqa: E731
    scripts = [{"agent": "worker", "match": name, "replies": replies(name)} for name in ("alpha", "beta")]
    path.write_text(yaml.safe_dump({"scripts": scripts}))
    return path


def test_dispatch_runs_a_file_of_tasks_and_prints_the_report(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    tasks = tmp_path / "tasks.json"
    tasks.write_text(
        json.dumps(
            {
                "tasks": [
                    {"id": "a", "agent": "worker", "prompt": "make alpha", "verify": "test -f alpha.txt"},
                    {"agent": "worker", "prompt": "make beta", "description": "beta file"},
                ]
            }
        )
    )
    script = _script(tmp_path / "s.yaml")
    done = run_subagent("dispatch", str(tasks), "--cwd", str(ws), "--script", str(script))

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert [(r["id"], r["status"]) for r in report["results"]] == [("a", "success"), ("t2", "success")]
    assert report["results"][0]["verification"]["passed"] is True
    assert report["results"][1]["files_changed"] == ["beta.txt"]
    assert (ws / "alpha.txt").read_text() == "alpha\n" and (ws / "beta.txt").exists()
    assert "worker" in done.stderr  # the progress view


@pytest.mark.parametrize(
    ("tasks", "expected"),
    [
        ([{"agent": "nobody", "prompt": "x"}], "task #1 (t1): unknown agent 'nobody'; known agents:"),
        (
            [{"agent": "worker", "prompt": "x"}, {"id": "second", "agent": "worker"}],
            "task #2 (second): missing `prompt`",
        ),
        ([{"agent": "worker", "prompt": "x", "colour": "red"}], "task #1 (t1): colour: unknown field"),
    ],
)
def test_dispatch_bad_input_names_the_file_and_task(tmp_path: Path, tasks: list, expected: str) -> None:
    ws = workspace(tmp_path)
    path = tmp_path / "tasks.yaml"
    path.write_text(yaml.safe_dump(tasks))
    done = run_subagent("dispatch", str(path), "--cwd", str(ws))

    assert done.returncode == 2
    assert f"{path}: {expected}" in done.stderr
    assert done.stdout == ""


def test_task_files_load_as_a_list_or_under_tasks(tmp_path: Path) -> None:
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([{"id": "t1", "agent": "a", "prompt": "p"}]))
    nested = tmp_path / "nested.yaml"
    nested.write_text("tasks:\n  - {id: t2, agent: b, prompt: q, verify: pytest -q}\n")
    assert [t.id for t in load_tasks(listed)] == ["t1"]
    assert load_tasks(nested)[0].verify == "pytest -q"


def test_load_tasks_rejects_what_is_not_a_list(tmp_path: Path) -> None:
    path = tmp_path / "tasks.yaml"
    path.write_text("agent: worker\n")
    with pytest.raises(DispatchFileError, match="expected a non-empty list of tasks"):
        load_tasks(path)


@pytest.mark.slow
def test_the_demo_runs_and_its_final_tree_passes_the_sample_tests(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    done = run_subagent("demo", "--fast", "--workdir", str(target), timeout=240)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "tests on the merged tree" in done.stdout and "passed" in done.stdout
    assert (target / "migrations" / "002_add_created_at.sql").exists()
    assert "def do_POST" in (target / "app" / "server.py").read_text()
    suite = subprocess.run(
        [sys.executable, "-m", "unittest", "discover", "-s", "tests", "-q"],
        cwd=target,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert suite.returncode == 0, suite.stderr
    assert "Ran 9 tests" in suite.stderr


def test_dispatch_routes_the_temporal_executor(tmp_path: Path) -> None:
    pytest.importorskip("temporalio")
    path = tmp_path / "tasks.yaml"
    path.write_text(yaml.safe_dump([{"agent": "backend-engineer", "prompt": "x"}]))
    done = run_subagent(
        "dispatch",
        str(path),
        "--cwd",
        str(tmp_path),
        "--executor",
        "temporal",
        "--temporal-address",
        "127.0.0.1:1",
        "--json",
        timeout=120,
    )

    assert done.returncode == 1
    assert "cannot reach Temporal at 127.0.0.1:1" in done.stderr
    report = json.loads(done.stdout)  # a report in every outcome but bad input
    assert report["ok"] is False and report["results"][0]["status"] == "error_during_execution"
