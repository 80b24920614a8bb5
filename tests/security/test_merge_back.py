"""A child's work merged back into the workspace never reaches outside it, as an unprivileged user.

The merge is the runtime's own write, outside any sandbox. Two children edit in trees of their
own (two `task` calls in one turn), while the parent's bash, in the same turn, replaces a folder
of the workspace with a symlink to HOME. One child deleted a file in that folder whose content
the attacker chose to equal a file of HOME (a default `.bashrc` is known to everyone): the
merge must not delete HOME's file through the symlink. The control: the same `rm` through the
symlink, as the user, deletes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import threading
import time
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
    assert "not merged (the workspace does not have these changes): foo/.bashrc" in done.stdout
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

    assert (home / ".bashrc").read_text() == BASHRC
    assert (repo.workspace / "foo").is_symlink()
    assert list(outcome.refused) == ["foo/.bashrc"], outcome  # not "deleted": it still reads as a file
    assert "symbolic link" in outcome.refused["foo/.bashrc"] and outcome.branch is not None


def test_a_path_the_write_left_out_is_reported_as_not_merged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`foo` becomes a link between the merge's check and its write: the write leaves `foo/new.txt`
    out and writes the rest; the child's result names `foo/new.txt` as not merged (and why), not as
    changed, and its whole work is kept on a branch."""
    ws, home = tmp_path / "ws", tmp_path / "home"
    (ws / "foo").mkdir(parents=True)
    (ws / "foo" / "old.txt").write_text("old\n")
    home.mkdir()
    repo = ShadowRepo(ws)
    base = repo.snapshot("base")
    child = Worktree.create(repo, base, "writer")
    (child.path / "foo" / "new.txt").write_text("new\n")
    (child.path / "top.txt").write_text("top\n")
    theirs = child.snapshot("writer done")
    child.remove()
    files, patch = child_changes(repo, base, theirs)
    real_write = materialise.write

    def swapped_then_write(repo: ShadowRepo, changes: list[materialise.Change]) -> None:
        (ws / "foo").rename(tmp_path / "foo-aside")
        (ws / "foo").symlink_to(home)  # the parent's bash, in that instant
        real_write(repo, changes)

    monkeypatch.setattr(materialise, "write", swapped_then_write)
    request = MergeRequest(base=base, theirs=theirs, name="writer", files=files, patch=patch)
    (outcome,), known = merge_onto(repo, [request], None)

    assert list(home.iterdir()) == [] and (ws / "top.txt").read_text() == "top\n"
    assert list(outcome.refused) == ["foo/new.txt"] and "no folder now" in outcome.refused["foo/new.txt"]
    assert outcome.branch is not None and known is None  # the next merge snapshots the workspace afresh


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

    assert (home / ".bashrc").read_text() == BASHRC
    assert (repo.workspace / "foo").is_symlink() and (repo.workspace / "added.txt").read_text() == "added\n"
    deleter, added = outcomes
    assert list(deleter.refused) == ["foo/.bashrc"] and deleter.branch is not None, deleter
    assert added.merged and not added.refused and [f.path for f in added.files] == ["added.txt"]


def _swapping(folder: Path, link: Path, aside: Path, stop: threading.Event, swaps: list[int]) -> None:
    """Swap `folder` for the symlink `link` and back, as fast as renames go, until `stop`: a bash
    loop of the parent racing the merge (`mv foo foo.d; mv link foo; mv foo link; mv foo.d foo`).
    Counts the times `folder` was the link."""
    while not stop.is_set():
        for source, target in ((folder, aside), (link, folder), (folder, link), (aside, folder)):
            with contextlib.suppress(OSError):
                os.rename(source, target)
                swaps[0] += target == folder and source == link


def _reset(folder: Path, link: Path, aside: Path, home: Path) -> None:
    for path in (folder, link, aside):
        if path.is_symlink():
            path.unlink()
        elif path.exists():
            shutil.rmtree(path)
    folder.mkdir()
    (folder / "keep.txt").write_text("kept\n")
    link.symlink_to(home)


