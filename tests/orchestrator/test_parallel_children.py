"""A parent with parallel children against a scripted model: overlap, merges, conflicts, verify, cancel."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from agent.orchestrator.worktree import worktrees_home
from agent.sessions.checkpoints import ShadowRepo
from tests.orchestrator._scenario import collect, final, model, results, task, until, workspace, write
from tests.orchestrator.cow_driver import sleepers
from tests.processes import unique_sleep


def _parent(match: str, calls: list[dict], summary: str = "all done") -> dict:
    return {"agent": "orchestrator", "match": match, "replies": [{"tool_calls": calls}, {"text": summary}]}


def _child(match: str, *replies: dict) -> dict:
    return {"agent": "worker", "match": match, "replies": list(replies)}


async def test_three_children_run_at_once_and_all_their_edits_land(tmp_path: Path) -> None:
    ws = workspace(tmp_path, files={"shared.txt": "base\n"})
    scripts = [_parent("three", [task("job-a"), task("job-b"), task("job-c")])]
    for name in "abc":
        scripts.append(
            _child(
                f"job-{name}",
                {
                    "text": "reading",
                    "delay_s": 0.4,
                    "tool_calls": [{"name": "read", "input": {"file_path": "shared.txt"}}],
                },
                {"tool_calls": [write(f"{name}.txt", f"from {name}\n")]},
                {"text": f"wrote {name}.txt"},
            )
        )
    events = await collect("do three things", ws, model(scripts))

    assert final(events).subtype == "success"
    # Overlap from the stream's order: every child had started before the first one finished.
    order = [
        (e.type, e.session_id)
        for e in events
        if e.parent_tool_use_id and e.type in ("session_started", "result")
    ]
    first_result = next(i for i, (kind, _) in enumerate(order) if kind == "result")
    assert sum(1 for kind, _ in order[:first_result] if kind == "session_started") == 3
    for name in "abc":
        assert (ws / f"{name}.txt").read_text() == f"from {name}\n"
    outputs = [r.output for r in results(events)]
    assert all('status="success"' in o for o in outputs)
    assert sorted(e.child_session_id for e in events if e.type == "subagent_started") == sorted(
        {e.session_id for e in events if e.type == "session_started" and e.parent_tool_use_id}
    )
    child_ids = {e.parent_tool_use_id for e in events if e.parent_tool_use_id}
    task_ids = {e.tool_use_id for e in events if e.type == "tool_call_started" and e.name == "task"}
    assert child_ids == task_ids  # every child event is tagged with its task call's id
    assert list(worktrees_home().iterdir()) == []


async def test_conflicting_children_report_the_hunks_and_lose_nothing(tmp_path: Path) -> None:
    ws = workspace(tmp_path, files={"app.txt": "one\ntwo\nthree\n"})

    def edit(new: str) -> dict:
        return {"name": "edit", "input": {"file_path": "app.txt", "old_string": "two", "new_string": new}}

    read = {"name": "read", "input": {"file_path": "app.txt"}}
    scripts = [
        _parent("clash", [task("make it TWO-A"), task("make it TWO-B")]),
        _child("TWO-A", {"tool_calls": [read]}, {"tool_calls": [edit("TWO-A")]}, {"text": "A done"}),
        _child(
            "TWO-B",
            {"delay_s": 0.5, "tool_calls": [read]},
            {"tool_calls": [edit("TWO-B")]},
            {"text": "B done"},
        ),
    ]
    events = await collect("clash please", ws, model(scripts))

    first, second = results(events)
    ok, clash = sorted((first, second), key=lambda r: r.is_error)
    assert not ok.is_error and clash.is_error
    assert 'status="error_merge_conflict"' in clash.output
    assert "app.txt" in clash.output and "<<<<<<< workspace" in clash.output and "=======" in clash.output
    text = (ws / "app.txt").read_text()
    winner = "TWO-A" if "TWO-A" in text else "TWO-B"
    loser = "TWO-B" if winner == "TWO-A" else "TWO-A"
    assert winner in text and "<<<<<<<" not in text  # the workspace keeps the merged side intact
    branch = re.search(r"kept on branch (\S+) ", clash.output).group(1)  # type: ignore[union-attr]
    kept = ShadowRepo(ws).git.run("show", f"{branch}:app.txt")
    assert loser in kept  # the other side is on its branch, not lost
    assert list(worktrees_home().iterdir()) == []


async def test_a_failing_verify_goes_back_to_the_child(tmp_path: Path) -> None:
    ws = workspace(tmp_path, config={"agents": {"worker": {"verify": "test -f fixed.txt"}}})
    client = model(
        [
            _parent("verify", [task("half a job")]),
            _child(
                "half a job",
                {"tool_calls": [write("work.txt", "work\n")]},
                {"text": "done (I think)"},
                {"tool_calls": [write("fixed.txt", "ok\n")]},
                {"text": "fixed it"},
            ),
        ]
    )
    events = await collect("verify me", ws, client)

    (result,) = results(events)
    assert not result.is_error, result.output
    assert "verify: passed: `test -f fixed.txt` (2 runs)" in result.output
    feedback = [
        r for r in client.requests if r.agent == "worker" and "Verification failed" in str(r.messages)
    ]
    assert feedback, "the failure was not sent back to the child"
    assert "`test -f fixed.txt` exited with 1" in str(feedback[0].messages)
    verify_calls = [e for e in events if e.type == "tool_call_finished" and e.name == "verify"]
    assert [e.is_error for e in verify_calls] == [True, False]


async def test_verify_that_never_passes_is_an_error_after_the_rounds(tmp_path: Path) -> None:
    ws = workspace(
        tmp_path,
        config={
            "defaults": {"verify_rounds": 1},
            "agents": {"worker": {"verify": "echo still broken; exit 3"}},
        },
    )
    client = model(
        [
            _parent("stubborn", [task("never fixed")]),
            _child("never fixed", {"text": "done"}, {"text": "done again"}),
        ]
    )
    events = await collect("stubborn verify", ws, client)

    (result,) = results(events)
    assert result.is_error
    assert 'status="error_verify_failed"' in result.output
    assert "FAILED (exit 3)" in result.output and "still broken" in result.output


async def test_an_empty_child_report_is_an_error(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    client = model([_parent("empty", [task("say nothing")]), _child("say nothing", {"text": ""})])
    events = await collect("empty report", ws, client)

    (result,) = results(events)
    assert result.is_error
    assert 'status="error_empty_result"' in result.output and "without a final report" in result.output


async def test_cancelling_the_parent_leaves_no_child_process_or_worktree(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    tag = unique_sleep()  # counted by the test: its own, not a neighbour's
    sleep = {"name": "bash", "input": {"command": f"sleep {tag}"}}
    client = model(
        [
            _parent("cancel", [task("sleeper one"), task("sleeper two")]),
            _child("sleeper one", {"tool_calls": [sleep]}, {"text": "slept"}),
            _child("sleeper two", {"tool_calls": [sleep]}, {"text": "slept"}),
        ]
    )
    cancel = asyncio.Event()
    events: list = []

    async def consume() -> None:
        events.extend([e async for e in _run(ws, client, cancel)])

    runner = asyncio.create_task(consume())
    await until(lambda: sleepers(tag) == 2)
    assert len(list(worktrees_home().iterdir())) == 2
    cancel.set()
    await asyncio.wait_for(runner, 30)

    assert final(events).subtype == "cancelled"
    await until(lambda: not sleepers(tag), timeout=10)
    assert list(worktrees_home().iterdir()) == []


def _run(ws: Path, client, cancel: asyncio.Event):  # type: ignore[no-untyped-def]
    from agent.api import run_agent

    return run_agent("cancel me", agent="orchestrator", cwd=ws, model_client=client, cancel=cancel)
