"""Issue 11: against an unreachable Temporal, the CLI exits 1 cleanly, never aborting at interpreter exit.

The crash was a race (temporalio's core thread still inside Python while the interpreter finalized),
seen in about half the runs, so each command runs several times as a real subprocess.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_subagent
from tests.temporal.harness import free_port

RUNS = 5


def _tasks(tmp_path: Path) -> Path:
    tasks = tmp_path / "tasks.yaml"
    tasks.write_text(
        "- {id: a, agent: backend-engineer, prompt: x}\n- {id: b, agent: backend-engineer, prompt: y}\n"
    )
    return tasks


def _argv(command: str, tmp_path: Path, address: str) -> list[str]:
    if command == "worker":
        return ["worker", "--temporal-address", address]
    return ["dispatch", str(_tasks(tmp_path)), "--executor", "temporal", "--temporal-address", address]


@pytest.mark.slow
@pytest.mark.parametrize("command", ["dispatch", "worker"])
def test_an_unreachable_address_exits_1_without_a_fatal_error(
    command: str, tmp_path: Path, temporal_sdk: None
) -> None:
    address = f"127.0.0.1:{free_port()}"
    for run in range(RUNS):
        done = run_subagent(*_argv(command, tmp_path, address), cwd=tmp_path)
        assert "Fatal Python error" not in done.stderr, f"run {run + 1}: {done.stderr}"
        assert done.returncode == 1, f"run {run + 1}: exit {done.returncode}: {done.stderr}"
        assert f"cannot reach Temporal at {address}" in done.stderr


def test_dispatch_prints_a_report_when_temporal_is_unreachable(tmp_path: Path, temporal_sdk: None) -> None:
    address = f"127.0.0.1:{free_port()}"
    done = run_subagent(*_argv("dispatch", tmp_path, address), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert [r["id"] for r in report["results"]] == ["a", "b"]
    for result in report["results"]:
        assert result["status"] == "error_during_execution"
        assert f"cannot reach Temporal at {address}" in result["error"]


def test_dispatch_remote_says_what_to_type_instead(tmp_path: Path) -> None:
    tasks = str(_tasks(tmp_path))
    done = run_subagent("dispatch-remote", tasks, "--namespace", "prod", "--tls", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert f"run: subagent dispatch {tasks} --namespace prod --tls --executor temporal" in done.stderr
    assert "dispatch-remote" not in run_subagent("--help").stdout  # hidden
