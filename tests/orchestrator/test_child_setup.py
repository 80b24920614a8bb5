"""A child's setup beside its first model turn: the checkpoint it starts from is taken while the
request is in flight, and nothing the child does comes before it; children share one session
store and leave their root's workspace lock alone."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import pytest

from agent.orchestrator.base import SubtaskSpec
from agent.orchestrator.local import LocalDispatcher
from agent.runtime.parts import default_parts
from agent.sessions import leftovers
from agent.sessions.checkpoints import ShadowRepo
from tests.orchestrator._scenario import model, workspace, write

SLOW_S = 0.6


def _slow_checkpoints(monkeypatch: pytest.MonkeyPatch, order: list[str]) -> None:
    """Each child's starting checkpoint takes SLOW_S; `order` records when it is done."""
    snapshot = ShadowRepo.snapshot

    def slow(repo: ShadowRepo, label: str) -> str:
        if not label.startswith("before worker"):
            return snapshot(repo, label)
        time.sleep(SLOW_S)
        sha = snapshot(repo, label)
        order.append("checkpoint taken")
        return sha

    monkeypatch.setattr(ShadowRepo, "snapshot", slow)


def _requests_noted(client: Any, order: list[str]) -> Any:
    stream = client.stream

    def noted(request: Any) -> Any:
        order.append("request")
        return stream(request)

    client.stream = noted
    return client


def _writer(name: str) -> dict[str, Any]:
    return {
        "agent": "worker",
        "match": name,
        "replies": [{"tool_calls": [write(f"{name}.txt", f"{name}\n")]}, {"text": f"{name} done"}],
    }


def _sessions_noted(parts: Any, order: list[str]) -> Any:
    """`parts` whose store notes each session it creates in `order`."""

    def open_store() -> Any:
        store = parts.open_store()
        create = store.create

        def noted(**fields: Any) -> Any:
            order.append("session")
            return create(**fields)

        store.create = noted
        return store

    return dataclasses.replace(parts, open_store=open_store)


@pytest.mark.parametrize("children", [1, 2], ids=["in place", "in trees"])
async def test_the_checkpoint_is_taken_beside_the_childs_setup_and_before_any_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, children: int
) -> None:
    """In place, the first request goes out before the checkpoint is taken; in a tree of its own,
    it reads the tree's files (test below), so it waits for the tree: its run was set up meanwhile."""
    ws = workspace(tmp_path, config={"defaults": {"worktrees": "checkout"}}, files={"keep.txt": "keep\n"})
    order: list[str] = []
    _slow_checkpoints(monkeypatch, order)
    names = [f"made{n}" for n in range(children)]
    client = _requests_noted(model([_writer(name) for name in names]), order)
    tasks = [SubtaskSpec(id=name, agent="worker", prompt=name) for name in names]
    parts = _sessions_noted(default_parts(), order)

    results = await LocalDispatcher(ws, model_client=client, parts=parts).run(tasks)

    assert [r.status for r in results] == ["success"] * children, results
    assert order[:children] == ["session"] * children  # every child's run was set up before it
    taken = order.index("checkpoint taken")
    first = ["request"] * children
    assert (order[children:taken] if children == 1 else order[taken + 1 : taken + 1 + children]) == first
    # the write waited for the checkpoint: the child's changes are measured from before it
    assert [r.files_changed for r in results] == [[f"{name}.txt"] for name in names]
    assert all((ws / f"{name}.txt").read_text() == f"{name}\n" for name in names)


async def test_children_share_one_store_and_leave_their_roots_workspace_lock_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each child opening its own store waited out SQLite's busy handler when children started
    together; each child's run tried to take the workspace its root holds (sleeping on it)."""
    ws = workspace(tmp_path)
    opened: list[object] = []
    parts = default_parts()

    def open_store() -> Any:
        store = parts.open_store()
        opened.append(store)
        return store

    held: list[Path] = []
    hold = leftovers.hold_workspace

    def noted_hold(lock_dir: Path, workspace: Path, command: str) -> Any:
        held.append(workspace)
        return hold(lock_dir, workspace, command)

    monkeypatch.setattr(leftovers, "hold_workspace", noted_hold)
    names = ["one", "two", "three"]
    client = model([_writer(name) for name in names])
    tasks = [SubtaskSpec(id=name, agent="worker", prompt=name) for name in names]
    dispatcher = LocalDispatcher(
        ws, model_client=client, parts=dataclasses.replace(parts, open_store=open_store)
    )

    results = await dispatcher.run(tasks)

    assert [r.status for r in results] == ["success"] * 3, results
    assert len(opened) == 1
    assert opened[0].durable is False  # type: ignore[attr-defined]  # its commits do not wait for the disk
    assert held == [ws.resolve()]  # the dispatch's own hold, and no child's
    sessions = {r.session_id for r in results}
    assert len(sessions) == 3 and all(opened[0].get(s).status == "completed" for s in sessions)  # type: ignore[attr-defined]


async def test_a_child_in_a_tree_of_its_own_reads_its_instructions_and_skills_from_the_tree(
    tmp_path: Path,
) -> None:
    """Defect: the tree was filled while the child's run was set up, and the run read the
    project's instructions and skills from the tree before it was filled (an empty folder): the
    children's first request had neither."""
    skill = "---\nname: release\ndescription: how this project ships\n---\nship it\n"
    files = {"AGENTS.md": "Always say MARKER-7.\n", ".claude/skills/release/SKILL.md": skill}
    ws = workspace(tmp_path, config={"defaults": {"worktrees": "checkout"}}, files=files)
    names = ["one", "two"]
    client = model([_writer(name) for name in names])
    tasks = [SubtaskSpec(id=name, agent="worker", prompt=name) for name in names]

    results = await LocalDispatcher(ws, model_client=client).run(tasks)

    assert [r.status for r in results] == ["success"] * 2, results
    firsts = [r for r in client.requests if len(r.messages) == 1]
    assert len(firsts) == 2
    for request in firsts:
        system = "\n".join(block["text"] for block in request.system)
        assert "Always say MARKER-7." in system
        assert "release" in system and "how this project ships" in system
        assert str(ws.resolve()) not in system  # the tree's own files, at the tree's paths


async def test_a_child_whose_tree_cannot_be_made_asks_the_model_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its first request waits for the tree it reads: the failure is the child's result at once,
    not after turns whose tools all failed; its sibling's work is not held up by it."""
    from agent.errors import WorktreeError
    from agent.orchestrator import child

    populate = child.populate_tree

    async def failing(link: Any, repo: Any, tree: Any) -> None:
        if "broken" in tree.path.parent.name:
            raise WorktreeError("the disk is full")
        await populate(link, repo, tree)

    monkeypatch.setattr(child, "populate_tree", failing)
    ws = workspace(tmp_path, config={"defaults": {"worktrees": "checkout"}})
    client = model([_writer("broken"), _writer("fine")])
    tasks = [SubtaskSpec(id=name, agent="worker", prompt=name) for name in ("broken", "fine")]

    broken, fine = await LocalDispatcher(ws, model_client=client).run(tasks)

    assert broken.status == "error_during_execution" and "the disk is full" in (broken.error or "")
    assert fine.status == "success" and (ws / "fine.txt").read_text() == "fine\n"
    assert all("broken" not in str(r.messages[0]) for r in client.requests)
