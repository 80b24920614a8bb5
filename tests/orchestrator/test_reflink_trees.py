"""Children in reflinked trees: copies of the base checkout sharing its blocks, where nothing mounts.

The data folder is on a loop-mounted XFS made with reflinks (`_xfs`, root only). Each run is a
process of its own (`cow_driver`, the command line): bash edits in place, creates and deletes
files and folders and runs git in one child; its sibling sees none of it; the merge brings back
exactly it; the base checkout is unchanged; nothing stays on disk after the run, a cancel or a
kill -9 (the next run sweeps it). `defaults.worktrees: reflink` chooses them in a process that
could mount; `auto` does in one that did not enter a mount namespace (the Python API).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from agent import paths
from agent.orchestrator import bases, reflink, trees
from agent.orchestrator._git import run_git
from agent.orchestrator.worktree import Worktree
from agent.sessions.checkpoints import ShadowRepo
from tests.conftest import run_subagent, subagent_argv, subprocess_env
from tests.orchestrator._scenario import collect, final, model, task, workspace, write
from tests.orchestrator.cow_driver import sleepers
from tests.orchestrator.test_cow_trees import FILES, _bases, _bash, _drive, _output, _script, _tree
from tests.processes import unique_sleep

pytestmark = pytest.mark.bwrap

REFLINK = {"defaults": {"sandbox": {"kind": "bwrap"}, "worktrees": "reflink"}}


def _shared_extents(path: Path) -> bool:
    """Whether `path`'s data shares blocks with another file (FIEMAP's `shared` flag)."""
    done = subprocess.run(["filefrag", "-v", str(path)], capture_output=True, text=True, check=True)
    return "shared" in done.stdout


@pytest.mark.usefixtures("reflink_home")
def test_reflinked_children_see_only_their_own_tree_and_the_merge_brings_back_exactly_their_changes(
    tmp_path: Path,
) -> None:
    ws = workspace(tmp_path, config=REFLINK, files=FILES)
    before = _tree(ws)
    one = (
        "filefrag -v keep.txt | grep -q shared && echo SHARED; "
        "sed -i 's/keep/kept by one/' keep.txt && rm gone.txt && rm -rf olddir && mkdir -p new/deep && "
        "echo n > new/deep/n.txt && echo log > debug.log && chmod +x run.sh && ln -s keep.txt link.txt && "
        "git init -q . && git add -A && git -c user.name=a -c user.email=a@b commit -qm wip && "
        "git mv dir moved && git status --short && echo ONE-DONE"
    )
    two = (
        "cat keep.txt; ls; test -e new && echo SEES-NEW; test -e dir/a.txt && echo SEES-A; "
        "echo two > two.txt; echo TWO-DONE"
    )
    script = _script(tmp_path, {"one": [_bash(one)], "two": [_bash(two, delay=1.5)]})

    report = _drive(ws, script)

    assert report["trees"] == ["reflink", "reflink"]
    assert report["final"] == "success", report["calls"]
    done = _output(report, "ONE-DONE")
    assert "SHARED" in done  # the child's file shares the base's blocks: a reflink, not a copy
    assert "R  dir/a.txt -> moved/a.txt" in done  # a folder renames (no overlay: no EXDEV)
    seen_by_two = _output(report, "TWO-DONE")
    assert "keep\n" in seen_by_two and "kept by one" not in seen_by_two  # its sibling wrote in place
    assert "gone.txt" in seen_by_two and "olddir" in seen_by_two and "SEES-A" in seen_by_two
    assert "SEES-NEW" not in seen_by_two
    expected = {
        k: v
        for k, v in before.items()
        if k not in ("gone.txt", "olddir/x.txt", "olddir/y/z.txt", "dir/a.txt")
    }
    expected |= {
        "keep.txt": ("file", "kept by one\n"),
        "new/deep/n.txt": ("file", "n\n"),
        "run.sh": ("exec", "echo hi\n"),
        "link.txt": ("link", "keep.txt"),
        "moved/a.txt": ("file", "a\n"),
        "two.txt": ("file", "two\n"),
    }
    assert _tree(ws) == expected  # no debug.log (ignored), no .git: exactly what was snapshotted
    assert not (ws / "olddir").exists() and not (ws / "dir").exists()
    (base,) = _bases(ws)
    assert _tree(base / "tree") == before  # the base never changed (the edit in place was the copy's)
    assert report["mounts"] == [] and report["left"] == []


@pytest.mark.usefixtures("reflink_home")
def test_a_cancel_leaves_nothing_on_disk_and_no_process(tmp_path: Path) -> None:
    ws = workspace(tmp_path, config=REFLINK, files=FILES)
    sleep = unique_sleep()  # counted by the test: its own, not a neighbour's
    work = f"echo started > mine.txt && sleep {sleep}"
    script = _script(tmp_path, {"sleeper one": [_bash(work)], "sleeper two": [_bash(work)]})

    report = _drive(ws, script, "--sleeper", sleep, "--cancel-when-sleeping", "2")

    assert report["trees"] == ["reflink", "reflink"] and report["final"] == "cancelled"
    assert report["left"] == [] and report["sleepers"] == 0
    assert not (ws / "mine.txt").exists()  # a cancelled child's work is kept on a branch, not merged


@pytest.mark.usefixtures("reflink_home")
def test_a_killed_run_leaves_its_trees_for_the_next_run_to_sweep(tmp_path: Path) -> None:
    ws = workspace(tmp_path, config=REFLINK, files=FILES)
    sleep = unique_sleep()  # counted by the test: its own, not a neighbour's
    work = f"echo started > mine.txt && sleep {sleep}"
    script = _script(tmp_path, {"sleeper one": [_bash(work)], "sleeper two": [_bash(work)]})
    argv = ["run", "go", "--agent", "orchestrator", "--cwd", str(ws), "--script", str(script)]
    runtime = subprocess.Popen(
        subagent_argv(*argv),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    try:
        deadline = time.monotonic() + 60
        while sleepers(sleep) < 2:
            assert time.monotonic() < deadline and runtime.poll() is None, runtime.stderr.read()  # type: ignore[union-attr]
            time.sleep(0.05)
        runtime.send_signal(signal.SIGKILL)
        runtime.wait(10)
    finally:
        runtime.kill()
        runtime.communicate()

    deadline = time.monotonic() + 10
    while sleepers(sleep):
        assert time.monotonic() < deadline, "a sandboxed process outlived the killed runtime"
        time.sleep(0.05)
    trees_home = paths.worktrees_home()
    left = sorted(trees_home.iterdir())
    assert len(left) == 2 and all(p.name.endswith(f".{runtime.pid}") for p in left)
    assert all((p / "tree" / "keep.txt").is_file() for p in left)  # reflinked copies, not mounts
    done = run_subagent("doctor", "--json", cwd=ws)
    assert list(trees_home.iterdir()) == []
    swept = json.loads(done.stdout)
    assert any(c["name"] == "leftovers" and str(left[0]) in c["detail"] for c in swept)
    worktrees = {c["name"]: c for c in swept}["subagent worktrees"]
    assert worktrees["detail"].startswith("reflink: reflinked copies of a cached base checkout")
    assert not (ws / "mine.txt").exists()


@pytest.mark.usefixtures("reflink_home")
def test_auto_chooses_reflinks_where_the_process_cannot_mount(tmp_path: Path) -> None:
    """The Python API never enters a mount namespace: with `auto` its children get reflinked trees
    on a file system that has them, and in a process that did enter one, overlays."""
    config = {"defaults": {"sandbox": {"kind": "bwrap"}}}
    ws = workspace(tmp_path, config=config, files=FILES)
    children = {"a": [_bash("echo a > a.txt")], "b": [_bash("echo b > b.txt")]}

    unmounted = _drive(ws, _script(tmp_path, children), "--no-namespace")
    entered = _drive(ws, _script(tmp_path, {"c": [_bash("echo c > c.txt")], "d": [_bash("true")]}))

    assert not unmounted["rights"] and unmounted["trees"] == ["reflink", "reflink"]
    assert unmounted["final"] == "success" and (ws / "a.txt").read_text() == "a\n"
    assert entered["rights"] and entered["trees"] == ["overlay", "overlay"]
    assert (ws / "c.txt").read_text() == "c\n"
    assert unmounted["left"] == [] and entered["left"] == [] and entered["mounts"] == []


def test_without_reflinks_the_fallback_is_a_checkout_saying_why(tmp_path: Path) -> None:
    """The data folder on this test's own disk: ext4 (no reflinks) here; the control is above."""
    if reflink.support() is None:
        pytest.skip(f"{paths.data_home()} has reflinks here: nothing to fall back from")
    kind, why = trees.tree_kind("reflink")
    assert kind == "checkout"
    assert why.startswith("the config asks for reflinks (`defaults.worktrees: reflink`); and the file system")
    assert "has no reflinks (FICLONE: " in why


