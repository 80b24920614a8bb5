"""The policy's mounts for bash: protected paths that are links or do not exist, placeholders,
HOME by allowlist, and the same mounts for a program run without a shell."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from agent.registry.schema import SandboxConfig
from agent.sandbox._placeholder import FILE_MODE, MODE, Placeholder, settle
from agent.sandbox.unsandboxed import UnsandboxedRunner
from agent.sessions.leftovers import sweep_placeholders
from tests.sandbox.conftest import sandbox_for

pytestmark = pytest.mark.bwrap


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


async def test_a_protected_link_does_not_mount_over_its_target(workspace: Path, fake_home: Path) -> None:
    """`.claude -> ~/.ssh`: a bind at `.claude` would make bwrap mount the hidden folder's real
    contents at its target; instead the link itself is watched."""
    (fake_home / ".ssh").mkdir()
    (fake_home / ".ssh" / "id_rsa").write_text("LINKED-SECRET")
    (workspace / ".claude").symlink_to(fake_home / ".ssh")
    box = sandbox_for(workspace, home=fake_home)
    assert str(fake_home / ".ssh") not in " ".join(box.mounts.prepare().args)
    attack = "cat .claude/id_rsa; rm .claude && mkdir .claude && echo '{}' > .claude/settings.json"
    result = await box.run(attack, cwd=workspace, timeout_s=10)
    assert "LINKED-SECRET" not in result.output and "undid the change to .claude" in result.output
    assert (workspace / ".claude").is_symlink() and (workspace / ".claude").readlink() == fake_home / ".ssh"


async def test_placeholders_leave_nothing_behind(workspace: Path, fake_home: Path) -> None:
    _git("init", "-q", cwd=workspace)
    shutil.rmtree(workspace / ".git" / "hooks")
    box = sandbox_for(workspace, home=fake_home)
    result = await box.run(
        "echo x > .mcp.json; mkdir -p .subagent/agents; echo > .git/hooks/pre-commit; "
        "git status --porcelain; echo done",
        cwd=workspace,
        timeout_s=10,
    )
    assert result.output.endswith("done\n") and "??" not in result.output  # git ignores them
    settle()  # placeholders are removed in the background, after the call returns
    assert sorted(p.name for p in workspace.iterdir()) == [".git"]
    assert not (workspace / ".git" / "hooks").exists()


async def test_a_placeholder_shared_by_two_sandboxes_lasts_until_the_last(
    workspace: Path, fake_home: Path
) -> None:
    box = sandbox_for(workspace, home=fake_home)
    slow = asyncio.ensure_future(box.run("sleep 2; echo x > .mcp.json", cwd=workspace, timeout_s=20))
    await asyncio.sleep(1)
    quick = await box.run("true", cwd=workspace, timeout_s=10)  # joins, then leaves first
    assert quick.exit_code == 0 and (workspace / ".mcp.json").is_dir()
    assert (await slow).exit_code != 0  # still read-only after the other one left
    settle()
    assert not (workspace / ".mcp.json").exists()


def test_a_placeholder_is_never_made_over_something_real(workspace: Path) -> None:
    (workspace / ".subagent").mkdir()
    (workspace / ".subagent" / "config.yaml").write_text("x")
    assert Placeholder.hold(workspace / ".subagent") is None
    held = Placeholder.hold(workspace / ".claude")
    assert held is not None and ((workspace / ".claude").stat().st_mode & 0o777) == MODE
    joined = Placeholder.hold(workspace / ".claude")
    assert joined is not None
    held.release()
    assert (workspace / ".claude").is_dir()  # another holder: the last one out removes it
    joined.release()
    assert not (workspace / ".claude").exists()


async def test_a_linked_worktree_protects_its_git_dir(tmp_path: Path, fake_home: Path) -> None:
    main = tmp_path / "main"
    main.mkdir()
    _git("init", "-q", cwd=main)
    _git("-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "x", cwd=main)
    worktree = tmp_path / "wt"
    _git("worktree", "add", "-q", str(worktree), cwd=main)
    box = sandbox_for(main, home=fake_home)  # the main tree holds the worktree's git dir
    attempts = "echo gitdir: /elsewhere > ../wt/.git; echo x > .git/worktrees/wt/commondir; echo rc=$?"
    box_wt = sandbox_for(worktree, home=fake_home)
    first = await box.run(attempts, cwd=main, timeout_s=10)
    second = await box_wt.run("echo gitdir: /elsewhere > .git; echo rc=$?", cwd=worktree, timeout_s=10)
    assert "rc=1" in first.output and "rc=1" in second.output
    pointer = (worktree / ".git").read_text()
    assert pointer.startswith("gitdir: ") and "elsewhere" not in pointer


async def test_run_argv_sees_what_bash_sees(workspace: Path, fake_home: Path) -> None:
    (fake_home / ".ssh").mkdir()
    (fake_home / ".ssh" / "id_rsa").write_text("ARGV-SECRET")
    (workspace / "a.txt").write_text("ARGV-VISIBLE")
    box = sandbox_for(workspace, home=fake_home)
    argv = ["cat", "a.txt", str(fake_home / ".ssh" / "id_rsa"), "-"]
    boxed = await box.run_argv(argv, cwd=workspace, timeout_s=10)
    host = await UnsandboxedRunner().run_argv(argv, cwd=workspace, timeout_s=10)
    assert "ARGV-SECRET" in host.output and host.exit_code == 0  # stdin is /dev/null
    assert "ARGV-VISIBLE" in boxed.output and "ARGV-SECRET" not in boxed.output and boxed.exit_code == 1
    assert boxed.cwd_after is None
    quoted = await box.run_argv(["printf", "%s|", "a b", "$HOME", "'"], cwd=workspace, timeout_s=10)
    assert quoted.output == "a b|$HOME|'|"  # no shell in between
    late = await box.run_argv(["sleep", "30"], cwd=workspace, timeout_s=0.5)
    assert late.timed_out and late.exit_code is None


async def test_git_commits_as_the_user_inside(workspace: Path, fake_home: Path) -> None:
    (fake_home / ".gitconfig").write_text(
        "[user]\n\tname = Jo Coder\n\temail = jo@example.com\n[credential]\n\thelper = store\n"
    )
    _git("init", "-q", cwd=workspace)
    box = sandbox_for(workspace, home=fake_home)
    result = await box.run(
        "git commit -q --allow-empty -m x && git log -1 --format='%an <%ae>'; cat ~/.gitconfig",
        cwd=workspace,
        timeout_s=10,
    )
    assert "Jo Coder <jo@example.com>" in result.output and "helper" not in result.output


async def test_a_credential_missing_from_an_added_home_stands_as_a_placeholder_for_the_call(
    workspace: Path, fake_home: Path
) -> None:
    """HOME added as a root: `~/.gitconfig` and `~/.config/gh` do not exist. During the call they are
    an empty read-only file and folder (git reads an empty config, and goes on working), bash can
    create neither, and nothing is left after the call; a placeholder a killed call left is swept
    by the next run."""
    box = sandbox_for(workspace, home=fake_home, config=SandboxConfig(extra_roots=[str(fake_home)]))
    attack = (
        "echo '[core] fsmonitor = x' > ~/.gitconfig; mkdir -p ~/.config/gh && echo t > ~/.config/gh/h.yml;"
        " git config --global --get core.fsmonitor; echo rc=$?; stat -c '%a %F' ~/.gitconfig; ls -A ~/.config"
    )
    result = await box.run(attack, cwd=workspace, timeout_s=10)
    assert "rc=1\n444 regular empty file\n" in result.output, result.output
    assert "gh" in result.output  # the folder placeholder, empty
    settle()
    assert not (fake_home / ".gitconfig").exists() and not (fake_home / ".config" / "gh").exists()

    held = Placeholder.hold(fake_home / ".npmrc", file=True)  # a live sandbox's
    assert held is not None and (fake_home / ".npmrc").stat().st_mode & 0o777 == FILE_MODE
    (fake_home / ".netrc").touch(FILE_MODE)  # what a killed call left: no one holds it
    (fake_home / ".netrc").chmod(FILE_MODE)
    assert sweep_placeholders(workspace) == [str(fake_home / ".netrc")]
    held.release()
    assert not (fake_home / ".npmrc").exists()


async def test_a_missing_credential_leaves_its_folders_to_the_toolchains(
    workspace: Path, fake_home: Path
) -> None:
    """A fresh HOME added as a root: `~/.cache/huggingface` and `~/.m2/settings.xml` are credentials,
    `~/.cache/pip`, `~/.local/bin` and `~/.m2/repository` are where pip, the user's tools and maven
    write. Only the credential itself stands as a placeholder: the folders on its way are the
    user's own (0700, kept, even under umask 000), and bash can make its caches in them, not the
    credential, nor move a folder away to make it."""
    box = sandbox_for(workspace, home=fake_home, config=SandboxConfig(extra_roots=[str(fake_home)]))
    tools = (
        "mkdir -p ~/.cache/pip ~/.local/bin ~/.m2/repository && touch ~/.cache/pip/x ~/.local/bin/tool"
        " && echo TOOLS-OK"
    )
    attack = (
        "; mkdir -p ~/.cache/huggingface; echo t > ~/.cache/huggingface/token; echo x > ~/.m2/settings.xml;"
        " mv ~/.cache ~/.moved; mkdir -p ~/.cache/huggingface && echo t > ~/.cache/huggingface/token"
    )
    previous = os.umask(0)
    try:
        result = await box.run(tools + attack, cwd=workspace, timeout_s=10)
    finally:
        os.umask(previous)
    settle()
    assert "TOOLS-OK" in result.output, result.output
    assert (fake_home / ".cache" / "pip" / "x").is_file() and (
        fake_home / ".local" / "bin" / "tool"
    ).is_file()
    assert not (fake_home / ".cache" / "huggingface").exists() and not (fake_home / ".moved").exists()
    assert not (fake_home / ".m2" / "settings.xml").exists()
    for folder in (".cache", ".local", ".local/share", ".m2", ".config", ".cargo"):
        assert (fake_home / folder).stat().st_mode & 0o777 == 0o700, folder


@pytest.mark.parametrize("failing", ["seccomp", "cgroup"])
async def test_a_call_that_fails_to_start_leaves_no_placeholder(
    workspace: Path, fake_home: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """What a call works out at its first run (the seccomp filter, the memory cgroup) may fail;
    the placeholders of its protected paths are then released as after any call, not left in
    the workspace until the next run's sweep."""
    from agent.sandbox import _cgroup, _seccomp

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(f"forced: no {failing}")

    module = _seccomp if failing == "seccomp" else _cgroup
    monkeypatch.setattr(module, "filter_program" if failing == "seccomp" else "memory_cgroup_parent", broken)
    box = sandbox_for(workspace, home=fake_home)
    with pytest.raises(OSError, match="forced"):
        await box.run("echo never", cwd=workspace, timeout_s=10)
    settle()
    assert list(workspace.iterdir()) == []