def test_a_merge_never_writes_through_a_folder_swapped_while_it_writes(tmp_path: Path) -> None:
    """A loop swaps `foo/` for `foo -> HOME` while the merge writes the 200 files a child added in
    `foo`: the merge opens `foo` once, following no link, and writes through that descriptor, so
    nothing lands in HOME. Before, git's checkout checked `foo`, then wrote `foo/new-N.txt` by name:
    HOME received files within the first tries."""
    ws, home = tmp_path / "ws", tmp_path / "home"
    folder, link, aside = ws / "foo", tmp_path / "link", tmp_path / "aside"
    (ws / "foo").mkdir(parents=True)
    (ws / "foo" / "keep.txt").write_text("kept\n")
    home.mkdir()
    repo = ShadowRepo(ws)
    base = repo.snapshot("base")
    child = Worktree.create(repo, base, "writer")
    for number in range(200):
        (child.path / "foo" / f"new-{number}.txt").write_text(f"written by the merge {number}\n")
    theirs = child.snapshot("writer done")
    child.remove()
    changes = materialise.tree_changes(repo, repo.tree(base), repo.tree(theirs))
    assert len(changes) == 200

    landed: list[str] = []
    swaps = [0]
    for _ in range(25):
        _reset(folder, link, aside, home)
        stop = threading.Event()
        racer = threading.Thread(target=_swapping, args=(folder, link, aside, stop, swaps))
        racer.start()
        try:
            materialise.write(repo, changes)
        except WorktreeError:
            pass  # the merge saw the swap and refused: what the user is told
        finally:
            stop.set()
            racer.join()
        landed += [p.name for p in home.iterdir()]
        if landed:
            break
    assert landed == []
    assert swaps[0] > 25, "the loop did not race the merge"


def test_the_merges_check_never_blocks_on_a_fifo_swapped_in(tmp_path: Path) -> None:
    """Before writing, a later batch checks each path still holds what the merge assumed (it reads
    the file). A loop swaps `foo/` for a link to a folder whose `x.txt` is a FIFO: a read by name
    would follow the link and block on the FIFO, and the merge would hang. The check opens what
    it reads without following a link, never blocking, and reads only a regular file."""
    ws, elsewhere = tmp_path / "ws", tmp_path / "elsewhere"
    folder, link, aside = ws / "foo", tmp_path / "link", tmp_path / "aside"
    folder.mkdir(parents=True)
    (folder / "x.txt").write_text("old\n")
    elsewhere.mkdir()
    os.mkfifo(elsewhere / "x.txt")
    repo = ShadowRepo(ws)
    base = repo.snapshot("base")
    child = Worktree.create(repo, base, "editor")
    (child.path / "foo" / "x.txt").write_text("new\n")
    theirs = child.snapshot("editor done")
    child.remove()
    changes = materialise.tree_changes(repo, repo.tree(base), repo.tree(theirs))
    link.symlink_to(elsewhere)

    stop, swaps = threading.Event(), [0]
    racer = threading.Thread(target=_swapping, args=(folder, link, aside, stop, swaps))
    until = time.monotonic() + 15

    def check() -> None:
        while time.monotonic() < until:
            materialise.unchanged(ws, changes)

    checks = threading.Thread(target=check, daemon=True)
    racer.start()
    checks.start()
    checks.join(timeout=25)
    blocked = checks.is_alive()
    stop.set()
    racer.join()
    if blocked:  # let the blocked open go: a writer on the FIFO
        os.close(os.open(elsewhere / "x.txt", os.O_WRONLY | os.O_NONBLOCK))
    assert not blocked, "the check blocked on a FIFO reached through a link"
    assert swaps[0] > 0


def test_a_folder_the_user_may_not_write_is_a_refused_path_not_a_crash(site: Site) -> None:
    """As the user (not root, whom modes do not stop): the merge's write of a file into a 0555
    folder, and its delete of a file there, each fail with EACCES. They were OSErrors that ended
    the whole write half-way; they are refused paths with a reason, the rest written."""
    locked = site.workspace / "locked"
    site.write("project/locked/old.txt", "old\n")
    locked.chmod(0o555)
    control = site.shell("echo x > locked/new.txt")
    assert control.returncode != 0 and "Permission denied" in control.stderr
    script = f"""
import json, types
from pathlib import Path
from agent.errors import MergeRefusedError
from agent.orchestrator import materialise
from agent.orchestrator.fdwrite import Placed, write_files
ws = Path({str(site.workspace)!r})
placed = [Placed("locked/new.txt", "100644", [b"new"]), Placed("top.txt", "100644", [b"top"])]
refused = write_files(ws, placed)
gone = materialise.Change("locked/old.txt", "100644", "1" * 40, "000000", "0" * 40)
try:
    materialise.write(types.SimpleNamespace(workspace=ws), [gone])
except MergeRefusedError as exc:
    print(json.dumps({{"written": {{r.path: r.why for r in refused}}, "deleted": exc.refused}}))
"""
    done = site.as_attacker([sys.executable, "-c", script])

    assert done.returncode == 0, done.stderr
    why = "the merge may not write there (a folder on its path is not writable)"
    assert json.loads(done.stdout) == {"written": {"locked/new.txt": why}, "deleted": {"locked/old.txt": why}}
    assert (site.workspace / "top.txt").read_text() == "top" and (locked / "old.txt").exists()
    assert sorted(os.listdir(locked)) == ["old.txt"]  # no temporary file left
