"""Worktrees from a checkpoint and batched three-way merges, with real git, outside any repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import MergeRefusedError, SubagentError, WorktreeError
from agent.orchestrator import materialise
from agent.orchestrator.fdwrite import Placed, write_files
from agent.orchestrator.merge import MergeRequest, child_changes, merge_many, merge_onto
from agent.orchestrator.worktree import Worktree, pack_objects, worktrees_home
from agent.sessions.checkpoints import ShadowRepo
from tests.security import host_git_traps as traps


def _request(repo: ShadowRepo, base: str, worktree: Worktree, name: str) -> MergeRequest:
    theirs = worktree.snapshot(f"{name} done")
    files, patch = child_changes(repo, base, theirs)
    return MergeRequest(base=base, theirs=theirs, name=name, files=files, patch=patch)


def test_a_batch_merges_clean_children_and_keeps_the_conflicting_one(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.txt").write_text("1\n2\n3\n4\n5\n6\n7\n8\n")
    (ws / "gone.txt").write_text("bye\n")
    repo = ShadowRepo(ws)
    base = repo.snapshot("base")
    one, two, three = (Worktree.create(repo, base, n) for n in ("one", "two", "three"))
    assert sorted(p.name for p in one.path.iterdir()) == ["app.txt", "gone.txt"]
    (one.path / "app.txt").write_text("1\nONE\n3\n4\n5\n6\n7\n8\n")
    (one.path / "new.txt").write_text("new\n")
    (two.path / "app.txt").write_text("1\n2\n3\n4\n5\n6\nTWO\n8\n")
    (two.path / "gone.txt").unlink()
    (three.path / "app.txt").write_text("1\nTHREE\n3\n4\n5\n6\n7\n8\n")
    (ws / "parent.txt").write_text("the parent's own work\n")  # done meanwhile, must survive
    requests = [_request(repo, base, w, n) for w, n in ((one, "one"), (two, "two"), (three, "three"))]
    for worktree in (one, two, three):
        worktree.remove()

    first, second, third = merge_many(repo, requests)

    assert first.merged and second.merged and not third.merged
    assert (ws / "app.txt").read_text() == "1\nONE\n3\n4\n5\n6\nTWO\n8\n"
    assert (ws / "new.txt").exists() and not (ws / "gone.txt").exists()
    assert (ws / "parent.txt").read_text() == "the parent's own work\n"
    assert third.conflicts == ["app.txt"]
    assert "<<<<<<< workspace\nONE\n=======\nTHREE\n>>>>>>> three" in third.hunks
    assert third.branch is not None and "THREE" in repo.git.run("show", f"{third.branch}:app.txt")
    assert [f.path for f in second.files] == ["app.txt", "gone.txt"] and "-bye" in second.patch
    assert list(worktrees_home().iterdir()) == []


def test_packing_keeps_every_snapshot_readable(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    for n in range(300):
        (ws / f"f{n}.txt").write_text(f"{n}\n")
    repo = ShadowRepo(ws)
    base = repo.snapshot("base")

    assert pack_objects(repo, threshold=100) is True
    assert pack_objects(repo, threshold=100) is False  # nothing loose left
    loose = subprocess.run(
        ["git", "--git-dir", str(repo.git_dir), "count-objects"], capture_output=True, text=True, check=True
    ).stdout
    assert loose.startswith("0 objects")
    worktree = Worktree.create(repo, base, "after-pack")
    assert (worktree.path / "f299.txt").read_text() == "299\n"
    worktree.remove()


def test_worktrees_of_a_dead_process_are_swept(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.txt").write_text("a\n")
    repo = ShadowRepo(ws)
    base = repo.snapshot("base")
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = worktrees_home() / f"crashed-0000.{dead.pid}"
    (orphan / "tree").mkdir(parents=True)
    (orphan / "tree" / "a.txt").write_text("left behind\n")

    live = Worktree.create(repo, base, "live")

    assert not orphan.exists()
    assert live.path.is_dir() and live.root.name.endswith(f".{os.getpid()}")
    live.remove()


def test_a_childs_change_to_a_protected_path_is_kept_on_a_branch_not_merged(tmp_path: Path) -> None:
    """A worktree is a root of its own: what the workspace's policy protects must not come back by merge."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.txt").write_text("1\n")
    repo = ShadowRepo(ws)
    base = repo.snapshot("base")
    bold, plain = Worktree.create(repo, base, "bold"), Worktree.create(repo, base, "plain")
    (bold.path / ".subagent").mkdir()
    (bold.path / ".subagent" / "config.yaml").write_text("defaults: {permission_mode: bypass}\n")
    (bold.path / "app.txt").write_text("bold\n")
    (plain.path / "other.txt").write_text("fine\n")
    requests = [_request(repo, base, w, n) for w, n in ((bold, "bold"), (plain, "plain"))]
    for worktree in (bold, plain):
        worktree.remove()

    kept, merged = merge_many(repo, requests)

    assert merged.merged and (ws / "other.txt").read_text() == "fine\n"
    assert not kept.merged and kept.conflicts == [] and list(kept.refused) == [".subagent/config.yaml"]
    assert "protected: .subagent decides what runs later" in kept.refused[".subagent/config.yaml"]
    assert not (ws / ".subagent").exists() and (ws / "app.txt").read_text() == "1\n"
    assert kept.branch is not None
    assert "bypass" in repo.git.run("show", f"{kept.branch}:.subagent/config.yaml")


