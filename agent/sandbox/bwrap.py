"""The bubblewrap sandbox: the OS boundary around every bash call.

Each call gets a fresh mount, PID (and by default network) namespace: `/` read-only, the
workspace and extra roots read-write, a private `/tmp` and `/run`, its own `/dev` and `/proc`,
`.git/hooks` and `.git/config` read-only, secrets in HOME and the runtime's own data hidden, all
capabilities dropped. When the call ends the namespace's init dies, and with it every process.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
from collections.abc import Iterable
from pathlib import Path

from agent.paths import data_home
from agent.sandbox._env import scrub_env
from agent.sandbox.base import ExecResult
from agent.sandbox.process import ProcessLimits, run_process
from tools._paths import is_inside

SECRET_PATHS: tuple[str, ...] = (
    ".ssh", ".aws", ".azure", ".config/gcloud", ".gnupg", ".kube", ".docker", ".netrc", ".pgpass",
    ".config/gh", ".config/hub", ".git-credentials", ".config/git/credentials", ".npmrc", ".pypirc",
    ".vault-token", ".terraform.d", ".cargo/credentials", ".cargo/credentials.toml", ".gem/credentials",
    ".m2/settings.xml", ".gradle/gradle.properties", ".s3cfg", ".boto", ".config/rclone", ".config/op",
    ".password-store", ".local/share/keyrings", ".mozilla", ".config/google-chrome", ".config/chromium",
    ".claude", ".claude.json", ".config/anthropic", ".bash_history", ".zsh_history", ".python_history",
    ".psql_history", ".mysql_history", ".lesshst", ".viminfo",
)
"""Relative to HOME; folders become an empty read-only tmpfs, files become /dev/null."""

_NAME_SERVICE = ("/run/systemd/resolve", "/run/resolvconf")
"""What of the host's /run stays visible: /etc/resolv.conf often points here."""


class BwrapSandbox:
    """Runs each bash call in a new bubblewrap sandbox."""

    name = "bwrap"

    def __init__(
        self,
        workspace: Path,
        extra_roots: Iterable[Path] = (),
        network: bool = False,
        home: Path | None = None,
        limits: ProcessLimits = ProcessLimits(),
        env_extra: Iterable[str] = (),
        *,
        bwrap: str | None = None,
        user_namespace: bool = True,
        disable_nested_userns: bool = True,
    ) -> None:
        self.roots = tuple(p.resolve() for p in (workspace, *extra_roots))
        self.network = network
        self.home = (home or Path.home()).resolve()
        self.limits = limits
        self.env_extra = tuple(env_extra)
        self.bwrap = bwrap or shutil.which("bwrap") or "bwrap"
        self.user_namespace = user_namespace
        self.disable_nested_userns = disable_nested_userns and user_namespace

    def argv(self, command_argv: list[str], cwd: Path) -> list[str]:
        """The full bwrap argv around `command_argv`; mounts are checked afresh on every call."""
        args = [self.bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc",
                "--cap-drop", "ALL"]
        if self.user_namespace:
            args.append("--unshare-user")
        if self.disable_nested_userns:
            args.append("--disable-userns")
        if not self.network:
            args.append("--unshare-net")
        args += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        args += ["--tmpfs", "/tmp", "--tmpfs", "/run"]
        for keep in _NAME_SERVICE:
            args += ["--ro-bind-try", keep, keep]
        args += self._roots_with_data_hidden(data_home().resolve())
        args += self._git_guards()
        for rel in SECRET_PATHS:
            args += self._hide(self.home / rel)
        return [*args, "--chdir", str(cwd), "--", *command_argv]

    def _roots_with_data_hidden(self, data: Path) -> list[str]:
        """Bind the roots, with the runtime's data dir empty and read-only around them.

        The data dir is emptied before the roots are bound (a subagent's worktree may live in it)
        and again after (it may live in the workspace); it turns read-only only at the end, since
        bwrap must create the mount points of roots inside it.
        """
        binds = [arg for root in self.roots for arg in ("--bind", str(root), str(root))]
        if not data.is_dir():
            return binds
        again = ["--tmpfs", str(data)] if is_inside(data.resolve(), self.roots) else []
        return ["--tmpfs", str(data), *binds, *again, "--remount-ro", str(data)]

    @staticmethod
    def _hide(path: Path) -> list[str]:
        if path.is_dir():
            return ["--tmpfs", str(path), "--remount-ro", str(path)]
        if path.exists():
            return ["--dev-bind", "/dev/null", str(path)]  # reads empty; a plain bind would refuse
        return []

    def _git_guards(self) -> list[str]:
        """`.git/hooks` and `.git/config` read-only, so nothing runs later outside the sandbox.

        `.git` itself is bound onto itself so it becomes a mount point: a mount point cannot be
        renamed, so `mv .git elsewhere` followed by a fresh `.git` with writable hooks fails. A
        `.git` file (a worktree's pointer to its git dir) is read-only as a whole.
        """
        args: list[str] = []
        for root in self.roots:
            git = root / ".git"
            if git.is_file():
                args += ["--ro-bind", str(git), str(git)]
            if not git.is_dir():
                continue
            (git / "hooks").mkdir(exist_ok=True)  # else the command could create it, writable
            args += ["--bind", str(git), str(git)]
            for name in ("hooks", "config"):
                if (git / name).exists():
                    args += ["--ro-bind", str(git / name), str(git / name)]
        return args

    async def run(
        self, command: str, *, cwd: Path, timeout_s: float, cancel: asyncio.Event | None = None
    ) -> ExecResult:
        """Run `command` with bash in `cwd` inside a new sandbox; see `run_process`."""
        env = scrub_env(os.environ, extra=self.env_extra, home=str(self.home))
        return await run_process(
            command, wrap=lambda bash: self.argv(bash, cwd), env=env, cwd=cwd,
            timeout_s=timeout_s, limits=self.limits, cancel=cancel,
            orphan_watch=False,  # --die-with-parent already ends the sandbox with the runtime
        )

    async def run_argv(
        self, argv: list[str], *, cwd: Path, timeout_s: float, cancel: asyncio.Event | None = None
    ) -> ExecResult:
        """Run the program `argv` the way `run` runs a command (the shell `exec`s it)."""
        return await self.run("exec " + shlex.join(argv), cwd=cwd, timeout_s=timeout_s, cancel=cancel)
