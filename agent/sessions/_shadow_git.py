"""Run git against a shadow repository whose work tree is the user's workspace.

Every command gets its own `GIT_DIR`, `GIT_WORK_TREE` and `GIT_INDEX_FILE`, and ignores the
system and global git config, so nothing reads or writes the user's HEAD, index, refs, stash,
hooks or config, and no user setting (autocrlf, filters, fsmonitor, gpg signing) changes what is
stored. Blobs come back byte for byte as they were read.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEFAULT_EXCLUDES = (".git/", "node_modules/", ".venv/", "venv/", "__pycache__/", ".mypy_cache/",
                    ".pytest_cache/", ".ruff_cache/", ".tox/")
"""Never snapshotted, whatever the workspace's .gitignore says."""

_CONFIG = {
    "core.autocrlf": "false", "core.safecrlf": "false", "core.filemode": "true", "core.symlinks": "true",
    "core.untrackedCache": "false", "core.fsmonitor": "false", "core.quotepath": "false",
    "core.hooksPath": os.devnull, "gc.auto": "0", "commit.gpgSign": "false",
}
# Highest-precedence attributes: store and restore bytes exactly, no eol or filter conversion.
_ATTRIBUTES = "* -text -filter -ident -eol -working-tree-encoding\n"


class ShadowGit:
    """git commands bound to one shadow repository and one workspace."""

    def __init__(self, git_dir: Path, workspace: Path) -> None:
        self.git_dir = git_dir
        self.workspace = workspace
        self.index = git_dir / "index"

    def env(self, index: Path | None = None) -> dict[str, str]:
        identity = {f"GIT_{who}_{what}": value for who in ("AUTHOR", "COMMITTER")
                    for what, value in (("NAME", "subagent"), ("EMAIL", "checkpoints@subagent.invalid"))}
        return {
            "GIT_DIR": str(self.git_dir), "GIT_WORK_TREE": str(self.workspace),
            "GIT_INDEX_FILE": str(index or self.index), "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0",
            **identity,
        }

    def run(self, *args: str, index: Path | None = None, stdin: bytes | None = None) -> str:
        """Run `git ARGS` in the workspace and return stdout unstripped (for `-z` output).

        Raises:
            git.GitCommandError: git failed; its stderr says why.
        """
        import git

        runner = git.Git(self.workspace)
        if stdin is None:
            return runner.execute(["git", *args], env=self.env(index), strip_newline_in_stdout=False)
        # gitpython needs a real file for stdin
        import tempfile

        with tempfile.TemporaryFile() as handle:
            handle.write(stdin)
            handle.seek(0)
            return runner.execute(["git", *args], env=self.env(index), istream=handle,
                                  strip_newline_in_stdout=False)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One git operation at a time on this shadow repository, across processes."""
        self.git_dir.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.git_dir.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._clear_stale_git_locks()
            yield
        finally:
            os.close(fd)

    def _clear_stale_git_locks(self) -> None:
        """Remove git lock files left by a process killed mid-operation.

        Every writer holds our flock first, so a git `*.lock` seen while we hold it is stale;
        without this, one `kill -9` during a snapshot would block all later ones.
        """
        for stale in [self.git_dir / "index.lock", *self.git_dir.glob("refs/heads/**/*.lock")]:
            stale.unlink(missing_ok=True)

    def ensure_initialised(self) -> None:
        """Create the bare shadow repository on first use; share the workspace repo's objects."""
        if (self.git_dir / "HEAD").is_file():
            return
        subprocess.run(["git", "init", "--quiet", "--bare", "--template=", str(self.git_dir)],
                       check=True, capture_output=True, env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1",
                                                              "GIT_CONFIG_GLOBAL": os.devnull})
        for key, value in _CONFIG.items():
            self.run("config", key, value)
        info = self.git_dir / "info"
        info.mkdir(exist_ok=True)
        (info / "exclude").write_text("\n".join(DEFAULT_EXCLUDES) + "\n")
        (info / "attributes").write_text(_ATTRIBUTES)
        if objects := _workspace_objects(self.workspace):
            alternates = self.git_dir / "objects" / "info"
            alternates.mkdir(parents=True, exist_ok=True)
            (alternates / "alternates").write_text(f"{objects}\n")


def _workspace_objects(workspace: Path) -> Path | None:
    """The object directory of the repository the workspace belongs to, if any (read-only use)."""
    probe = subprocess.run(
        ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"], cwd=workspace,
        capture_output=True, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    )
    if probe.returncode != 0:
        return None
    objects = Path(probe.stdout.strip()) / "objects"
    return objects if objects.is_dir() else None