def test_a_planted_merge_driver_never_runs(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "README.md").write_text("1\n2\n3\n4\n5\n6\n")
    kit = traps.TrapKit(tmp_path / "traps")
    kit.install()
    repo = ShadowRepo(ws)
    base = repo.snapshot("base")
    child = Worktree.create(repo, base, "child")
    (child.path / "README.md").write_text("1\nCHILD\n3\n4\n5\n6\n")
    request = _request(repo, base, child, "child")
    child.remove()
    (ws / "README.md").write_text("1\n2\n3\n4\nPARENT\n6\n")  # both sides changed it: a real merge
    planted = traps.shadow_plant(repo.git_dir, kit.fire)
    assert traps.shell(planted, ws, kit).returncode == 0

    [outcome] = merge_many(repo, [request])

    assert outcome.merged and (ws / "README.md").read_text() == "1\nCHILD\n3\n4\nPARENT\n6\n"
    assert kit.fired() == set()
    traps.shell(planted, ws, kit)
    ours = repo.snapshot("ours")
    traps.shell(planted, ws, kit)
    control = f"GIT_DIR='{repo.git_dir}' GIT_WORK_TREE='{ws}' git merge-tree --write-tree {ours} "
    control += request.theirs
    traps.shell(control, ws, kit)
    assert "shadow_merge" in kit.fired()


