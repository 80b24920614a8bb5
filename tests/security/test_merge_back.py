"""A child's work merged back into the workspace never reaches outside it, as an unprivileged user.

The merge is the runtime's own write, outside any sandbox. Two children edit in trees of their
own (two `task` calls in one turn), while the parent's bash, in the same turn, replaces a folder
of the workspace with a symlink to HOME. One child deleted a file in that folder whose content
the attacker chose to equal a file of HOME (a default `.bashrc` is known to everyone): the
merge must not delete HOME's file through the symlink. The control: the same `rm` through the
symlink, as the user, deletes it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from agent.errors import WorktreeError
from agent.orchestrator import materialise
from agent.orchestrator.merge import MergeRequest, child_changes, merge_onto
from agent.orchestrator.worktree import Worktree
from agent.sessions.checkpoints import ShadowRepo
from tests.security.attacker import Site

pytestmark = pytest.mark.bwrap

BASHRC = "# the user's shell start-up\n"


def _script(site: Site) -> dict[str, object]:
    swap = f"sleep 5 && rm -rf foo && ln -s {site.home} foo && ls -la foo"
    tasks = [
        {
            "name": "task",
            "input": {"description": "a", "prompt": "delete-it", "subagent_type": "backend-engineer"},
        },
        {
            "name": "task",
            "input": {"description": "b", "prompt": "idle-one", "subagent_type": "backend-engineer"},
        },
        {"name": "bash", "input": {"command": swap}},
    ]
    return {
        "scripts": [
            {
                "match": "delete-it",
                "replies": [
                    {"tool_calls": [{"name": "bash", "input": {"command": "rm foo/.bashrc && sleep 10"}}]},
                    {"text": "deleted"},
                ],
            },
            {"match": "idle-one", "replies": [{"text": "nothing to do"}]},
            {"match": "attack", "replies": [{"tool_calls": tasks}, {"text": "done"}]},
        ]
    }


def test_a_merge_never_deletes_through_a_symlink_planted_meanwhile(site: Site) -> None:
    site.write("project/foo/.bashrc", BASHRC)
    site.write("project/foo/keep.txt", "kept\n")
    assert site.shell("git add -A && git commit -qm foo").returncode == 0
    script = site.write(site.root / "script.yaml", yaml.safe_dump(_script(site)))

    done = site.as_attacker(
        [sys.executable, "-m", "agent", "run", "attack", "--agent", "orchestrator", "--script", str(script),
         "--permission-mode", "bypass", "--output", "stream-json", "--cwd", str(site.workspace)],
        timeout=240,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr[-3000:]
    finished = [json.loads(e) for e in done.stdout.splitlines() if '"subagent_finished"' in e]
    assert ["foo/.bashrc"] in [e["files_changed"] for e in finished], finished  # the child's base had it
    assert (site.workspace / "foo").is_symlink(), done.stdout[-3000:]  # the parent's bash did swap it
    assert (site.home / ".bashrc").read_text() == BASHRC, done.stdout[-3000:]
    control = site.shell("rm foo/.bashrc")
    assert control.returncode == 0 and not (site.home / ".bashrc").exists()


def _deleting_child(tmp_path: Path) -> tuple[ShadowRepo, str, MergeRequest, Path]:
    """A workspace with `foo/.bashrc`, a child that deleted it, and a HOME-like folder holding a
    file of the same content, that `foo` now links to (the merge's own steps, without timing)."""
    ws, home = tmp_path / "ws", tmp_path / "home"
    (ws / "foo").mkdir(parents=True)
    home.mkdir()
    for folder in (ws / "foo", home):
        (folder / ".bashrc").write_text(BASHRC)
    repo = ShadowRepo(ws)
    base = repo.snapshot("base")
    child = Worktree.create(repo, base, "deleter")
    (child.path / "foo" / ".bashrc").unlink()
    theirs = child.snapshot("deleter done")
    child.remove()
    files, patch = child_changes(repo, base, theirs)
    (ws / "foo" / ".bashrc").unlink()
    (ws / "foo").rmdir()
    (ws / "foo").symlink_to(home)  # the parent's bash, while the child worked
    return repo, base, MergeRequest(base=base, theirs=theirs, name="deleter", files=files, patch=patch), home


def test_a_merge_onto_the_checkpoint_rechecks_through_no_symlink(tmp_path: Path) -> None:
    repo, base, request, home = _deleting_child(tmp_path)

    (outcome,), _ = merge_onto(repo, [request], base)  # the first batch merges onto the checkpoint

    assert outcome.merged and (home / ".bashrc").read_text() == BASHRC
    assert (repo.workspace / "foo").is_symlink()


def test_a_deletion_never_follows_a_symlink_swapped_in_after_the_check(tmp_path: Path) -> None:
    repo, base, request, home = _deleting_child(tmp_path)
    changes = materialise.tree_changes(repo, repo.tree(base), repo.tree(request.theirs))
    assert [c.path for c in changes] == ["foo/.bashrc"]

    with pytest.raises(WorktreeError, match="no folder now"):
        materialise.write(repo, changes)  # as if `foo` were swapped between the check and the write

    assert (home / ".bashrc").read_text() == BASHRC


def test_children_merged_together_recheck_through_no_symlink(tmp_path: Path) -> None:
    """The same deletion in a batch of children whose changes meet nothing else (applied together,
    one tree): the batch's check finds `foo` is a link now and merges onto a fresh snapshot, where
    the deletion meets the parent's swap and nothing is deleted through it."""
    repo, base, request, home = _deleting_child(tmp_path)
    other = Worktree.create(repo, base, "adder")
    (other.path / "added.txt").write_text("added\n")
    theirs = other.snapshot("adder done")
    other.remove()
    files, patch = child_changes(repo, base, theirs)
    adder = MergeRequest(base=base, theirs=theirs, name="adder", files=files, patch=patch)

    outcomes, _ = merge_onto(repo, [request, adder], base)

    assert [o.merged for o in outcomes] == [True, True]
    assert (home / ".bashrc").read_text() == BASHRC
    assert (repo.workspace / "foo").is_symlink() and (repo.workspace / "added.txt").read_text() == "added\n"
