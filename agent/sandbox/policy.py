"""One filesystem policy per run: what bash and every file tool may see and change.

A policy is a set of rules, each a resolved absolute path and a level. For any path, the deepest
rule at or above it decides, as nested mounts do:

- `write`: read and change (the workspace and the extra roots);
- `read`: read only (the system, toolchain folders in HOME, protected files inside a root);
- `private`: bash gets its own instance here (an empty writable /tmp and /dev/shm, its own /dev
  and /proc); the file tools see nothing of the host's;
- `hidden`: nothing, for anyone (the user's HOME outside its allowlist, the runtime's own data,
  the host's /proc and /run).

bubblewrap turns the rules into mounts (`agent.sandbox.bwrap`); the file tools ask `check` before
they open, and open without following a link (`tools._fs`), so what they reach is what was
checked. Bypass mode removes asks, never a rule of this policy.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from agent.errors import PolicyDeniedError

Level = Literal["hidden", "private", "read", "write"]
Access = Literal["read", "write"]

_ALLOWS: dict[Level, frozenset[str]] = {
    "hidden": frozenset(),
    "private": frozenset(),
    "read": frozenset({"read"}),
    "write": frozenset({"read", "write"}),
}


@dataclass(frozen=True)
class PathRule:
    """One path and what may be done at and below it (until a deeper rule says otherwise)."""

    path: Path
    """Absolute and resolved (no symlink in it)."""
    level: Level
    why: str
    """Why, in words a refusal can show: "the user's home (only toolchain folders are visible)"."""


@dataclass(frozen=True)
class FsPolicy:
    """The rules of one run; `/` always has one."""

    rules: tuple[PathRule, ...]

    @cached_property
    def _by_path(self) -> dict[str, PathRule]:
        """Each rule by its path (the first of several at one path), for a walk up a path's parents."""
        index: dict[str, PathRule] = {}
        for rule in self.rules:
            index.setdefault(str(rule.path), rule)
        return index

    def rule_for(self, path: Path) -> PathRule:
        """The deepest rule at or above `path` (which must be absolute and resolved).

        A walk up the path's parents in an index: every file tool asks before every open, and a
        scan of all the rules cost more than the read it guarded.
        """
        index = self._by_path
        current = str(path)
        while True:
            rule = index.get(current)
            if rule is not None:
                return rule
            if current == "/":
                raise ValueError(f"the policy has no rule for / (asked about {path})")
            current = current.rsplit("/", 1)[0] or "/"

    def allows(self, path: Path, access: Access) -> bool:
        """Whether `access` to `path` (absolute, resolved) is allowed."""
        return access in _ALLOWS[self.rule_for(path).level]

    def check(self, path: Path, access: Access, shown: str | None = None) -> None:
        """Refuse `access` to `path` (absolute, resolved), naming the rule that decided.

        Raises:
            PolicyDeniedError: the deepest rule at or above `path` does not allow `access`.
        """
        rule = self.rule_for(path)
        if access not in _ALLOWS[rule.level]:
            raise PolicyDeniedError(shown or str(path), access, rule.why)

    def below(self, path: Path) -> tuple[PathRule, ...]:
        """The rules strictly below `path`: what a search rooted at `path` must treat differently."""
        return tuple(r for r in self.rules if r.path != path and r.path.is_relative_to(path))

    @property
    def writable_roots(self) -> tuple[Path, ...]:
        """Every path with a `write` rule, shallowest first."""
        return tuple(sorted((r.path for r in self.rules if r.level == "write"), key=lambda p: len(p.parts)))


DEFAULT_HOME_VISIBLE: tuple[str, ...] = (
    ".cargo/bin", ".cargo/registry", ".cargo/git", ".rustup", ".pyenv", ".local/bin", ".local/lib",
    ".nvm", ".npm", ".bun", ".deno", ".volta", ".sdkman", ".asdf", ".local/share/mise", "go",
    ".m2/repository", ".gradle/caches", ".gradle/wrapper", ".cache/pip", ".cache/uv", ".cache/go-build",
    ".cache/pypoetry", ".cache/yarn",
)
"""What of HOME a build needs (toolchains and package caches, never their credentials); the rest of
HOME is hidden. Relative to HOME."""

PROTECTED: tuple[str, ...] = (
    ".git/config", ".git/hooks", ".git/commondir", ".git/worktrees", ".git/modules",
    ".subagent", ".claude", ".opencode", "agents.yaml", "opencode.json", "opencode.jsonc", ".mcp.json",
)
"""Inside every writable root, read-only: what git runs on the host, and what decides a later run's
powers. Relative to the root."""

_PRIVATE = ("/tmp", "/dev/shm", "/dev", "/proc", "/run")


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def build_policy(
    *,
    workspace: Path,
    extra_roots: Sequence[Path] = (),
    home: Path | None = None,
    data_dir: Path | None = None,
    outputs: Path | None = None,
    home_visible: Sequence[str] = DEFAULT_HOME_VISIBLE,
    extra_readable: Sequence[Path] = (),
) -> FsPolicy:
    """The policy of one run.

    Args:
        workspace: the primary writable root.
        extra_roots: more writable roots (the config's `extra_roots`).
        home: the user's HOME (hidden but for `home_visible`); default `Path.home()`.
        data_dir: the runtime's own data (sessions, checkpoints, worktrees), hidden.
        outputs: this session's saved outputs, readable (the model is told to read them back).
        home_visible: folders of HOME left readable, relative to it.
        extra_readable: more paths left readable wherever they are (the runtime's own rg, say).
    """
    rules = [PathRule(Path("/"), "read", "outside the workspace everything is read-only")]
    rules += [PathRule(Path(p), "private", f"the host's {p} (bash has a private one)") for p in _PRIVATE]
    user_home = _real(home or Path.home())
    rules.append(PathRule(user_home, "hidden",
                          "the user's home is hidden; only toolchain folders are visible"))
    rules += [PathRule(_real(user_home / rel), "read", "a toolchain folder in HOME") for rel in home_visible]
    if data_dir is not None:
        rules.append(PathRule(_real(data_dir), "hidden", "the runtime's own data (sessions, checkpoints)"))
    if outputs is not None:
        rules.append(PathRule(_real(outputs), "read", "this session's saved outputs"))
    rules += [PathRule(_real(p), "read", "a path the runtime itself needs") for p in extra_readable]
    for root in (workspace, *extra_roots):
        real = _real(root)
        rules.append(PathRule(real, "write", "a workspace root"))
        rules += [PathRule(real / rel, "read", f"protected: {rel} decides what runs later (read-only)")
                  for rel in PROTECTED]
    return FsPolicy(tuple(rules))