def test_a_change_the_parent_reverted_stays_reverted_after_a_fast_forwarded_child(tmp_path: Path) -> None:
    """Child one starts before the parent's change to x.txt, child two after it; the parent then
    reverts it, so the workspace is child one's base again and child one's tree is taken as it is.
    Child two's merge must see the revert (its base is an ancestor of what the workspace is now),
    not bring the change back (it did when child one's own commit became the result: the merge
    base of child two was then child one's older base)."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "x.txt").write_text("original\n")
    (ws / "a.txt").write_text("a\n")
    (ws / "c.txt").write_text("c\n")
    repo = ShadowRepo(ws)
    b1 = repo.snapshot("b1")
    one = Worktree.create(repo, b1, "one")
    (ws / "x.txt").write_text("changed by the parent\n")
    b2 = repo.snapshot("b2")
    two = Worktree.create(repo, b2, "two")
    (one.path / "a.txt").write_text("a by one\n")
    (two.path / "c.txt").write_text("c by two\n")
    (ws / "x.txt").write_text("original\n")  # the parent's revert
    requests = [_request(repo, b1, one, "one"), _request(repo, b2, two, "two")]
    for worktree in (one, two):
        worktree.remove()

    first, second = merge_many(repo, requests)

    assert first.merged and second.merged
    assert (ws / "a.txt").read_text() == "a by one\n" and (ws / "c.txt").read_text() == "c by two\n"
    assert (ws / "x.txt").read_text() == "original\n"


def test_a_merge_writes_modes_links_and_kinds_as_the_child_left_them(tmp_path: Path) -> None:
    """The merge writes through folder descriptors (`agent.orchestrator.fdwrite`), not git's
    checkout: what git's checkout got right must stay right. Modes (less the umask), symbolic links
    as links (their target not followed), a file that became a folder and the reverse, a name of
    255 bytes, new nested folders, and a file that is a hard link to one outside the workspace
    replaced, not written through."""
    ws, outside = tmp_path / "ws", tmp_path / "outside.txt"
    (ws / "folder").mkdir(parents=True)
    (ws / "folder" / "one.txt").write_text("one\n")
    (ws / "run.sh").write_text("echo hi\n")
    (ws / "becomes-folder").write_text("a file\n")
    (ws / "linked.txt").write_text("shared\n")
    repo = ShadowRepo(ws)
    base = repo.snapshot("base")
    os.link(ws / "linked.txt", outside)  # the same file, reached from outside the workspace too
    child = Worktree.create(repo, base, "kinds")
    (child.path / "run.sh").chmod(0o755)
    (child.path / "to-outside").symlink_to("../outside.txt")
    (child.path / "becomes-folder").unlink()
    (child.path / "becomes-folder").mkdir()
    (child.path / "becomes-folder" / "inside.txt").write_text("inside\n")
    (child.path / "folder" / "one.txt").unlink()
    (child.path / "folder").rmdir()
    (child.path / "folder").write_text("a folder no more\n")
    (child.path / ("n" * 255)).write_text("long name\n")
    (child.path / "a" / "b" / "c").mkdir(parents=True)
    (child.path / "a" / "b" / "c" / "deep.txt").write_text("deep\n")
    (child.path / "linked.txt").write_text("the child's\n")
    request = _request(repo, base, child, "kinds")
    child.remove()
    old_umask = os.umask(0o027)
    try:
        (outcome,) = merge_many(repo, [request])
    finally:
        os.umask(old_umask)

    assert outcome.merged
    assert (ws / "run.sh").stat().st_mode & 0o777 == 0o750
    assert (ws / "becomes-folder" / "inside.txt").stat().st_mode & 0o777 == 0o640
    assert os.readlink(ws / "to-outside") == "../outside.txt"
    assert (ws / "becomes-folder" / "inside.txt").read_text() == "inside\n"
    assert (ws / "folder").read_text() == "a folder no more\n"
    assert (ws / ("n" * 255)).read_text() == "long name\n"
    assert (ws / "a" / "b" / "c" / "deep.txt").read_text() == "deep\n"
    assert (ws / "linked.txt").read_text() == "the child's\n"
    assert outside.read_text() == "shared\n"
    assert sorted(p.name for p in ws.iterdir() if p.name.endswith(".tmp")) == []


def test_a_folder_made_a_file_merges_onto_the_checkpoint(tmp_path: Path) -> None:
    """The check before the write opened the folder `a` where the merge adds the file `a`, and
    raised IsADirectoryError (found by tests/orchestrator/test_merge_together.py): a folder is not
    the old side (absent), so the merge is redone onto a fresh snapshot and writes the file."""
    ws = tmp_path / "ws"
    (ws / "a").mkdir(parents=True)
    (ws / "a" / "x.txt").write_text("x\n")
    repo = ShadowRepo(ws)
    base = repo.snapshot("base")
    child = Worktree.create(repo, base, "child")
    (child.path / "a" / "x.txt").unlink()
    (child.path / "a").rmdir()
    (child.path / "a").write_text("now a file\n")
    request = _request(repo, base, child, "child")
    child.remove()

    (outcome,), _ = merge_onto(repo, [request], base)

    assert outcome.merged and (ws / "a").read_text() == "now a file\n"


def test_a_merge_that_fails_keeps_each_childs_work_on_a_branch_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A defect (here a UnicodeEncodeError, as a folder name with a byte that is no UTF-8 once
    raised) reached every child of the batch as "internal error in task", and no branch held the
    work: the error is a SubagentError now, naming the branch each child's work is on."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "c.txt").write_text("1\n")
    repo = ShadowRepo(ws)
    base = repo.snapshot("base")
    requests = []
    for name in ("one", "two"):
        child = Worktree.create(repo, base, name)
        (child.path / f"{name}.txt").write_text(f"{name}\n")
        requests.append(_request(repo, base, child, name))
        child.remove()

    def broken(*_: object) -> None:
        raise UnicodeEncodeError("utf-8", "d\udcff", 1, 2, "surrogates not allowed")

    monkeypatch.setattr(materialise, "write", broken)
    with pytest.raises(WorktreeError) as caught:
        merge_onto(repo, requests, base)

    assert isinstance(caught.value, SubagentError)
    message = str(caught.value)
    assert "UnicodeEncodeError" in message and "merging one, two" in message
    for request in requests:
        branch = f"refs/heads/subagent/{request.name}-{request.theirs[:8]}"
        assert f"{request.name} on {branch}" in message
        assert repo.git.run("show", f"{branch}:{request.name}.txt") == f"{request.name}\n"


def test_a_path_the_file_system_refuses_is_reported_and_the_rest_written(tmp_path: Path) -> None:
    """A name too long to make (ENAMETOOLONG), and a deleted file where a folder stands now
    (EISDIR), are refused paths with a reason, not an OSError that ends the whole write."""
    ws = tmp_path / "ws"
    (ws / "was-a-file").mkdir(parents=True)
    too_long = "x" * 300
    refused = write_files(ws, [Placed("ok.txt", "100644", [b"ok\n"]), Placed(too_long, "100644", [b"no\n"])])

    assert [(r.path, r.why) for r in refused] == [
        (too_long, "its name is too long for the workspace's file system")
    ]
    assert (ws / "ok.txt").read_text() == "ok\n" and sorted(os.listdir(ws)) == ["ok.txt", "was-a-file"]

    repo = ShadowRepo(ws)
    gone = materialise.Change("was-a-file", "100644", "1" * 40, "000000", "0" * 40)
    with pytest.raises(MergeRefusedError) as caught:
        materialise.write(repo, [gone])
    assert caught.value.refused == {"was-a-file": "a folder stands where the file goes"}
    assert (ws / "was-a-file").is_dir()


@pytest.mark.parametrize("kind", ["file", "link"])
def test_a_folder_the_child_made_a_file_or_link_is_reported_merged(tmp_path: Path, kind: str) -> None:
    """The child deleted `a/x.txt` and put a file or a symbolic link at `a`: the workspace holds
    exactly that, so nothing is refused and no branch is kept (the report once said `a/x.txt` was
    refused because `a` is no folder now, though the merge itself made it so)."""
    ws = tmp_path / "ws"
    (ws / "a").mkdir(parents=True)
    (ws / "a" / "x.txt").write_text("x\n")
    (ws / "b").mkdir()
    (ws / "b" / "y.txt").write_text("y\n")
    repo = ShadowRepo(ws)
    base = repo.snapshot("base")
    child = Worktree.create(repo, base, "child")
    (child.path / "a" / "x.txt").unlink()
    (child.path / "a").rmdir()
    if kind == "file":
        (child.path / "a").write_text("now a file\n")
    else:
        os.symlink("b", child.path / "a")
    request = _request(repo, base, child, "child")
    child.remove()

    (outcome,), current = merge_onto(repo, [request], base)

    assert outcome.merged and outcome.refused == {} and outcome.branch is None, outcome
    assert current is not None
    if kind == "file":
        assert (ws / "a").read_text() == "now a file\n"
    else:
        assert os.readlink(ws / "a") == "b"


_MERGE_A_BIG_FILE = """
import os, resource, sys
from pathlib import Path
from agent.orchestrator.merge import MergeRequest, child_changes, merge_onto
from agent.orchestrator.worktree import Worktree
from agent.sessions.checkpoints import ShadowRepo

