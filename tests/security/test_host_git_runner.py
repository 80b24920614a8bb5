"""The runtime's one way to run git on the host: real repositories, each trap shown to fire first.

Each test plants traps (tests/security/host_git_traps.py) in a real repository, runs the git the
runtime runs (`agent.hostgit`), checks that no marker appeared, then runs the plain git command
a user would type in the same repository and checks that the trap's marker does appear.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

import pytest

from agent.errors import GitDirRefusedError, HostGitError
from agent.hostgit.layout import find_repository, read_layout
from agent.hostgit.runner import (
    LOCAL_ONLY,
    NEVER_RUN,
    GitTarget,
    git_command,
    git_environment,
    run_git,
)
from agent.hostgit.view import repository_view
from tests.security import host_git_traps as traps
from tests.security.host_git_traps import Trap, TrapKit


@pytest.fixture
def kit(tmp_path: Path) -> TrapKit:
    made = TrapKit(tmp_path / "traps")
    made.install()
    return made


@pytest.fixture
def repo(tmp_path: Path, kit: TrapKit) -> Path:
    """A repository with one commit and a README, outside the trap kit's folder."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "README.md").write_text("# a project\n")
    (ws / "app.py").write_text("print('hello')\n")
    done = traps.shell("git init -q && git add -A && git commit -qm init", ws, kit)
    assert done.returncode == 0, done.stderr
    return ws


def plant(trap: Trap, ws: Path, kit: TrapKit) -> None:
    done = traps.shell(trap.plant, ws, kit)
    assert done.returncode == 0, f"{trap.name}: {done.stderr}"


def assert_controls_fire(planted: tuple[Trap, ...], ws: Path, kit: TrapKit) -> None:
    """The same repository, a plain git: each trap fires (markers cleared before each control)."""
    for trap in planted:
        kit.clear()
        traps.shell(trap.control, ws, kit)
        assert trap.name in kit.fired(), f"the control `{trap.control}` did not fire {trap.name}"


def runtime_git_on(ws: Path) -> str:
    """What the runtime runs on a user's repository: status, diff, add -N, rev-parse, log, commit."""
    layout = find_repository(ws)
    assert layout is not None
    with repository_view(layout) as view:
        status = run_git(view, "status", "--porcelain=v1", "--branch").stdout.decode()
        run_git(view, "diff", "HEAD")
        run_git(view, "log", "-p", "-1")
        run_git(view, "add", "-A", "-N")
        run_git(view, "rev-parse", "--verify", "HEAD^{commit}")
        run_git(
            dataclasses.replace(view, identity=("t", "t@example.com")),
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "runtime",
        )
    return status


def test_a_repository_with_every_config_trap_runs_none_of_them(repo: Path, kit: TrapKit) -> None:
    for trap in traps.IN_ONE_CONFIG:
        plant(trap, repo, kit)
    (repo / "README.md").write_text("# changed, so diff and status have work to do\n")
    kit.clear()
    status = runtime_git_on(repo)
    assert kit.fired() == set()
    assert status.startswith("## master") and " M README.md" in status
    assert_controls_fire(traps.IN_ONE_CONFIG, repo, kit)


@pytest.mark.parametrize("trap", [traps.HOOKS_DIR, traps.NESTED_INIT], ids=lambda t: t.name)
def test_hooks_and_a_nested_repository_run_nothing(trap: Trap, repo: Path, kit: TrapKit) -> None:
    plant(trap, repo, kit)
    kit.clear()
    runtime_git_on(repo)
    assert kit.fired() == set()
    assert_controls_fire((trap,), repo, kit)


def test_a_fresh_git_init_in_a_plain_folder_runs_nothing(tmp_path: Path, kit: TrapKit) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "a.py").write_text("x = 1\n")
    plant(traps.FRESH_INIT, folder, kit)
    layout = find_repository(folder)
    assert layout is not None and layout.git_dir == folder / ".git"
    with repository_view(layout) as view:
        assert "?? a.py" in run_git(view, "status", "--porcelain").stdout.decode()
    assert kit.fired() == set()
    assert_controls_fire((traps.FRESH_INIT,), folder, kit)


