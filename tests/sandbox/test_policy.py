"""The policy's one rule of decision: the deepest rule at or above a path decides."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.errors import PolicyDeniedError, ToolFailure
from agent.sandbox.policy import FsPolicy, PathRule, build_policy

HOME = Path("/home/u")
WS = HOME / "project"
POLICY = FsPolicy(
    (
        PathRule(Path("/"), "read", "the system"),
        PathRule(Path("/tmp"), "private", "the host's /tmp"),
        PathRule(HOME, "hidden", "the user's home"),
        PathRule(HOME / ".cargo", "read", "a toolchain folder"),
        PathRule(WS, "write", "the workspace"),
        PathRule(WS / ".git" / "config", "read", "protected: git's config runs code"),
    )
)


@pytest.mark.parametrize(
    ("path", "read", "write"),
    [
        ("/usr/include/stdio.h", True, False),
        ("/tmp/x", False, False),
        ("/home/u/.ssh/id_rsa", False, False),
        ("/home/u", False, False),
        ("/home/u/.cargo/bin/cargo", True, False),
        ("/home/u/project", True, True),
        ("/home/u/project/src/app.py", True, True),
        ("/home/u/project/.git/config", True, False),
        ("/home/u/project/.git/objects/ab", True, True),
        ("/home/u/projectX/file", False, False),
    ],
)
def test_the_deepest_rule_decides(path: str, read: bool, write: bool) -> None:
    assert POLICY.allows(Path(path), "read") is read
    assert POLICY.allows(Path(path), "write") is write


def test_a_refusal_names_the_path_and_the_rule() -> None:
    with pytest.raises(PolicyDeniedError) as caught:
        POLICY.check(Path("/home/u/.ssh/id_rsa"), "read", shown="~/.ssh/id_rsa")
    assert isinstance(caught.value, ToolFailure)
    assert str(caught.value) == "~/.ssh/id_rsa: read refused by the sandbox policy: the user's home"


def test_rules_below_a_search_root_and_the_writable_roots() -> None:
    assert [r.path for r in POLICY.below(HOME)] == [HOME / ".cargo", WS, WS / ".git" / "config"]
    assert POLICY.writable_roots == (WS,)


def test_the_default_policy_of_a_run(tmp_path: Path) -> None:
    home, ws, data = tmp_path / "home", tmp_path / "home" / "ws", tmp_path / "home" / ".local/share/subagent"
    policy = build_policy(workspace=ws, home=home, data_dir=data, outputs=data / "outputs" / "s1")
    assert not policy.allows(home / ".ssh" / "id_rsa", "read")
    assert policy.allows(home / ".cargo" / "bin" / "cargo", "read")
    assert not policy.allows(home / ".cargo" / "credentials.toml", "read")
    assert policy.allows(ws / "src" / "a.py", "write")
    assert not policy.allows(ws / ".git" / "hooks" / "pre-commit", "write")
    assert policy.allows(ws / ".git" / "objects" / "ab" / "cd", "write")
    assert not policy.allows(ws / ".subagent" / "config.yaml", "write")
    assert not policy.allows(data / "sessions.db", "read")
    assert policy.allows(data / "outputs" / "s1" / "bash-1.txt", "read")
    assert not policy.allows(Path("/proc/self/environ"), "read")
    assert not policy.allows(Path("/tmp/x"), "read")
    assert policy.allows(Path("/usr/bin/env"), "read") and not policy.allows(Path("/usr/bin/env"), "write")


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_hooks_path_and_a_worktrees_git_dir_are_protected(tmp_path: Path) -> None:
    home, main = tmp_path / "home", tmp_path / "main"
    home.mkdir()
    main.mkdir()
    _git("init", "-q", cwd=main)
    _git("config", "core.hooksPath", ".husky/_", cwd=main)
    _git("-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "x", cwd=main)
    _git("worktree", "add", "-q", str(tmp_path / "wt"), cwd=main)
    policy = build_policy(workspace=main, extra_roots=[tmp_path / "wt"], home=home)
    assert not policy.allows(main / ".husky" / "_" / "pre-commit", "write")
    assert policy.allows(main / ".husky" / "other", "write")
    wt_git = main / ".git" / "worktrees" / "wt"
    assert not policy.allows(tmp_path / "wt" / ".git", "write")  # the pointer file
    assert not policy.allows(wt_git / "commondir", "write")
    assert not policy.allows(tmp_path / "wt" / ".husky" / "_" / "x", "write")  # relative to its tree


def test_a_git_dir_outside_the_roots_adds_no_rule(tmp_path: Path) -> None:
    """Protection narrows a root; it never makes a hidden git dir readable."""
    home = tmp_path / "home"
    (home / ".repos" / "x.git").mkdir(parents=True)
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / ".git").write_text(f"gitdir: {home / '.repos' / 'x.git'}\n")
    policy = build_policy(workspace=ws, home=home)
    assert not policy.allows(home / ".repos" / "x.git" / "config", "read")
    assert not policy.allows(ws / ".git", "write")


def test_a_protected_symlink_protects_its_target_inside_a_root(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "config" / "claude").mkdir(parents=True)
    (ws / ".claude").symlink_to("config/claude")
    policy = build_policy(workspace=ws, home=tmp_path / "home")
    assert not policy.allows(ws / "config" / "claude" / "settings.json", "write")
    assert policy.allows(ws / "config" / "other.json", "write")


def test_home_as_the_workspace_still_hides_known_credentials(tmp_path: Path) -> None:
    home = tmp_path / "home"
    policy = build_policy(workspace=home, home=home)
    assert policy.allows(home / "notes.txt", "write")  # the later rule of the same path decides
    assert not policy.allows(home / ".ssh" / "id_rsa", "read")
    assert not policy.allows(home / ".claude" / "settings.json", "read")


def test_home_visible_adds_to_the_defaults(tmp_path: Path) -> None:
    from agent.registry.schema import SandboxConfig
    from agent.sandbox.policy import policy_for

    home = tmp_path / "home"
    config = SandboxConfig(home_visible=[".config/mytool"], extra_roots=["../shared"])
    policy = policy_for(config, tmp_path / "ws", home=home)
    assert policy.allows(home / ".config" / "mytool" / "x", "read")
    assert policy.allows(home / ".cargo" / "bin" / "cargo", "read")
    assert not policy.allows(home / ".config" / "other", "read")
    assert policy.allows(tmp_path / "shared" / "f", "write")  # relative to the workspace


_NAMES = st.sampled_from(["a", "b", "c", ".git", "x y"])
_PATHS = st.lists(_NAMES, max_size=4).map(lambda parts: Path("/", *parts))
_RULES = st.lists(st.tuples(_PATHS, st.sampled_from(["hidden", "private", "read", "write"])), max_size=8)


@given(rules=_RULES, path=_PATHS)
def test_rule_for_is_the_deepest_rule_and_the_later_of_equals(
    rules: list[tuple[Path, str]], path: Path
) -> None:
    """The lookup by path levels agrees with the definition: of every rule at or above the path,
    the deepest; of two of the same path, the later."""
    policy = FsPolicy(
        (
            PathRule(Path("/"), "read", "root"),
            *(PathRule(p, level, f"rule {i}") for i, (p, level) in enumerate(rules)),
        )
    )  # type: ignore[arg-type]
    above = [r for r in policy.rules if path == r.path or path.is_relative_to(r.path)]
    deepest = max(len(r.path.parts) for r in above)
    assert policy.rule_for(path) == [r for r in above if len(r.path.parts) == deepest][-1]