ws = Path(sys.argv[1])
ws.mkdir()
(ws / "small.txt").write_text("1\\n")
repo = ShadowRepo(ws)
base = repo.snapshot("base")
child = Worktree.create(repo, base, "child")
with open(child.path / "big.bin", "wb") as big:
    for _ in range(64):
        big.write(os.urandom(1 << 20))
theirs = child.snapshot("done")
files, patch = child_changes(repo, base, theirs)
child.remove()
request = MergeRequest(base=base, theirs=theirs, name="c", files=files, patch=patch)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
(outcome,), _ = merge_onto(repo, [request], base)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert outcome.merged and (ws / "big.bin").stat().st_size == 64 << 20, outcome
print((after - before) // 1024)
"""


def test_a_large_file_is_merged_in_bounded_memory(tmp_path: Path) -> None:
    """The merge streams each blob from `git cat-file --batch` into its file a chunk at a time: a
    64 MiB file raises the merging process's peak memory by a few MiB, not by the file (it once
    held every changed blob at once: +200 MB for a 200 MB file). Measured in a process of its
    own, whose peak is this merge's."""
    grown = subprocess.run(
        [sys.executable, "-c", _MERGE_A_BIG_FILE, str(tmp_path / "ws")],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    ).stdout

    assert int(grown) < 24, f"peak memory grew by {grown} MiB merging a 64 MiB file"
