"""One filesystem policy per run: what bash and every file tool may see and change.

A policy is a set of rules, each a resolved absolute path and a level. For any path, the deepest
rule at or above it decides, as nested mounts do:

- `write`: read and change (the workspace and the extra roots);
- `read`: read only (the system, toolchain folders in HOME, protected files inside a root);
- `private`: bash gets its own empty instance here (a size-limited writable /tmp, /dev/shm, /run
  and HOME, its own /dev and /proc); the file tools see nothing of the host's;
- `hidden`: nothing, for anyone (the runtime's own data).

The user's HOME is private to bash except for an allowlist of toolchain folders, read-only: a
list of known secrets is always one file short. When two rules name the same path, the later
one decides (a workspace that is HOME itself is writable).

bubblewrap turns the rules into mounts (`agent.sandbox.bwrap`); the file tools ask `check` before
they open, and open without following a link (`tools._fs`), so what they reach is what was
checked. Bypass mode removes asks, never a rule of this policy.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from agent.errors import PolicyDeniedError
from agent.sandbox._gitdirs import protected_git_paths

if TYPE_CHECKING:
    from agent.registry.schema import SandboxConfig

Level = Literal["hidden", "private", "read", "write"]
Access = Literal["read", "write"]

_ALLOWS: dict[Level, frozenset[str]] = {
    "hidden": frozenset(),
    "private": frozenset(),
    "read": frozenset({"read"}),
    "write": frozenset({"read", "write"}),
}


@dataclass(frozen=True, eq=False, repr=False)
class PathRule:
    """One path and what may be done at and below it (until a deeper rule says otherwise)."""

    path: Path
    """Absolute and resolved (no symlink in it)."""
    level: Level
    why: str
    """Why, in words a refusal can show: "the user's home (only toolchain folders are visible)"."""
    stand_in: Literal["file", "folder"] | None = None
    """For a credential a writable root takes in: what stands in its place, empty and read-only,
    for the length of a bash call while it does not exist (`agent.sandbox._mounts`), so that bash
    cannot create one; None: nothing does."""


@dataclass(frozen=True, eq=False, repr=False)
class FsPolicy:
    """The rules of one run; `/` always has one."""

    rules: tuple[PathRule, ...]

    @functools.cached_property
    def _by_path(self) -> dict[str, PathRule]:
        """Each rule by its path; of two rules of one path, the later."""
        return {str(rule.path): rule for rule in self.rules}

    def rule_for(self, path: Path) -> PathRule:
        """The deepest rule at or above `path` (which must be absolute and resolved)."""
        by_path = self._by_path
        text = str(path)
        while True:  # from `path` up to `/`: a dict lookup per level (the file tools ask often)
            if (rule := by_path.get(text)) is not None:
                return rule
            parent = os.path.dirname(text)
            if parent == text:
                raise ValueError(f"the policy has no rule for / (asked about {path})")
            text = parent

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
    ".cargo/bin",
    ".cargo/registry",
    ".cargo/git",
    ".rustup",
    ".pyenv",
    ".local/bin",
    ".local/lib",
    ".local/share/uv",
    ".local/share/pnpm",
    ".local/share/mise",
    ".nvm",
    ".npm",
    ".bun",
    ".deno",
    ".volta",
    ".sdkman",
    ".asdf",
    ".tool-versions",
    "go",
    ".m2/repository",
    ".gradle/caches",
    ".gradle/wrapper",
    ".cache/pip",
    ".cache/uv",
    ".cache/go-build",
    ".cache/pypoetry",
    ".cache/yarn",
    ".cache/node-gyp",
    ".cache/ms-playwright",
    "miniconda3",
    "miniforge3",
    "anaconda3",
)
"""What of HOME a build needs (toolchains and package caches, never their credentials), read-only;
the rest of HOME is replaced by bash's own empty one. Relative to HOME. The config's
`sandbox.home_visible` adds to it."""

PROTECTED: tuple[str, ...] = (
    ".git/config",
    ".git/config.worktree",
    ".git/hooks",
    ".git/commondir",
    ".git/worktrees",
    ".git/modules",
    ".subagent",
    ".claude",
    ".opencode",
    "agents.yaml",
    "opencode.json",
    "opencode.jsonc",
    ".mcp.json",
)
"""Inside every writable root, read-only: what git runs on the host, and what decides a later run's
powers. Relative to the root. A `.git` file's git dir, its common dir and the `core.hooksPath`
folder are added per repository (`agent.sandbox._gitdirs`)."""

HOME_SECRET_FOLDERS: tuple[str, ...] = (
    ".ssh",
    ".gnupg",
    ".aws",
    ".azure",
    ".config/gcloud",
    ".kube",
    ".docker",
    ".config/containers",
    ".config/git",
    ".config/gh",
    ".config/pip",
    ".terraform.d",
    ".config/composer",
    ".config/sops",
    ".cache/huggingface",
    ".config/rclone",
    ".config/op",
    ".password-store",
    ".local/share/keyrings",
    ".mozilla",
    ".config/google-chrome",
    ".config/chromium",
    ".claude",
    ".config/anthropic",
)
"""The known credentials that are folders (relative to HOME); their placeholder is an empty folder."""

HOME_SECRET_FILES: tuple[str, ...] = (
    ".netrc",
    ".pgpass",
    ".git-credentials",
    ".gitconfig",
    ".config/hub",
    ".npmrc",
    ".yarnrc",
    ".yarnrc.yml",
    ".pypirc",
    ".vault-token",
    ".terraformrc",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".gem/credentials",
    ".m2/settings.xml",
    ".gradle/gradle.properties",
    ".composer/auth.json",
    ".s3cfg",
    ".boto",
    ".claude.json",
    ".bash_history",
    ".zsh_history",
    ".python_history",
    ".psql_history",
    ".mysql_history",
    ".lesshst",
    ".viminfo",
)
"""The known credentials that are files: their placeholder is an empty file (a folder at `~/.gitconfig`
would stop every git command)."""

HOME_SECRETS = HOME_SECRET_FOLDERS + HOME_SECRET_FILES
"""Where a writable root takes them in (HOME made the workspace, a folder of HOME added), so the
allowlist cannot apply: these known credentials stay hidden there, and one that does not exist
yet cannot be created by bash (an empty read-only placeholder stands there during each call).
Relative to HOME."""

_PRIVATE = ("/tmp", "/dev/shm", "/dev", "/proc", "/run")


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _protected(roots: Sequence[Path], home: Path) -> Iterator[tuple[Path, str]]:
    """Each protected path of each root, and why; a symlink's target too (what a tool reaches)."""
    for root in roots:
        for rel in PROTECTED:
            yield root / rel, f"protected: {rel} decides what runs later (read-only)"
        for path in protected_git_paths(root, home):
            yield path, "protected: git runs what this decides (read-only)"
    for root in roots:
        for rel in PROTECTED:
            if (root / rel).is_symlink():
                yield _real(root / rel), f"protected: {rel} (through its link) decides what runs later"