@pytest.mark.parametrize(
    ("trap", "named"),
    [(traps.COMMONDIR, ".git/commondir"), (traps.GITDIR_INSIDE, ".git")],
    ids=["commondir", "gitdir_inside"],
)
def test_a_redirected_git_dir_is_refused_by_name(trap: Trap, named: str, repo: Path, kit: TrapKit) -> None:
    plant(trap, repo, kit)
    with pytest.raises(GitDirRefusedError) as refused:
        find_repository(repo / "app.py")
    assert refused.value.path == repo / named and str(repo / named) in str(refused.value)
    assert kit.fired() == set()
    assert_controls_fire((trap,), repo, kit)


def test_every_setting_wins_over_a_repository_that_sets_it(repo: Path, kit: TrapKit) -> None:
    settings = NEVER_RUN + LOCAL_ONLY
    for key, _ in settings:
        traps.shell(f'git config --add {key} "$FIRE {key}"', repo, kit)
    target = GitTarget(repo / ".git", repo)  # the repository's own config is read here, on purpose
    for key, safe in settings:
        values = run_git(target, "config", "--get-all", key).stdout.decode().splitlines()
        assert values[-1] == safe, f"{key}: {values}"


def test_no_credential_helper_and_no_transport_for_a_local_target(repo: Path, kit: TrapKit) -> None:
    plant(
        Trap(
            "credential",
            'git config credential.helper "$FIRE credential" && git config protocol.allow always',
            "",
        ),
        repo,
        kit,
    )
    target = GitTarget(repo / ".git", repo)
    with pytest.raises(HostGitError):
        run_git(target, "credential", "fill", stdin=b"protocol=https\nhost=example.com\n\n")
    ext = f"ext::sh -c touch% {kit.markers}/ext"
    for url in (ext, str(repo)):
        with pytest.raises(HostGitError, match="not allowed"):
            run_git(target, "ls-remote", url)
    assert kit.fired() == set()
    fill = 'printf "protocol=https\\nhost=example.com\\n\\n" | GIT_TERMINAL_PROMPT=0 git credential fill'
    traps.shell(fill, repo, kit)
    traps.shell(f"git ls-remote '{ext}'", repo, kit)
    assert kit.fired() == {"credential", "ext"}


