"""The run's FsPolicy as bubblewrap mounts: one policy, enforced for bash by the kernel.

Each rule becomes a mount where it changes what is above it, shallower rules first so deeper
ones land on top (as the policy's "deepest rule decides"):

- `read`: `--ro-bind` (`/` first); inside a writable root that is a protected path;
- `write`: `--bind`;
- `hidden`: an empty tmpfs made read-only at the very end (bubblewrap must first create the
  mount points of deeper rules in it), or `/dev/null` over a file;
- `private`: `--dev /dev`, `--proc /proc`, a size-limited tmpfs elsewhere (/tmp, /dev/shm,
  /run, HOME); /run keeps the host's name-service folders only when the network is on (without
  it, systemd-resolved's socket would still carry DNS queries out).

Mounts are worked out afresh on every call: what exists changes between calls. A path with a
symlink in it is never given to bubblewrap (it would mount over the link's target, wherever that
is); such a protected path, and a protected path that does not exist where an empty folder would
break git (`.git/commondir`, `.git/config`), are watched instead: whatever the call made there is
removed when it ends, when no process of the call is left. Every other missing protected path
gets an empty read-only placeholder (`agent.sandbox._placeholder`), and so does a missing
credential a writable root takes in (`~/.netrc` with `--add-dir ~`: an empty file; `~/.config/gh`:
an empty folder), at the credential itself: the missing folders on its way (`~/.cache` for
`~/.cache/huggingface`) are made first as the user's ordinary folders (0700, and kept), so that
`~/.cache/pip` or `~/.m2/repository` can still be made beside it. The folders between a
writable root and a protected path or a credential are bound onto themselves, so they cannot be
renamed away and replaced (`mv .git x && mkdir -p .git/hooks`).
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from agent.nofollow import subfolder
from agent.sandbox._placeholder import Placeholder, release_later
from agent.sandbox._sockets import reachable_sockets
from agent.sandbox.policy import FsPolicy, Level

WATCH_ONLY = frozenset({"config", "config.worktree", "commondir", "gitdir"})
"""Names git reads inside a git dir: an empty folder there would stop git, so they are watched."""
NAME_SERVICE = ("/run/systemd/resolve", "/run/resolvconf")
"""What of the host's /run stays visible with the network on: /etc/resolv.conf often points here."""

_Signature = tuple[int, int, int, str] | None


@dataclass(frozen=True, eq=False, repr=False)
class _Step:
    """One mount of a call's sandbox: `path` at `level`."""

    path: Path
    level: Level | None
    """None for an anchor: a folder bound onto itself so it cannot be renamed."""
    before: Level | None
    """What bash would see at `path` without this step."""
    stand_in: Literal["file", "folder"] | None = None
    """The rule's `PathRule.stand_in`: what stands there while it is missing."""


def _signature(path: Path) -> _Signature:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    link = os.readlink(path) if stat.S_ISLNK(info.st_mode) else ""
    return (info.st_mode, info.st_ino, info.st_dev, link)


def _is_real(path: Path) -> bool:
    """Exists, and no component (itself included) is a symlink."""
    return os.path.lexists(path) and os.path.realpath(path) == str(path)


def _remove(path: Path) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.unlink(path)


_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _make_way(path: Path) -> None:
    """Make the missing folders above the credential `path` as the user's ordinary folders (0700,
    whatever the umask): an empty read-only placeholder at `~/.cache` for `~/.cache/huggingface`
    would stop pip, go and cargo from making their own folders beside it, in the sandbox and out.
    Each is made and entered through its parent's descriptor, never through a link."""
    missing: list[str] = []
    folder = path.parent
    while not os.path.lexists(folder):
        missing.append(folder.name)
        folder = folder.parent
    if not missing or not _is_real(folder):
        return  # nothing to make; or a link on the way (it leads out of the root)
    try:
        fd = os.open(folder, _FOLDER)
    except OSError:
        return
    try:
        for name in reversed(missing):
            inner = subfolder(fd, name, 0o700)
            os.close(fd)
            fd = inner
    except OSError:
        return  # not writable to the user: the placeholder stands at the first missing folder
    finally:
        os.close(fd)


@dataclass(eq=False, repr=False)
class CallMounts:
    """The mounts of one call, and what to undo or check when it ends."""

    args: list[str]
    root: Path
    """The first writable root, for showing paths."""
    held: list[Placeholder] = field(default_factory=list)
    watched: dict[Path, _Signature] = field(default_factory=dict)

    def finish(self) -> list[str]:
        """Undo what the call made at watched paths, and say what; release the placeholders.

        Called once no process of the call is left, so nothing can race the undo.
        """
        release_later(self.held)
        notes = []
        for path, before in self.watched.items():
            if _signature(path) == before:
                continue
            _remove(path)
            if before is not None and before[3]:
                os.symlink(before[3], path)
            shown = path.relative_to(self.root) if path.is_relative_to(self.root) else path
            notes.append(f"[sandbox: undid the change to {shown}: it decides what runs later (protected)]")
        return notes


