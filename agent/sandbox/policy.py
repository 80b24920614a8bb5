"""One filesystem policy per run: what bash and every file tool may see and change.

A policy is a set of rules, each a resolved absolute path and a level. For any path, the deepest
rule at or above it decides, as nested mounts do:

- `write`: read and change (the workspace and the extra roots);
- `read`: read only (the system, toolchain folders in HOME, protected files inside a root);
- `scratch`: bash gets a private, empty, writable folder here (/tmp, /dev/shm); the file tools
  see nothing;
- `hidden`: nothing, for anyone (the user's HOME outside its allowlist, the runtime's own data,
  the host's /proc and /run).

bubblewrap turns the rules into mounts (`agent.sandbox.bwrap`); the file tools ask `check` before
they open, and open without following a link (`tools._fs`), so what they reach is what was
checked. Bypass mode removes asks, never a rule of this policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agent.errors import PolicyDeniedError

Level = Literal["hidden", "scratch", "read", "write"]
Access = Literal["read", "write"]

_ALLOWS: dict[Level, frozenset[str]] = {
    "hidden": frozenset(),
    "scratch": frozenset(),
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

    def rule_for(self, path: Path) -> PathRule:
        """The deepest rule at or above `path` (which must be absolute and resolved)."""
        best: PathRule | None = None
        for rule in self.rules:
            if (path == rule.path or path.is_relative_to(rule.path)) and (
                best is None or len(rule.path.parts) > len(best.path.parts)
            ):
                best = rule
        if best is None:
            raise ValueError(f"the policy has no rule for / (asked about {path})")
        return best

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