@pytest.mark.usefixtures("reflink_home")
def test_a_tree_from_an_older_base_is_brought_to_its_snapshot_and_git_reads_nothing_unchanged(
    tmp_path: Path,
) -> None:
    """Another process holds the only base (it cannot be refreshed): the reflinked tree is cloned
    from it and brought to the newer snapshot by git. Its index holds the copies' stat data, so
    git sees no change until one is made, and then exactly it (an in-place, same-size edit too)."""
    ws = workspace(tmp_path, config=REFLINK, files=FILES)
    repo = ShadowRepo(ws)
    old = repo.snapshot("old")
    bases.prepare(repo, old)
    (base,) = _bases(ws)
    (ws / "keep.txt").write_text("newer\n")
    (ws / "gone.txt").unlink()
    new = repo.snapshot("new")
    held = os.open(base / "lock", os.O_RDWR)
    fcntl.flock(held, fcntl.LOCK_SH)
    try:
        tree = Worktree.reserve(repo, new, "probe", "reflink")
        reflink.populate(tree, bases.acquire(repo, new))
    finally:
        os.close(held)
    try:
        assert (tree.path / "keep.txt").read_text() == "newer\n" and not (tree.path / "gone.txt").exists()
        assert (base / "tree" / "keep.txt").read_text() == "keep\n"  # the base is as it was
        git = repo.git.target.at(tree.path, tree.index)
        assert run_git(git, "diff-files", "--name-only").stdout == b""  # the stat data matches
        assert tree.snapshot("same") == new
        (tree.path / "dir" / "a.txt").write_text("b\n")  # the same size, in place
        assert repo.git.run("show", f"{tree.snapshot('edited')}:dir/a.txt") == "b\n"
    finally:
        tree.remove()


@pytest.mark.usefixtures("reflink_home")
async def test_the_python_api_gets_reflinked_trees_on_a_file_system_with_reflinks(tmp_path: Path) -> None:
    ws = workspace(tmp_path, files={"shared.txt": "base\n"})
    scripts = [
        {
            "agent": "orchestrator",
            "match": "two",
            "replies": [{"tool_calls": [task("job-a"), task("job-b")]}, {"text": "ok"}],
        },
        {
            "agent": "worker",
            "match": "job-a",
            "replies": [{"tool_calls": [write("a.txt", "A\n")]}, {"text": "a"}],
        },
        {
            "agent": "worker",
            "match": "job-b",
            "replies": [{"tool_calls": [write("b.txt", "B\n")]}, {"text": "b"}],
        },
    ]
    events = await collect("two jobs", ws, model(scripts))

    assert final(events).subtype == "success"
    assert [e.worktree for e in events if e.type == "subagent_started"] == ["reflink", "reflink"]
    assert (ws / "a.txt").read_text() == "A\n" and (ws / "b.txt").read_text() == "B\n"
    assert list(paths.worktrees_home().iterdir()) == []
