"""Checkpoints restore the workspace exactly and never touch the user's own git state."""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from agent.errors import GitDirRefusedError
from agent.sessions._shadow_git import PINNED, ShadowGit
from agent.sessions.checkpoints import PlannedRestore, ShadowRepo
from tests.security import host_git_traps as traps


def tree_state(root: Path) -> dict[str, tuple[str, bytes | str, int]]:
    """Every entry under root (but .git): kind, bytes (or link target) and permission bits."""
    state: dict[str, tuple[str, bytes | str, int]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel == ".git" or rel.startswith(".git/"):
            continue
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_symlink():
            state[rel] = ("link", os.readlink(path), 0)
        elif path.is_dir():
            state[rel] = ("dir", b"", mode)
        else:
            state[rel] = ("file", path.read_bytes(), mode)
    return state


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def user_git_state(repo: Path) -> tuple[str, ...]:
    """The index bytes first: a plain `git status` may refresh (rewrite) the index itself."""
    index = (repo / ".git" / "index").read_bytes().hex()
    return (
        index,
        git(repo, "--no-optional-locks", "status", "--porcelain", "--untracked-files=all"),
        git(repo, "stash", "list"),
        git(repo, "rev-parse", "HEAD"),
        git(repo, "branch", "-a"),
        (repo / ".git" / "config").read_text(),
        " ".join(sorted(p.name for p in (repo / ".git" / "hooks").iterdir())),
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "src" / "pkg").mkdir(parents=True)
    (ws / "src" / "app.py").write_text("print('hi')\r\n")
    (ws / "src" / "pkg" / "mod.py").write_bytes(b"\xef\xbb\xbfx = 1\n\tindented\n")
    (ws / "run.sh").write_text("#!/bin/sh\necho run\n")
    (ws / "run.sh").chmod(0o755)
    (ws / "link").symlink_to("src/app.py")
    (ws / "notes.txt").write_text("keep\n")
    return ws


@pytest.fixture
def git_workspace(workspace: Path) -> Path:
    git(workspace, "init", "-q")
    git(workspace, "-c", "user.name=u", "-c", "user.email=u@x", "add", "-A")
    git(workspace, "-c", "user.name=u", "-c", "user.email=u@x", "commit", "-qm", "init")
    (workspace / "notes.txt").write_text("uncommitted change\n")
    (workspace / "staged.txt").write_text("staged\n")
    git(workspace, "add", "staged.txt")
    (workspace / "untracked.txt").write_text("untracked\n")
    return workspace


def mess_up(ws: Path) -> None:
    """Edits, a new file in a new folder, a deleted file, a mode change, and `rm -rf` of a folder."""
    (ws / "notes.txt").write_text("edited by the agent\n")
    (ws / "new" / "deep").mkdir(parents=True)
    (ws / "new" / "deep" / "file.py").write_text("new\n")
    (ws / "created.txt").write_text("created\n")
    (ws / "run.sh").chmod(0o644)
    (ws / "link").unlink()
    shutil.rmtree(ws / "src")


@pytest.mark.parametrize("kind", ["plain", "git"])
def test_restore_is_exact(kind: str, request: pytest.FixtureRequest) -> None:
    ws: Path = request.getfixturevalue("git_workspace" if kind == "git" else "workspace")
    before = tree_state(ws)
    repo = ShadowRepo(ws)
    checkpoint = repo.snapshot("before step 1")
    mess_up(ws)
    assert tree_state(ws) != before
    plan = {item.path: item.action for item in repo.plan_restore(checkpoint)}
    assert plan == {
        "notes.txt": "revert",
        "run.sh": "revert",
        "link": "restore",
        "src/app.py": "restore",
        "src/pkg/mod.py": "restore",
        "new/deep/file.py": "delete",
        "created.txt": "delete",
    }
    result = repo.restore(checkpoint)
    assert tree_state(ws) == before
    assert result.commit == checkpoint
    repo.restore(result.before)  # undo the undo
    assert (ws / "created.txt").read_text() == "created\n" and not (ws / "src").exists()


def test_user_git_state_is_untouched(git_workspace: Path) -> None:
    ws = git_workspace
    git(ws, "-c", "user.name=u", "-c", "user.email=u@x", "stash", "push", "-q", "--", "notes.txt")
    (ws / "notes.txt").write_text("uncommitted change\n")
    assert git(ws, "stash", "list")
    state = user_git_state(ws)
    files = tree_state(ws)
    repo = ShadowRepo(ws)
    checkpoint = repo.snapshot("step 1")
    mess_up(ws)
    repo.snapshot("step 2")
    repo.restore(checkpoint)
    assert tree_state(ws) == files
    assert user_git_state(ws) == state
    alternates = repo.git_dir / "objects" / "info" / "alternates"
    assert alternates.read_text().strip() == str((ws / ".git" / "objects").resolve())


def test_unchanged_tree_reuses_the_snapshot(workspace: Path) -> None:
    repo = ShadowRepo(workspace)
    first = repo.snapshot("one")
    assert repo.snapshot("two") == first
    (workspace / "notes.txt").write_text("changed\n")
    assert repo.snapshot("three") != first


def test_gitignore_and_default_excludes_are_honoured(workspace: Path) -> None:
    (workspace / ".gitignore").write_text("build/\n*.log\n")
    for folder in ("node_modules/pkg", ".venv/lib", "build", "__pycache__"):
        (workspace / folder).mkdir(parents=True)
        (workspace / folder / "f.js").write_text("x")
    (workspace / "debug.log").write_text("log")
    repo = ShadowRepo(workspace)
    checkpoint = repo.snapshot("s")
    listed = repo.git.run("ls-tree", "-r", "--name-only", checkpoint).split()
    assert not [p for p in listed if p.split("/")[0] in ("node_modules", ".venv", "build", "__pycache__")]
    assert "debug.log" not in listed and ".gitignore" in listed
    (workspace / "created.txt").write_text("x")
    repo.restore(checkpoint)
    assert (workspace / "node_modules" / "pkg" / "f.js").exists() and (workspace / "debug.log").exists()
    assert not (workspace / "created.txt").exists()


def test_large_file_is_skipped_with_a_note_and_left_alone(workspace: Path) -> None:
    repo = ShadowRepo(workspace, max_file_bytes=1000)
    (workspace / "big.bin").write_bytes(b"x" * 2000)
    result = repo.snapshot_result("s")
    assert result.skipped == ["big.bin"]
    assert "big.bin" in result.notes[0] and "1000" in result.notes[0]
    assert "big.bin" not in repo.git.run("ls-tree", "-r", "--name-only", result.commit)
    (workspace / "notes.txt").write_text("changed\n")
    repo.restore(result.commit)
    assert (workspace / "big.bin").stat().st_size == 2000
    assert (workspace / "notes.txt").read_text() == "keep\n"


def test_file_that_grows_too_large_leaves_the_snapshot(workspace: Path) -> None:
    repo = ShadowRepo(workspace, max_file_bytes=1000)
    repo.snapshot("small")
    (workspace / "notes.txt").write_bytes(b"y" * 5000)
    result = repo.snapshot_result("large")
    assert result.skipped == ["notes.txt"]
    assert "notes.txt" not in repo.git.run("ls-tree", "-r", "--name-only", result.commit).split()


def test_changed_files_and_diff(workspace: Path) -> None:
    repo = ShadowRepo(workspace)
    one = repo.snapshot("one")
    (workspace / "notes.txt").write_text("changed\n")
    (workspace / "added.txt").write_text("a\n")
    (workspace / "run.sh").unlink()
    two = repo.snapshot("two")
    changes = {c.path: c.change for c in repo.changed_files(one, two)}
    assert changes == {"notes.txt": "modified", "added.txt": "added", "run.sh": "deleted"}
    assert "+changed" in repo.diff(one, two) and "-keep" in repo.diff(one)
    assert repo.changed_files(two) == []


def test_plan_is_empty_when_nothing_changed(workspace: Path) -> None:
    repo = ShadowRepo(workspace)
    checkpoint = repo.snapshot("s")
    assert repo.plan_restore(checkpoint) == []
    assert repo.restore(checkpoint).changes == []


def test_type_changes_between_file_and_folder(workspace: Path) -> None:
    repo = ShadowRepo(workspace)
    before = tree_state(workspace)
    checkpoint = repo.snapshot("s")
    (workspace / "notes.txt").unlink()
    (workspace / "notes.txt").mkdir()
    (workspace / "notes.txt" / "inner").write_text("x")
    shutil.rmtree(workspace / "src" / "pkg")
    (workspace / "src" / "pkg").write_text("now a file")
    repo.restore(checkpoint)
    assert tree_state(workspace) == before


def test_branch_keeps_a_commit(workspace: Path) -> None:
    repo = ShadowRepo(workspace)
    commit = repo.snapshot("s")
    assert repo.create_branch("child/ses_1", commit) == "refs/heads/child/ses_1"
    assert repo.git.run("rev-parse", "refs/heads/child/ses_1").strip() == commit


def test_one_shadow_repo_per_workspace(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert ShadowRepo(tmp_path / "a").git_dir != ShadowRepo(tmp_path / "b").git_dir
    assert ShadowRepo(tmp_path / "a").git_dir == ShadowRepo(tmp_path / "a" / ".." / "a").git_dir


def test_planned_restore_model() -> None:
    assert PlannedRestore(path="x", action="delete").action == "delete"


def test_names_with_spaces_unicode_and_invalid_utf8(workspace: Path) -> None:
    odd = os.path.join(os.fsencode(workspace), b"bad\xe9name.txt")
    with open(odd, "wb") as handle:
        handle.write(b"latin-1 name")
    (workspace / "sp ace ü.txt").write_text("u")
    before = tree_state(workspace)
    repo = ShadowRepo(workspace)
    checkpoint = repo.snapshot("s")
    os.unlink(odd)
    (workspace / "sp ace ü.txt").unlink()
    (workspace / "new ü.txt").write_text("x")
    repo.restore(checkpoint)
    assert tree_state(workspace) == before


def test_two_instances_on_one_workspace_share_the_chain(workspace: Path) -> None:
    first, second = ShadowRepo(workspace), ShadowRepo(workspace)
    one = first.snapshot("one")
    (workspace / "notes.txt").write_text("changed\n")
    two = second.snapshot("two")
    assert first.snapshot("three") == two  # sees the other instance's newer snapshot
    (workspace / "notes.txt").write_text("again\n")
    three = first.snapshot("four")
    parents = first.git.run("rev-list", "--parents", "-n", "1", three).split()
    assert parents == [three, two]
    assert first.git.run("rev-list", "refs/heads/snapshots").split() == [three, two, one]


def _commands(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The git subcommands the shadow repositories run from now on."""
    ran: list[str] = []
    run = ShadowGit.run

    def noted(self: ShadowGit, *args: str, **kwargs: object) -> str:
        ran.append(args[0])
        return run(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ShadowGit, "run", noted)
    return ran


def test_a_snapshot_of_an_unchanged_workspace_runs_one_git(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every step's checkpoint is a snapshot, often of nothing new: git lists the changes, and
    nothing else runs, in this instance or a new one (a run's, a child's)."""
    first = ShadowRepo(workspace).snapshot("one")
    ran = _commands(monkeypatch)
    assert ShadowRepo(workspace).snapshot("two") == first
    assert ran == ["ls-files"]
    (workspace / "notes.txt").write_text("changed\n")
    second = ShadowRepo(workspace).snapshot("three")
    assert second != first and "for-each-ref" not in ran
    assert ShadowRepo(workspace).tree(second) != ShadowRepo(workspace).tree(first)


def test_changes_between_two_snapshots_are_listed_once(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child's run and its merge both list its changes: commits never change, git runs once."""
    first = ShadowRepo(workspace).snapshot("one")
    (workspace / "notes.txt").write_text("changed\n")
    second = ShadowRepo(workspace).snapshot("two")
    ran = _commands(monkeypatch)
    listed = [ShadowRepo(workspace).changed_files(first, second) for _ in range(2)]
    assert ran == ["diff-tree"] and listed[0] == listed[1]
    assert [(c.path, c.change) for c in listed[0]] == [("notes.txt", "modified")]


def test_an_index_written_elsewhere_is_read_again(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An index another process wrote (a snapshot killed before its commit) may hold entries the
    last snapshot does not: its tree is written again, and the snapshot holds the workspace."""
    repo = ShadowRepo(workspace)
    first = repo.snapshot("one")
    (workspace / "notes.txt").write_text("staged by a killed run\n")
    other = ShadowRepo(workspace)
    other.git.run("update-index", "--add", "-z", "--stdin", stdin=b"notes.txt\0")  # and no commit
    ran = _commands(monkeypatch)
    second = repo.snapshot("two")
    assert "write-tree" in ran and second != first
    assert repo.git.run("show", f"{second}:notes.txt") == "staged by a killed run\n"


def test_nested_repository_is_left_out_with_a_note(workspace: Path) -> None:
    nested = workspace / "vendor" / "lib"
    nested.mkdir(parents=True)
    git(nested, "init", "-q")
    (nested / "x.c").write_text("int x;\n")
    repo = ShadowRepo(workspace)
    result = repo.snapshot_result("s")
    assert result.notes == ["not snapshotted (a separate git repository): vendor/lib/"]
    assert "vendor/lib/x.c" not in repo.git.run("ls-tree", "-r", "--name-only", result.commit)
    (workspace / "notes.txt").write_text("changed\n")
    repo.restore(result.commit)
    assert (nested / "x.c").exists() and (nested / ".git").is_dir()


def test_stale_git_locks_from_a_killed_run_are_cleared(workspace: Path) -> None:
    repo = ShadowRepo(workspace)
    repo.snapshot("one")
    (repo.git_dir / "index.lock").write_text("")
    (repo.git_dir / "refs" / "heads" / "snapshots.lock").write_text("")
    (workspace / "notes.txt").write_text("changed\n")
    second = repo.snapshot("two")
    assert repo.git.run("rev-parse", "refs/heads/snapshots").strip() == second
    assert not (repo.git_dir / "index.lock").exists()


def test_a_planted_shadow_repository_runs_nothing(
    workspace: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Its config, attributes and hooks rewritten to run commands (its data dir written some other
    way): every checkpoint operation restores them first, and runs nothing; plain git would."""
    (workspace / "README.md").write_text("# readme\n")
    kit = traps.TrapKit(tmp_path / "traps")
    kit.install()
    repo = ShadowRepo(workspace)
    first = repo.snapshot("one")
    planted = traps.shadow_plant(repo.git_dir, kit.fire)
    operations = [
        lambda: repo.snapshot("two"),
        lambda: repo.diff(first),
        lambda: repo.changed_files(first),
        lambda: repo.plan_restore(first),
        lambda: repo.restore(first),
    ]
    caplog.set_level(logging.WARNING)
    for operation in operations:
        assert traps.shell(planted, workspace, kit).returncode == 0
        (workspace / "notes.txt").write_text(f"changed before {operation}\n")
        operation()
        assert kit.fired() == set()
        assert (repo.git_dir / "config").read_text() == dict(PINNED)["config"]
    assert f"restored {repo.git_dir / 'config'}" in caplog.text
    traps.shell(planted, workspace, kit)
    for name, control in traps.SHADOW_CONTROLS.items():
        kit.clear()
        plain_git = f"export GIT_DIR='{repo.git_dir}' GIT_WORK_TREE='{workspace}' && {control}"
        traps.shell(plain_git, workspace, kit)
        assert name in kit.fired(), f"`{control}` did not fire {name}"


def test_a_commondir_in_the_shadow_repository_is_refused(workspace: Path, tmp_path: Path) -> None:
    repo = ShadowRepo(workspace)
    repo.snapshot("one")
    (repo.git_dir / "commondir").write_text(f"{tmp_path}\n")
    with pytest.raises(GitDirRefusedError, match="commondir") as refused:
        repo.snapshot("two")
    assert refused.value.path == repo.git_dir / "commondir"


def test_a_config_replaced_by_a_link_is_replaced_not_written_through(workspace: Path, tmp_path: Path) -> None:
    repo = ShadowRepo(workspace)
    repo.snapshot("one")
    bashrc = tmp_path / "bashrc"
    bashrc.write_text("# the user's shell start-up\n")
    (repo.git_dir / "config").unlink()
    (repo.git_dir / "config").symlink_to(bashrc)
    (workspace / "notes.txt").write_text("changed\n")
    repo.snapshot("two")
    assert bashrc.read_text() == "# the user's shell start-up\n"
    assert not (repo.git_dir / "config").is_symlink()
