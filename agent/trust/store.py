"""The folders the user trusts, in `agent.paths.trusted_folders_file()`.

The file is JSON (`{"version": 1, "folders": {"/abs/path": {"trusted_at": ISO time}}}`), written
only by `subagent trust`. Every change takes an exclusive lock on a sidecar file, reads the current
list, and replaces the file atomically (a temporary file in the same folder, fsync, rename), so
concurrent runs never see a half-written file and never lose each other's changes. Reads take no
lock: a rename is atomic. A folder is trusted by its resolved path, exactly (not its subfolders:
a repository cloned below a trusted folder is its own workspace).
"""

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from agent._atomic_file import write_atomic
from agent.errors import RegistryError
from agent.paths import make_private_folder, read_private, trusted_folders_file


class TrustedFolder(BaseModel):
    """One trusted folder."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    trusted_at: datetime


class TrustedFolders(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    version: int = 1
    folders: dict[str, TrustedFolder] = {}


def _key(folder: Path) -> str:
    return str(folder.expanduser().resolve())


def read_trusted(path: Path | None = None) -> TrustedFolders:
    """The trusted folders (none when the file does not exist).

    Raises:
        RegistryError: the file exists but is not what `subagent trust` writes; it names the file
            and says how to recover (nothing is overwritten).
        ConfigError: the file, or a folder above it, is where another user could have written it
            (`agent.paths.read_private`).
    """
    path = path or trusted_folders_file()
    try:
        text = read_private(path, what="which folders you trust")
    except OSError as exc:
        raise RegistryError(path, f"cannot read the trusted folders: {exc.strerror}") from exc
    if text is None:
        return TrustedFolders()
    try:
        return TrustedFolders.model_validate(json.loads(text))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise RegistryError(
            path,
            f"not a trusted-folders file ({exc.__class__.__name__}); fix it or move "
            "it away, then run `subagent trust` again",
        ) from exc


def is_trusted(folder: Path) -> bool:
    """Whether the user trusts exactly this folder (resolved)."""
    return _key(folder) in read_trusted().folders


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    make_private_folder(path.parent)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _write(path: Path, data: TrustedFolders) -> None:
    write_atomic(path, data.model_dump_json(indent=2) + "\n", mode=0o600, fsync=True)


def set_trust(folder: Path, trusted: bool) -> bool:
    """Trust `folder` (or revoke it); returns whether anything changed.

    Raises:
        RegistryError: the trusted-folders file is damaged (see `read_trusted`) or cannot be written.
    """
    path = trusted_folders_file()
    key = _key(folder)
    try:
        with _locked(path):
            data = read_trusted(path)
            if (key in data.folders) == trusted:
                return False
            if trusted:
                data.folders[key] = TrustedFolder(trusted_at=datetime.now(UTC))
            else:
                del data.folders[key]
            _write(path, data)
    except OSError as exc:
        raise RegistryError(path, f"cannot write the trusted folders: {exc.strerror}") from exc
    return True
