"""Children in copy-on-write trees, in a runtime that entered its own mount namespace.

Each run is a process of its own (the command line, or `cow_driver`, which reports the mounts
left in its namespace): bash edits in place, creates and deletes files and folders and runs git
in one child; its sibling sees none of it; the merge brings back exactly it; the base checkout is
unchanged; nothing stays mounted or on disk after the run, a cancel or a kill -9. The checkout is
the fallback, chosen by configuration here (and by every in-process test, which cannot mount).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent import paths
from agent.sessions.checkpoints import ShadowRepo
from tests.conftest import run_subagent, subagent_argv, subprocess_env
from tests.orchestrator._scenario import task, workspace
from tests.orchestrator.cow_driver import sleepers
from tests.processes import unique_sleep

pytestmark = pytest.mark.bwrap

FILES = {
    "keep.txt": "keep\n",
    "gone.txt": "bye\n",
    "dir/a.txt": "a\n",
    "olddir/x.txt": "x\n",
    "olddir/y/z.txt": "z\n",
    "run.sh": "echo hi\n",
    ".gitignore": "*.log\n",
}
BWRAP = {"defaults": {"sandbox": {"kind": "bwrap"}}}


def _bash(command: str, delay: float = 0.0) -> dict[str, Any]:
    reply: dict[str, Any] = {"tool_calls": [{"name": "bash", "input": {"command": command}}]}
    return {**reply, "delay_s": delay} if delay else reply


def _script(tmp_path: Path, children: dict[str, list[dict[str, Any]]]) -> Path:
    """The orchestrator starts one `task` per child (all in one turn), then ends."""
    scripts = [
        {
            "agent": "orchestrator",
            "match": "go",
            "replies": [{"tool_calls": [task(name) for name in children]}, {"text": "all done"}],
        }
    ]
    scripts += [
        {"agent": "worker", "match": name, "replies": [*replies, {"text": f"{name} done"}]}
        for name, replies in children.items()
    ]
    path = tmp_path / "script.yaml"
    path.write_text(yaml.safe_dump({"scripts": scripts}))
    return path


def _drive(ws: Path, script: Path, *extra: str, timeout: float = 120) -> dict[str, Any]:
    done = subprocess.run(
        ["python", "-m", "tests.orchestrator.cow_driver", str(ws), str(script), *extra],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=subprocess_env(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def _output(report: dict[str, Any], needle: str) -> str:
    """The output of the (one) call whose command holds `needle`."""
    (call,) = [c for c in report["calls"] if needle in str(c["input"].get("command", ""))]
    return str(call["output"])


def _tree(root: Path) -> dict[str, tuple[str, str]]:
    """Every file under `root` but `.subagent/`: (kind, content or link target)."""
    found: dict[str, tuple[str, str]] = {}
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [d for d in subfolders if d != ".subagent" or folder != str(root)]
        for name in files + [d for d in subfolders if os.path.islink(os.path.join(folder, d))]:
            path = Path(folder) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            else:
                kind = "exec" if path.stat().st_mode & stat.S_IXUSR else "file"
                found[rel] = (kind, path.read_text())
    return found


def _bases(ws: Path) -> list[Path]:
    home = paths.bases_home() / ShadowRepo(ws).git_dir.name
    return sorted(p for p in home.iterdir() if p.is_dir()) if home.is_dir() else []


def test_children_see_only_their_own_tree_and_the_merge_brings_back_exactly_their_changes(
    tmp_path: Path,
) -> None:
    ws = workspace(tmp_path, config=BWRAP, files=FILES)
    before = _tree(ws)
    one = (
        "sed -i 's/keep/kept by one/' keep.txt && rm gone.txt && rm -rf olddir && mkdir -p new/deep && "
        "echo n > new/deep/n.txt && echo log > debug.log && chmod +x run.sh && ln -s keep.txt link.txt && "
        "git init -q . && git add -A && git -c user.name=a -c user.email=a@b commit -qm wip && "
        "git mv dir/a.txt dir/b.txt && git status --short && echo ONE-DONE"
    )
    two = (
        "cat keep.txt; ls; test -e new && echo SEES-NEW; test -e dir/a.txt && echo SEES-A; "
        "echo two > two.txt; echo TWO-DONE"
    )
    script = _script(tmp_path, {"one": [_bash(one)], "two": [_bash(two, delay=1.5)]})

    report = _drive(ws, script)

    assert report["rights"] and report["trees"] == ["overlay", "overlay"]
    assert report["final"] == "success", report["calls"]
    assert "R  dir/a.txt -> dir/b.txt" in _output(report, "ONE-DONE")
    seen_by_two = _output(report, "TWO-DONE")
    assert "keep\n" in seen_by_two and "kept by one" not in seen_by_two  # written in place by its sibling
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
        "dir/b.txt": ("file", "a\n"),
        "two.txt": ("file", "two\n"),
    }
    assert _tree(ws) == expected  # no debug.log (ignored), no .git: exactly what was snapshotted
    assert not (ws / "olddir").exists()  # emptied folders go too
    (base,) = _bases(ws)
    assert _tree(base / "tree") == before  # the lower layer never changed
    assert report["mounts"] == [] and report["left"] == []


def test_a_cancel_leaves_nothing_mounted_nothing_on_disk_and_no_process(tmp_path: Path) -> None:
    ws = workspace(tmp_path, config=BWRAP, files=FILES)
    sleep = unique_sleep()  # counted by the test: its own, not a neighbour's
    work = f"echo started > mine.txt && sleep {sleep}"
    script = _script(tmp_path, {"sleeper one": [_bash(work)], "sleeper two": [_bash(work)]})

    report = _drive(ws, script, "--sleeper", sleep, "--cancel-when-sleeping", "2")

    assert report["rights"] and report["trees"] == ["overlay", "overlay"]
    assert report["final"] == "cancelled"
    assert report["mounts"] == [] and report["left"] == [] and report["sleepers"] == 0
    assert not (ws / "mine.txt").exists()  # a cancelled child's work is kept on a branch, not merged


def _mounted_anywhere(needle: str) -> list[str]:
    """Mount table lines naming `needle`, in the namespace of every process this test can read."""
    lines = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/mountinfo", encoding="utf-8", errors="replace") as table:
                lines += [line for line in table if needle in line]
        except OSError:
            continue
    return lines


def _what_it_said(runtime: subprocess.Popen[str]) -> str:
    """For a failure message: the killed run's events naming its children's trees, and its stderr."""
    runtime.kill()
    out, err = runtime.communicate()
    return "\n".join([line for line in out.splitlines() if '"worktree"' in line] + [err[-2000:]])


def test_a_killed_run_leaves_no_mount_and_the_next_run_sweeps_its_trees(tmp_path: Path) -> None:
    ws = workspace(tmp_path, config=BWRAP, files=FILES)
    sleep = unique_sleep()  # counted by the test: its own, not a neighbour's
    work = f"echo started > mine.txt && sleep {sleep}"
    script = _script(tmp_path, {"sleeper one": [_bash(work)], "sleeper two": [_bash(work)]})
    runtime = subprocess.Popen(
        subagent_argv(
            "run",
            "go",
            "--agent",
            "orchestrator",
            "--cwd",
            str(ws),
            "--script",
            str(script),
            "--output",
            "stream-json",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    try:
        deadline = time.monotonic() + 60
        while sleepers(sleep) < 2:
            assert time.monotonic() < deadline and runtime.poll() is None, runtime.stderr.read()  # type: ignore[union-attr]
            time.sleep(0.05)
        trees = paths.worktrees_home()
        mounted = _mounted_anywhere(str(trees))
        assert len(mounted) >= 2, _what_it_said(runtime)  # the overlays, in the runtime's namespace
        runtime.send_signal(signal.SIGKILL)
        runtime.wait(10)
    finally:
        runtime.kill()
        runtime.communicate()

    deadline = time.monotonic() + 10
    while sleepers(sleep) or _mounted_anywhere(str(trees)):
        assert time.monotonic() < deadline, "a sandboxed process or a mount outlived the killed runtime"
        time.sleep(0.05)
    left = sorted(trees.iterdir())
    assert len(left) == 2 and all(p.name.endswith(f".{runtime.pid}") for p in left)  # folders stay
    done = run_subagent("doctor", "--json", cwd=ws)
    assert list(trees.iterdir()) == []
    swept = json.loads(done.stdout)
    assert any(c["name"] == "leftovers" and str(left[0]) in c["detail"] for c in swept)
    assert not (ws / "mine.txt").exists()


def test_checkouts_when_the_configuration_asks_for_them(tmp_path: Path) -> None:
    config = {"defaults": {"sandbox": {"kind": "bwrap"}, "worktrees": "checkout"}}
    ws = workspace(tmp_path, config=config, files=FILES)
    one = "sed -i 's/keep/kept by one/' keep.txt && rm -rf olddir && echo ONE-DONE"
    two = "cat keep.txt; ls; echo two > two.txt; echo TWO-DONE"
    script = _script(tmp_path, {"one": [_bash(one)], "two": [_bash(two, delay=1.0)]})

    report = _drive(ws, script)

    assert report["rights"] and report["trees"] == ["checkout", "checkout"]
    assert report["final"] == "success"
    assert "kept by one" not in _output(report, "TWO-DONE")
    assert (ws / "keep.txt").read_text() == "kept by one\n" and (ws / "two.txt").read_text() == "two\n"
    assert not (ws / "olddir").exists()
    assert _bases(ws) == []  # no base checkout is made for checkouts
    assert report["mounts"] == [] and report["left"] == []
    doctor = {c["name"]: c for c in json.loads(run_subagent("doctor", "--json", cwd=ws).stdout)}
    assert doctor["subagent worktrees"]["detail"].startswith("checkout: the config asks for checkouts")
    ws.joinpath(".subagent", "config.yaml").write_text(yaml.safe_dump(BWRAP))  # the control: auto
    doctor = {c["name"]: c for c in json.loads(run_subagent("doctor", "--json", cwd=ws).stdout)}
    assert doctor["subagent worktrees"]["detail"].startswith("overlay: copy-on-write overlays")


def test_a_base_in_use_elsewhere_serves_a_newer_snapshot_through_each_tree(tmp_path: Path) -> None:
    """Another process holds the base (a shared lock), so it cannot be refreshed: each child's
    tree gets the difference written into its own upper folder, deletions as whiteouts, a file
    that became a folder and a folder that became a file included."""
    ws = workspace(tmp_path, config=BWRAP, files=FILES)
    look = "cat keep.txt olddir gone.txt/inside.txt; test -e dir && echo DIR-STILL-THERE; echo LOOKED"
    first = _drive(ws, _script(tmp_path, {"warm": [_bash("true")], "up": [_bash("true")]}))
    assert first["trees"] == ["overlay", "overlay"]
    (base,) = _bases(ws)
    old_commit = (base / "commit").read_text()
    (ws / "keep.txt").write_text("newer\n")
    (ws / "dir" / "a.txt").unlink()
    (ws / "gone.txt").unlink()
    (ws / "gone.txt").mkdir()
    (ws / "gone.txt" / "inside.txt").write_text("now a folder\n")
    for rel in ("olddir/y/z.txt", "olddir/x.txt"):
        (ws / rel).unlink()
    (ws / "olddir" / "y").rmdir()
    (ws / "olddir").rmdir()
    (ws / "olddir").write_text("now a file\n")
    held = os.open(base / "lock", os.O_RDWR)
    fcntl.flock(held, fcntl.LOCK_SH)
    try:
        children = {"look": [_bash(look)], "more": [_bash("echo more > more.txt")]}
        report = _drive(ws, _script(tmp_path, children))
    finally:
        os.close(held)

    seen = _output(report, "LOOKED")
    assert "newer\nnow a file\nnow a folder\n" in seen
    assert "DIR-STILL-THERE" not in seen  # its one file was deleted: the folder is whited out
    assert report["final"] == "success" and (ws / "more.txt").read_text() == "more\n"
    assert _bases(ws) == [base] and (base / "commit").read_text() == old_commit  # untouched
    assert (base / "tree" / "keep.txt").read_text() == "keep\n"
    assert report["mounts"] == [] and report["left"] == []


def test_the_base_is_reused_across_runs_and_refreshed_in_place(tmp_path: Path) -> None:
    ws = workspace(tmp_path, config=BWRAP, files=FILES)
    _drive(ws, _script(tmp_path, {"a": [_bash("echo a > a.out")], "b": [_bash("echo b > b.out")]}))
    (base,) = _bases(ws)
    unchanged = (base / "tree" / "run.sh").stat().st_ino

    (ws / "keep.txt").write_text("edited between runs\n")
    script = _script(tmp_path, {"c": [_bash("cat keep.txt; echo c > c.out")], "d": [_bash("echo d > d.out")]})
    report = _drive(ws, script)

    assert report["final"] == "success" and "edited between runs" in _output(report, "c.out")
    assert _bases(ws) == [base]  # the same base, brought to the new snapshot
    tree = base / "tree"
    assert (tree / "keep.txt").read_text() == "edited between runs\n"
    assert (tree / "a.out").read_text() == "a\n"  # the first run's merge, in the new snapshot
    assert (tree / "run.sh").stat().st_ino == unchanged  # only what differed was written
    commit = (base / "commit").read_text().strip()
    assert ShadowRepo(ws).git.run("show", f"{commit}:keep.txt") == "edited between runs\n"


def test_the_base_is_built_while_the_model_is_still_writing_its_task_calls(tmp_path: Path) -> None:
    """The model's stream stops right after it begins each `task` call and waits for a base
    checkout to appear: it only can if the runtime starts building one as the call begins."""
    ws = workspace(tmp_path, config=BWRAP, files=FILES)
    script = _script(tmp_path, {"a": [_bash("cat keep.txt; echo A-DONE")], "b": [_bash("echo b > b.txt")]})

    report = _drive(ws, script, "--hold-task-calls", "--hold-at-most", "20")

    assert report["held"] == [True, True], "no base was built while the task calls were being written"
    assert report["trees"] == ["overlay", "overlay"] and report["final"] == "success"
    assert "keep\n" in _output(report, "A-DONE") and (ws / "b.txt").read_text() == "b\n"
    assert len(_bases(ws)) == 1  # the children used the one built in the background
    assert report["mounts"] == [] and report["left"] == []


def test_with_checkouts_no_base_is_built_in_the_background(tmp_path: Path) -> None:
    """The control for the test above: the same hold, with checkouts configured, sees no base."""
    config = {"defaults": {"sandbox": {"kind": "bwrap"}, "worktrees": "checkout"}}
    ws = workspace(tmp_path, config=config, files=FILES)
    script = _script(tmp_path, {"a": [_bash("echo a > a.txt")], "b": [_bash("echo b > b.txt")]})

    report = _drive(ws, script, "--hold-task-calls", "--hold-at-most", "1")

    assert report["held"] == [False, False] and report["trees"] == ["checkout", "checkout"]
    assert report["final"] == "success" and (ws / "a.txt").read_text() == "a\n"
    assert _bases(ws) == []


def _call(name: str, **args: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "input": args}]}


def test_the_file_tools_and_bash_see_one_tree(tmp_path: Path) -> None:
    """In an overlay tree, what the write and edit tools change bash sees, and what bash changes the
    read and grep tools see; the sibling sees none of it, the merge brings all of it."""
    ws = workspace(tmp_path, config=BWRAP, files=FILES)
    tools = [
        _call("write", file_path="made.txt", content="from write\n"),
        _bash("cat made.txt; echo from bash >> made.txt; sed -i 's/keep/bash kept/' keep.txt; echo BASH-ONE"),
        _call("read", file_path="keep.txt"),
        _call("read", file_path="dir/a.txt"),
        _call("edit", file_path="dir/a.txt", old_string="a", new_string="edited by the tool"),
        _bash("cat dir/a.txt; echo BASH-TWO"),
        _call("grep", pattern="from bash", output_mode="files_with_matches"),
    ]
    other = _bash("cat keep.txt dir/a.txt; test -e made.txt && echo SEES-MADE; echo OTHER-DONE", delay=2.0)
    report = _drive(ws, _script(tmp_path, {"tools": tools, "other": [other]}))

    assert report["trees"] == ["overlay", "overlay"] and report["final"] == "success", report["calls"]
    assert "from write" in _output(report, "BASH-ONE")
    read = [c for c in report["calls"] if c["name"] == "read"]
    assert "bash kept" in read[0]["output"] and not any(c["is_error"] for c in report["calls"])
    assert "edited by the tool" in _output(report, "BASH-TWO")
    (grep,) = [c for c in report["calls"] if c["name"] == "grep"]
    assert "made.txt" in grep["output"]
    seen = _output(report, "OTHER-DONE")
    assert "keep\na\n" in seen and "SEES-MADE" not in seen
    assert (ws / "made.txt").read_text() == "from write\nfrom bash\n"
    assert (ws / "keep.txt").read_text() == "bash kept\n"
    assert (ws / "dir" / "a.txt").read_text() == "edited by the tool\n"
    assert report["mounts"] == [] and report["left"] == []