class MountPlan:
    """The static part of a policy's mounts, worked out once per sandbox."""

    def __init__(self, policy: FsPolicy, *, network: bool, tmp_size_mb: int) -> None:
        self.policy = policy
        self.network = network
        self.tmp_bytes = str(max(tmp_size_mb, 1) * 1024 * 1024)  # size 0 would mean no limit
        self.steps = self._steps(policy)
        roots = policy.writable_roots
        self.root = roots[0] if roots else Path("/")

    @staticmethod
    def _steps(policy: FsPolicy) -> list[_Step]:
        rules = sorted(policy.rules, key=lambda r: len(r.path.parts))
        steps: list[_Step] = []
        for index, rule in enumerate(rules):
            before = FsPolicy(tuple(rules[:index])).rule_for(rule.path) if index else None
            if rule.level in ("read", "hidden") and before is not None and before.level == "write":
                steps += [
                    _Step(folder, None, "write")
                    for folder in reversed(rule.path.parents)
                    if folder.is_relative_to(before.path) and folder != before.path
                ]
            steps.append(_Step(rule.path, rule.level, before.level if before else None, rule.stand_in))
        unique = {(s.path, s.level): s for s in steps}  # an anchor shared by two protected paths
        return sorted(unique.values(), key=lambda s: len(s.path.parts))

    def prepare(self) -> CallMounts:
        """The mounts for a call starting now."""
        call = CallMounts([], self.root)
        remount: list[str] = []
        for step in self.steps:
            if step.stand_in is not None and step.before == "write":
                _make_way(step.path)  # before the anchors: they bind what it makes
        try:
            for step in self.steps:
                if step.level is None:
                    if _is_real(step.path) and step.path.is_dir():
                        call.args += ["--bind", str(step.path), str(step.path)]
                elif step.level == "private":
                    call.args += self._private(step.path)
                elif step.level != step.before:
                    remount += self._rule(step, call)
        except BaseException:
            release_later(call.held)  # no call will finish them
            raise
        for socket in reachable_sockets(self.policy):
            call.args += ["--ro-bind", "/dev/null", str(socket)]  # connect() is refused
        for path in remount:
            call.args += ["--remount-ro", path]
        return call

    def _private(self, path: Path) -> list[str]:
        if str(path) in ("/dev", "/proc"):
            return [f"--{path.name}", str(path)]
        if not (_is_real(path) and path.is_dir()):
            return []
        args = ["--size", self.tmp_bytes, "--tmpfs", str(path)]
        if str(path) == "/run" and self.network:
            for keep in NAME_SERVICE:
                args += ["--ro-bind-try", keep, keep]
        return args

    def _rule(self, step: _Step, call: CallMounts) -> list[str]:
        """The mount of one read, write or hidden rule; the paths to make read-only at the end."""
        path, text = step.path, str(step.path)
        if step.level == "read" and step.before == "write":
            self._protected(path, call)
            return []
        if step.stand_in is not None and step.before == "write" and not os.path.lexists(path):
            self._stand_in(path, step.stand_in, call)
            return []
        if not _is_real(path):
            return []
        if step.level == "write":
            call.args += ["--bind", text, text]
        elif step.level == "read":
            call.args += ["--ro-bind", text, text]
        elif step.before in ("read", "write"):  # hidden
            if not path.is_dir():
                call.args += ["--dev-bind", "/dev/null", text]  # reads as empty
                return []
            call.args += ["--tmpfs", text]
            return [text]
        return []

    @staticmethod
    def _stand_in(path: Path, kind: Literal["file", "folder"], call: CallMounts) -> None:
        """A credential a writable root takes in that does not exist: an empty read-only
        placeholder there for the call, so bash cannot create one that the user's own tools would
        trust after it. `_make_way` made the folders on its way; where it could not, the
        placeholder stands at the first missing one."""
        top = path
        while not os.path.lexists(top.parent):
            top = top.parent
        if not _is_real(top.parent) or any(top.is_relative_to(held.path) for held in call.held):
            return  # a link on the way (it leads out of the root); or a placeholder above serves
        try:
            placeholder = Placeholder.hold(top, file=kind == "file" and top == path)
        except OSError:
            return  # its folder is not writable, to the user nor to bash
        if placeholder is not None:  # else something real appeared there meanwhile: hidden next call
            call.held.append(placeholder)
            call.args += ["--ro-bind", str(top), str(top)]

    @staticmethod
    def _protected(path: Path, call: CallMounts) -> None:
        """A protected path: read-only as it is, a placeholder where it is missing, else watched.

        `Placeholder.hold` makes the placeholder or joins one (another call's), under its lock,
        so no other call's cleanup can remove it from under this one.
        """
        if _is_real(path.parent) and path.name not in WATCH_ONLY:
            placeholder = Placeholder.hold(path)
            if placeholder is not None:
                call.held.append(placeholder)
                call.args += ["--ro-bind", str(path), str(path)]
                return
        if _is_real(path):
            call.args += ["--ro-bind", str(path), str(path)]
        elif not any(folder.name == ".git" and not os.path.lexists(folder) for folder in path.parents):
            call.watched[path] = _signature(path)  # (inside a missing .git: a fresh `git init`)
