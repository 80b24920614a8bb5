"""write_atomic: the old file survives a failed replace, no temporary file is left, the mode is the
caller's, a link at the target is replaced rather than written through, and fsync means it."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent._atomic_file import write_atomic


@pytest.fixture
def umask_022() -> Iterator[None]:
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_text_and_bytes_replace_the_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "record.json"
    target.write_text("old content, longer than the new one\n")
    write_atomic(target, "né\n", mode=0o600, fsync=False)
    assert target.read_bytes() == "né\n".encode()
    write_atomic(target, b"\x00\xffbytes", mode=0o600, fsync=True)
    assert target.read_bytes() == b"\x00\xffbytes"
    assert os.listdir(tmp_path) == ["record.json"]


def test_a_failed_replace_keeps_the_old_file_and_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "trusted-folders.json"
    target.write_text("the old file\n")
    attempted: list[str] = []

    def crash(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> None:
        attempted.append(Path(source).read_text())  # the new content was written in full first
        raise OSError("simulated crash between the write and the rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        write_atomic(target, "the new file\n", mode=0o600, fsync=True)
    assert attempted == ["the new file\n"]
    assert target.read_text() == "the old file\n"
    assert os.listdir(tmp_path) == ["trusted-folders.json"]


def test_an_interrupted_write_removes_the_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "listing.json"
    target.write_text("old")

    def interrupted(fd: int, data: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new", mode=0o666, fsync=False)
    monkeypatch.undo()
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["listing.json"]


@pytest.mark.usefixtures("umask_022")
def test_mode_bits_are_the_callers_under_the_umask(tmp_path: Path) -> None:
    private, shared = tmp_path / "private", tmp_path / "shared"
    shared.write_text("was private")
    shared.chmod(0o600)
    private.write_text("was readable by all")
    private.chmod(0o644)
    write_atomic(private, "x", mode=0o600, fsync=False)
    write_atomic(shared, "x", mode=0o666, fsync=False)  # the umask's default, as write_text makes
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(shared.stat().st_mode) == 0o644


def test_a_link_at_the_target_is_replaced_not_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "bashrc"
    outside.write_text("the user's file\n")
    target = tmp_path / "HEAD"
    target.symlink_to(outside)
    write_atomic(target, "ref: refs/heads/main\n", mode=0o600, fsync=False)
    assert not target.is_symlink() and target.read_text() == "ref: refs/heads/main\n"
    assert outside.read_text() == "the user's file\n"


def test_fsync_flushes_the_file_and_then_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[bool] = []
    real_fsync = os.fsync

    def recording(fd: int) -> None:
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording)
    write_atomic(tmp_path / "blob", b"data", mode=0o600, fsync=False)
    assert synced == []
    write_atomic(tmp_path / "blob", b"data", mode=0o600, fsync=True)
    assert synced == [False, True]  # the file before the rename, the folder after it


def test_a_long_multibyte_name_is_replaced(tmp_path: Path) -> None:
    """127 x "é" is 254 bytes: a temporary name cut at 200 characters was 269 (ENAMETOOLONG)."""
    target = tmp_path / ("é" * 127)

    write_atomic(target, b"x", mode=0o600, fsync=False)

    assert target.read_bytes() == b"x" and os.listdir(tmp_path) == [target.name]