def test_inherited_git_variables_are_ignored(
    repo: Path, kit: TrapKit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    global_config = tmp_path / "global.cfg"
    global_config.write_text(f'[core]\n\tfsmonitor = "{kit.fire} global"\n')
    firing = {  # each of these makes a plain git run a command: the controls below
        "params": ({"GIT_CONFIG_PARAMETERS": f"'core.fsmonitor'='{kit.fire} params'"}, "git status"),
        "count": (
            {
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "core.fsmonitor",
                "GIT_CONFIG_VALUE_0": f"{kit.fire} count",
            },
            "git status",
        ),
        "global": ({"GIT_CONFIG_GLOBAL": str(global_config)}, "git status"),
        "external": ({"GIT_EXTERNAL_DIFF": f"{kit.fire} external"}, "git diff"),
        "trace": ({"GIT_TRACE": str(kit.markers / "trace")}, "git status"),
        "ssh": ({"GIT_SSH_COMMAND": f"{kit.fire} ssh"}, "git ls-remote ssh://example.invalid/x"),
    }
    elsewhere = tmp_path / "elsewhere"
    traps.shell(f"git init -q {elsewhere}", tmp_path, kit)
    misdirecting = {
        "GIT_DIR": str(elsewhere / ".git"),
        "GIT_WORK_TREE": str(elsewhere),
        "GIT_INDEX_FILE": "/nonexistent",
        "GIT_EXEC_PATH": "/nonexistent",
        "GIT_CONFIG_NOSYSTEM": "0",
    }
    for variables in [misdirecting, *(env for env, _ in firing.values())]:
        for key, value in variables.items():
            monkeypatch.setenv(key, value)
    env = git_environment(GitTarget(repo / ".git", repo))
    assert {k for k in env if k.startswith("GIT_")} <= {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_TERMINAL_PROMPT",
        "GIT_OPTIONAL_LOCKS",
        "GIT_PAGER",
        "GIT_EDITOR",
        "GIT_SEQUENCE_EDITOR",
        "GIT_ATTR_NOSYSTEM",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_CONFIG_GLOBAL",
    }
    (repo / "README.md").write_text("changed\n")
    assert " M README.md" in runtime_git_on(repo)  # the repository asked for, not GIT_DIR's
    with pytest.raises(HostGitError):
        run_git(GitTarget(repo / ".git", repo), "ls-remote", "ssh://example.invalid/x")
    assert kit.fired() == set()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    for name, (variables, control) in firing.items():  # the controls: one variable each
        kit.clear()
        subprocess.run(
            ["bash", "-c", control], cwd=repo, env={**clean, **variables}, capture_output=True, timeout=60
        )
        assert name in kit.fired(), f"{variables} did not fire"


def test_the_view_sees_the_repository_as_it_is(repo: Path, kit: TrapKit) -> None:
    traps.shell(
        "git checkout -q -b feature && git config core.filemode false && chmod +x app.py && "
        "echo new > new.txt && git config include.path /dev/null",
        repo,
        kit,
    )
    layout = read_layout(repo)
    with repository_view(layout) as view:
        assert (view.git_dir / "config").read_text().count("filemode = false") == 1
        status = run_git(view, "status", "--porcelain", "--branch").stdout.decode().splitlines()
        head = run_git(view, "rev-parse", "HEAD").stdout.decode().strip()
    assert status == ["## feature", "?? new.txt"]  # the mode change is not one (core.filemode false)
    assert head == traps.shell("git rev-parse HEAD", repo, kit).stdout.strip()


def test_a_sha256_repository_and_a_linked_worktree(tmp_path: Path, kit: TrapKit) -> None:
    main = tmp_path / "main"
    made = traps.shell(
        f"git init -q --object-format=sha256 {main} && cd {main} && echo a > a && "
        "git add a && git commit -qm a && git worktree add -q ../linked",
        tmp_path,
        kit,
    )
    assert made.returncode == 0, made.stderr
    layout = find_repository(tmp_path / "linked")
    assert layout is not None and layout.common_dir == main / ".git"
    assert layout.git_dir == main / ".git" / "worktrees" / "linked"
    with repository_view(layout) as view:
        assert len(run_git(view, "rev-parse", "HEAD").stdout.decode().strip()) == 64
    (layout.git_dir / "gitdir").write_text(f"{tmp_path / 'someone-else' / '.git'}\n")
    with pytest.raises(GitDirRefusedError, match="whose worktree it claims to be"):
        find_repository(tmp_path / "linked")


def test_a_symlinked_git_dir_is_refused(repo: Path, tmp_path: Path) -> None:
    (repo / ".git").rename(tmp_path / "moved.git")
    (repo / ".git").symlink_to(tmp_path / "moved.git")
    with pytest.raises(GitDirRefusedError, match="symbolic link"):
        find_repository(repo)


def test_a_separate_git_dir_outside_the_work_tree_is_used_but_its_config_is_not(
    tmp_path: Path, kit: TrapKit
) -> None:
    ws = tmp_path / "sep"
    made = traps.shell(
        f"git init -q --separate-git-dir {tmp_path / 'sep.git'} {ws} && cd {ws} && "
        'git config core.fsmonitor "$FIRE separate"',
        tmp_path,
        kit,
    )
    assert made.returncode == 0, made.stderr
    (ws / "a.txt").write_text("a\n")
    layout = find_repository(ws)
    assert layout is not None and layout.git_dir == tmp_path / "sep.git"
    with repository_view(layout) as view:
        assert "?? a.txt" in run_git(view, "status", "--porcelain").stdout.decode()
    assert kit.fired() == set()
    traps.shell("git status", ws, kit)
    assert kit.fired() == {"separate"}


def test_the_safety_options_follow_the_subcommand() -> None:
    target = GitTarget(Path("/nonexistent"))
    argv = git_command(target, ("diff", "a", "b"))
    assert argv[argv.index("diff") + 1 : argv.index("diff") + 3] == ["--no-ext-diff", "--no-textconv"]
    assert git_command(target, ("status",))[-1] == "--ignore-submodules=all"
    assert git_command(target, ("commit", "-m", "x"))[-4:] == ["--no-verify", "--no-gpg-sign", "-m", "x"]
    assert "--no-pager" in argv and f"core.hooksPath={os.devnull}" in argv


def test_a_git_blocked_on_a_fifo_is_stopped(repo: Path) -> None:
    (repo / "app.py").write_text("print('changed')\n")
    os.mkfifo(repo / ".gitattributes")  # git opens it to look for a filter, and waits for a writer
    with pytest.raises(HostGitError, match="did not finish in 1s"):
        run_git(GitTarget(repo / ".git", repo), "add", "app.py", timeout=1)