def _kept_from_roots(base: FsPolicy, roots: Sequence[Path], home: Path) -> list[PathRule]:
    """The user's credentials and own config where a writable root takes them in (HOME made the
    workspace, `--add-dir ~/.config`): a credential is hidden, and stood in for while it is missing
    (`PathRule.stand_in`); the runtime's and Claude Code's
    user config (`config_home()`, `claude_home()`: what every later run may do, and tokens) is
    hidden, made empty first where it does not exist yet (`_made`).
    A root that is itself one of them is the user's own choice and stays as it is."""
    from agent.paths import claude_home, config_home

    def inside(path: Path) -> bool:
        return path not in roots and base.rule_for(path).level == "write"

    kept = {
        path: PathRule(
            path,
            "hidden",
            "a credential in the user's home",
            "file" if rel in HOME_SECRET_FILES else "folder",
        )
        for rel, path in ((rel, _real(home / rel)) for rel in HOME_SECRETS)
        if inside(path)
    }
    for own in (_real(config_home()), _real(claude_home())):
        if inside(own):
            exists = os.path.lexists(own) or _made(own)
            why = "the user's own config decides what later runs may do" + ("" if exists else " (read-only)")
            kept[own] = PathRule(own, "hidden" if exists else "read", why)
    return list(kept.values())


