"""Nothing lost, nothing stuck, with real `subagent` processes in one workspace.

- Two runs that may change one workspace at once: the second is told it is busy (session, pid);
  a read-only run goes ahead.
- `undo` of a session that is still running is refused naming its pid.
- `undo` of one of two sessions reverts its own changes only, says which files another session
  (or a person) changed, and asks before undoing another session's later change to a file.
- A run killed with `kill -9` mid-edit, or with subagents in worktrees, leaves files behind that
  the next run in that workspace or data dir sweeps, and `subagent doctor` reports.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.orchestrator.worktree import worktrees_home
from tests.conftest import run_subagent, subagent_argv, subprocess_env
from tests.orchestrator._scenario import task, workspace, write
from tests.processes import kill_all_with, unique_sleep


class Live:
    """A `subagent run ... --output stream-json` whose events are read as they come."""

    def __init__(self, prompt: str, ws: Path, script: Path, agent: str = "worker") -> None:
        self.proc = subprocess.Popen(
            subagent_argv(
                "run",
                prompt,
                "--agent",
                agent,
                "--script",
                str(script),
                "--cwd",
                str(ws),
                "--output",
                "stream-json",
            ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=subprocess_env(),
        )
        self.events: list[dict[str, Any]] = []
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(json.loads(line))
        self._queue.put(None)

    def until(self, test: Any, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            event = self._queue.get(timeout=max(0.1, deadline - time.monotonic()))
            assert event is not None, f"the run ended first: {self.stderr()}"
            self.events.append(event)
            if test(event):
                return event

    def stderr(self) -> str:
        return self.proc.stderr.read() if self.proc.stderr and self.proc.poll() is not None else ""

    @property
    def session_id(self) -> str:
        return next(e["session_id"] for e in self.events if e["type"] == "session_started")

    def result(self) -> dict[str, Any]:
        return self.until(lambda e: e["type"] == "result" and e.get("parent_tool_use_id") is None)


@pytest.fixture
def live() -> Iterator[list[Live]]:
    started: list[Live] = []
    yield started
    for run in started:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait()


def _script(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"scripts": entries}))
    return path


def _wait_for(gate: Path, tag: str = "0.01") -> dict[str, Any]:
    """A bash call that waits until `gate` exists (the test opens it)."""
    return {"name": "bash", "id": "wait", "input": {"command": f"until [ -e {gate} ]; do sleep {tag}; done"}}


def _worker(match: str, *replies: dict[str, Any]) -> dict[str, Any]:
    return {"agent": "worker", "match": match, "replies": list(replies)}


def test_a_second_run_in_a_busy_workspace_is_told_who_holds_it(tmp_path: Path, live: list[Live]) -> None:
    ws = workspace(tmp_path)
    gate = tmp_path / "gate"
    script = _script(
        tmp_path / "s.yaml",
        [
            _worker(
                "first",
                {"tool_calls": [write("a.txt", "a\n")]},
                {"tool_calls": [_wait_for(gate)]},
                {"text": "first done"},
            ),
            _worker("second", {"tool_calls": [write("b.txt", "b\n")]}, {"text": "second done"}),
            {"agent": "explore", "replies": [{"text": "looked around"}]},
        ],
    )
    first = Live("first", ws, script)
    live.append(first)
    first.until(lambda e: e["type"] == "tool_call_started" and e["tool_use_id"] == "wait")

    refused = run_subagent(
        "run", "second", "--agent", "worker", "--script", str(script), "--cwd", str(ws), "--output", "json"
    )
    assert refused.returncode == 1 and refused.stdout == ""
    assert f"workspace {ws} is busy" in refused.stderr
    assert f"session {first.session_id}" in refused.stderr and f"pid {first.proc.pid}" in refused.stderr
    assert not (ws / "b.txt").exists()
    assert len(run_subagent("sessions", "list", "--json", "--cwd", str(ws)).stdout.split('"id"')) == 2

    reader = run_subagent(
        "run", "look", "--agent", "explore", "--script", str(script), "--cwd", str(ws), "--output", "json"
    )
    assert reader.returncode == 0, reader.stderr  # a read-only run needs no hold on the workspace

    gate.touch()
    assert first.result()["subtype"] == "success"
    assert first.proc.wait(30) == 0
    again = run_subagent(
        "run", "second", "--agent", "worker", "--script", str(script), "--cwd", str(ws), "--output", "json"
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["result"] == "second done"


def test_undo_of_a_running_session_is_refused_naming_its_pid(tmp_path: Path, live: list[Live]) -> None:
    ws = workspace(tmp_path)
    gate = tmp_path / "gate"
    script = _script(
        tmp_path / "s.yaml",
        [
            _worker(
                "work",
                {"tool_calls": [write("a.txt", "a\n")]},
                {"tool_calls": [_wait_for(gate)]},
                {"text": "done"},
            ),
        ],
    )
    run = Live("work", ws, script)
    live.append(run)
    run.until(lambda e: e["type"] == "tool_call_started" and e["tool_use_id"] == "wait")

    undo = run_subagent("undo", "--session", run.session_id, "--yes", cwd=ws)
    assert undo.returncode == 1
    assert f"session {run.session_id} is still running" in undo.stderr
    assert f"pid {run.proc.pid}" in undo.stderr
    assert (ws / "a.txt").read_text() == "a\n"  # untouched

    gate.touch()
    assert run.result()["subtype"] == "success"
    run.proc.wait(30)
    done = run_subagent("undo", "--session", run.session_id, "--yes", cwd=ws)
    assert done.returncode == 0, done.stderr
    assert not (ws / "a.txt").exists()


def _read_then_write(path: str, text: str) -> list[dict[str, Any]]:
    return [
        {"tool_calls": [{"name": "read", "input": {"file_path": path}}]},
        {"tool_calls": [write(path, text)]},
    ]


def test_undo_of_one_session_keeps_the_other_sessions_and_a_persons_changes(tmp_path: Path) -> None:
    ws = workspace(tmp_path, files={"shared.txt": "base\n", "notes.txt": "n0\n"})
    script = _script(
        tmp_path / "s.yaml",
        [
            _worker(
                "session A",
                *_read_then_write("shared.txt", "from A\n"),
                {"tool_calls": [write("a.txt", "a\n")]},
                {"text": "A done"},
            ),
            _worker(
                "session B",
                *_read_then_write("shared.txt", "from B\n"),
                {"tool_calls": [write("b.txt", "b\n")]},
                {"text": "B done"},
            ),
        ],
    )

    def run(prompt: str) -> dict[str, Any]:
        done = run_subagent(
            "run", prompt, "--agent", "worker", "--script", str(script), "--cwd", str(ws), "--output", "json"
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    a = run("session A")
    (ws / "notes.txt").write_text("n1\n")  # a person, between the runs
    b = run("session B")
    sessions = json.loads(run_subagent("sessions", "show", a["session_id"], "--json").stdout)
    assert sessions["session"]["status"] == "completed"

    last_step = run_subagent("undo", "--session", a["session_id"], cwd=ws, input="")
    assert "delete   a.txt" in last_step.stdout and "revert" not in last_step.stdout  # its last step only
    assert f"shared.txt   (changed by session {b['session_id']})" in last_step.stdout

    asked = run_subagent("undo", "--session", a["session_id"], "--to", "1", cwd=ws, input="")
    assert asked.returncode == 2  # no terminal, no --yes: nothing changes
    out = asked.stdout
    assert "delete   a.txt" in out
    assert f"revert   shared.txt   (also changed later by session {b['session_id']}" in out
    assert f"b.txt   (changed by session {b['session_id']})" in out
    assert "notes.txt   (changed outside any session)" in out
    assert f"this also undoes what session {b['session_id']} changed" in asked.stderr
    assert (ws / "a.txt").exists() and (ws / "shared.txt").read_text() == "from B\n"

    applied = run_subagent("undo", "--session", a["session_id"], "--to", "1", "--yes", cwd=ws)
    assert applied.returncode == 0, applied.stderr
    assert f"--yes: also undoing session {b['session_id']}'s later changes" in applied.stdout
    assert not (ws / "a.txt").exists() and (ws / "shared.txt").read_text() == "base\n"
    assert (ws / "b.txt").read_text() == "b\n" and (ws / "notes.txt").read_text() == "n1\n"


async def test_each_runs_files_changed_and_steps_are_its_own(tmp_path: Path) -> None:
    from agent.api import run_agent
    from tests.orchestrator._scenario import model

    ws = workspace(tmp_path)
    client = model(
        [
            _worker(
                "one",
                {"tool_calls": [{"name": "bash", "input": {"command": "echo 1 > by-bash.txt"}}]},
                {"text": "one"},
            ),
            _worker("two", {"tool_calls": [write("two.txt", "2\n")]}, {"text": "two"}),
        ]
    )
    finals = []
    for prompt in ("one", "two"):
        events = [e async for e in run_agent(prompt, agent="worker", cwd=ws, model_client=client)]
        finals.append(events[-1])
        (ws / f"by-hand-{prompt}.txt").write_text("a person\n")  # after the run
    assert finals[0].files_changed == [str(ws / "by-bash.txt")]
    assert finals[1].files_changed == [str(ws / "two.txt")]
    shown = json.loads(run_subagent("sessions", "show", finals[0].session_id, "--json").stdout)
    assert [c["files"] for c in shown["checkpoints"]] == [["added by-bash.txt"]]  # up to its end, not now


def test_a_kill_during_an_edit_leaves_a_temporary_file_the_next_run_sweeps(
    tmp_path: Path, live: list[Live]
) -> None:
    ws = workspace(tmp_path, files={"big.txt": "x" * 1000 + "\n"})
    marker = tmp_path / "temporary-made"
    tag = unique_sleep()
    writer = (  # what write_atomic does, stopped half-way: the same mkstemp name, part of the bytes
        'python3 -c "import os, tempfile, time; '
        "fd, p = tempfile.mkstemp(dir='.', prefix='.big.txt.', suffix='.tmp'); "
        f"os.write(fd, b'y' * 3_000_000); open('{marker}', 'w').write(p); time.sleep({tag})\""
    )
    script = _script(
        tmp_path / "s.yaml",
        [
            _worker(
                "edit",
                {"tool_calls": [{"name": "bash", "id": "edit", "input": {"command": writer}}]},
                {"text": "never"},
            ),
            {"agent": "explore", "replies": [{"text": "looked"}]},
        ],
    )
    run = Live("edit", ws, script)
    live.append(run)
    try:
        run.until(lambda e: e["type"] == "tool_call_started" and e["tool_use_id"] == "edit")
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert time.monotonic() < deadline, "the edit never started"
            time.sleep(0.02)
        temporary = Path(marker.read_text())
        run.proc.kill()  # kill -9 mid-edit
        run.proc.wait()
    finally:
        kill_all_with(tag)
    temporary = (ws / temporary).resolve()
    assert temporary.exists() and temporary.stat().st_size == 3_000_000

    swept_by = run_subagent(
        "run", "look", "--agent", "explore", "--script", str(script), "--cwd", str(ws), "--output", "json"
    )
    assert swept_by.returncode == 0, swept_by.stderr
    assert not temporary.exists()
    assert (ws / "big.txt").read_text() == "x" * 1000 + "\n"
    doctor = json.loads(run_subagent("doctor", "--json", cwd=ws).stdout)
    leftovers = next(c for c in doctor if c["name"] == "leftovers")["detail"]
    assert str(temporary) in leftovers and "temporary file" in leftovers
    assert f"session {run.session_id}" in leftovers  # who left it


def test_worktrees_of_a_killed_orchestrator_are_swept_by_the_next_run(
    tmp_path: Path, live: list[Live]
) -> None:
    ws = workspace(tmp_path)
    gate = tmp_path / "gate"
    tag = unique_sleep()
    script = _script(
        tmp_path / "s.yaml",
        [
            {
                "agent": "orchestrator",
                "match": "two jobs",
                "replies": [{"tool_calls": [task("job one"), task("job two")]}, {"text": "never"}],
            },
            _worker("job one", {"tool_calls": [_wait_for(gate, tag)]}, {"text": "one"}),
            _worker("job two", {"tool_calls": [_wait_for(gate, tag)]}, {"text": "two"}),
            _worker("single", {"text": "single run"}),
        ],
    )
    run = Live("two jobs", ws, script, agent="orchestrator")
    live.append(run)
    try:
        run.until(lambda e: e["type"] == "tool_call_started" and e["tool_use_id"] == "wait")
        run.until(lambda e: e["type"] == "tool_call_started" and e["tool_use_id"] == "wait")
        left = sorted(worktrees_home().iterdir())
        assert len(left) == 2
        run.proc.kill()
        run.proc.wait()
    finally:
        kill_all_with(tag)
        gate.touch()
    assert sorted(worktrees_home().iterdir()) == left  # a kill -9 runs no cleanup

    single = run_subagent(
        "run", "single", "--agent", "worker", "--script", str(script), "--cwd", str(ws), "--output", "json"
    )
    assert single.returncode == 0, single.stderr
    assert list(worktrees_home().iterdir()) == []
    doctor = json.loads(run_subagent("doctor", "--json", cwd=ws).stdout)
    leftovers = next(c for c in doctor if c["name"] == "leftovers")["detail"]
    assert all(str(path) in leftovers for path in left) and "worktree" in leftovers
    assert os.path.isdir(ws)
