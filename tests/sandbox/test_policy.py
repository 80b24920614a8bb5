"""The policy's one rule of decision: the deepest rule at or above a path decides."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import PolicyDeniedError, ToolFailure
from agent.sandbox.policy import FsPolicy, PathRule, build_policy

HOME = Path("/home/u")
WS = HOME / "project"
POLICY = FsPolicy((
    PathRule(Path("/"), "read", "the system"),
    PathRule(Path("/tmp"), "private", "the host's /tmp"),
    PathRule(HOME, "hidden", "the user's home"),
    PathRule(HOME / ".cargo", "read", "a toolchain folder"),
    PathRule(WS, "write", "the workspace"),
    PathRule(WS / ".git" / "config", "read", "protected: git's config runs code"),
))


@pytest.mark.parametrize(("path", "read", "write"), [
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
])
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