def _made(folder: Path) -> bool:
    """Make the user's missing config folder (empty, 0700, as the runtime or Claude Code would) so
    that it can be hidden: a read-only placeholder there would stand in the way of `subagent
    trust`, an MCP approval or Claude Code while a call runs, and stay if the process were killed.
    False when it cannot be made (then a placeholder protects it)."""
    from agent.paths import make_private_folder

    try:
        make_private_folder(folder)
    except OSError:
        return False
    return True


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
        home: the user's HOME (private to bash but for `home_visible`); default `Path.home()`.
        data_dir: the runtime's own data (sessions, checkpoints, worktrees), hidden.
        outputs: this session's saved outputs, readable (the model is told to read them back).
        home_visible: folders of HOME left readable, relative to it.
        extra_readable: more paths left readable wherever they are (the runtime's own rg, say).
    """
    rules = [PathRule(Path("/"), "read", "outside the workspace everything is read-only")]
    rules += [PathRule(Path(p), "private", f"the host's {p} (bash has a private one)") for p in _PRIVATE]
    user_home = _real(home or Path.home())
    rules.append(
        PathRule(user_home, "private", "the user's home is hidden; only toolchain folders are visible")
    )
    if data_dir is not None:
        rules.append(PathRule(_real(data_dir), "hidden", "the runtime's own data (sessions, checkpoints)"))
    roots = [_real(root) for root in (workspace, *extra_roots)]
    rules += [PathRule(root, "write", "a workspace root") for root in roots]
    base = FsPolicy(tuple(rules))
    rules += _kept_from_roots(base, roots, user_home)
    base = FsPolicy(tuple(rules))
    readable = [(_real(user_home / rel), "a toolchain folder in HOME") for rel in home_visible]
    readable += [(_real(p), "a path the runtime itself needs") for p in extra_readable]
    if outputs is not None:
        readable.append((_real(outputs), "this session's saved outputs"))
    # A readable folder only opens what is hidden; a protected one only narrows a root: so inside
    # a root a read rule always means protected, and no rule un-hides what another one hid.
    wanted = {path: why for path, why in readable if base.rule_for(path).level in ("private", "hidden")}
    wanted |= {
        path: why for path, why in _protected(roots, user_home) if base.rule_for(path).level == "write"
    }
    return FsPolicy((*rules, *(PathRule(path, "read", why) for path, why in wanted.items())))


def extra_roots_of(config: SandboxConfig, workspace: Path) -> tuple[Path, ...]:
    """The config's extra writable roots, resolved: relative to the workspace, `~` expanded. The
    one reading of `extra_roots`, for the policy and the file tools' roots alike."""
    return tuple(_real(workspace / Path(root).expanduser()) for root in config.extra_roots)


def policy_for(
    config: SandboxConfig,
    workspace: Path,
    *,
    data_dir: Path | None = None,
    outputs: Path | None = None,
    home: Path | None = None,
    extra_readable: Sequence[Path] = (),
) -> FsPolicy:
    """The policy of a run from its `sandbox:` config: the extra roots (relative to the
    workspace, `~` expanded) and the folders of HOME it adds to the defaults; see `build_policy`."""
    return build_policy(
        workspace=workspace,
        extra_roots=extra_roots_of(config, workspace),
        home=home,
        data_dir=data_dir,
        outputs=outputs,
        home_visible=(*DEFAULT_HOME_VISIBLE, *config.home_visible),
        extra_readable=extra_readable,
    )
