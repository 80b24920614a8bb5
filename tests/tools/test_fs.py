"""tools/_fs.py, with each open strategy: no symlink is ever followed, nothing ever blocks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import nofollow
from agent.errors import ToolFailure
from tools import _fs


@pytest.fixture(params=["openat2", "walk"])
def strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test once per open strategy (openat2 only where this kernel has it)."""
    name = request.param
    if name == "openat2" and nofollow.strategy() != "openat2":
        pytest.skip("this kernel (or its seccomp filter) has no openat2")
    monkeypatch.setattr(nofollow, "strategy", lambda: name)
    return str(name)


@contextlib.contextmanager
def no_hang(seconds: float = 10.0) -> Iterator[None]:
    """Fail instead of hanging: an alarm interrupts a blocked open or read in this thread."""

    def fail(signum: int, frame: object) -> None:
        raise AssertionError(f"blocked for {seconds} s")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_the_probe_finds_openat2_where_the_kernel_has_it() -> None:
    release = tuple(int(part) for part in os.uname().release.split(".")[:2])
    seccomp = next(
        (
            ln.split()[1]
            for ln in Path("/proc/self/status").read_text().splitlines()
            if ln.startswith("Seccomp:")
        ),
        "0",
    )
    if release < (5, 6) or seccomp != "0":
        pytest.skip("openat2 may be missing or filtered here; the walk is tested on its own")
    assert nofollow.strategy() == "openat2"


def test_opens_a_real_path_and_refuses_a_symlink_anywhere(ws: Path, strategy: str) -> None:
    (ws / "d").mkdir()
    (ws / "d" / "f.txt").write_text("inside\n")
    (ws / "elsewhere").mkdir()
    (ws / "elsewhere" / "f.txt").write_text("behind a link\n")
    (ws / "link").symlink_to(ws / "elsewhere")
    (ws / "flink").symlink_to(ws / "d" / "f.txt")
    fd = nofollow.open_nofollow(ws / "d" / "f.txt", os.O_RDONLY)
    assert os.read(fd, 100) == b"inside\n"
    os.close(fd)
    for through_a_link in (ws / "link" / "f.txt", ws / "flink"):
        with pytest.raises(OSError) as caught:
            nofollow.open_nofollow(through_a_link, os.O_RDONLY)
        assert caught.value.errno == 40  # ELOOP
        with pytest.raises(ToolFailure, match="is a symbolic link"):
            _fs.open_for_reading(through_a_link)
    with pytest.raises(ValueError):
        nofollow.open_nofollow(Path("relative/path"), os.O_RDONLY)


def test_non_regular_files_are_refused_without_blocking(ws: Path, strategy: str) -> None:
    os.mkfifo(ws / "fifo")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(ws / "sock"))
    try:
        with no_hang():
            with pytest.raises(ToolFailure, match=r"is a FIFO \(named pipe\), not a regular file"):
                _fs.open_for_reading(ws / "fifo")
            with pytest.raises(ToolFailure, match="socket"):
                _fs.open_for_reading(ws / "sock")
            with pytest.raises(ToolFailure, match="character device"):
                _fs.open_for_reading(Path("/dev/null"))
            with pytest.raises(ToolFailure, match="FIFO"):
                _fs.replace_file(ws / "fifo", b"x", lambda _: None)
    finally:
        server.close()
    assert stat.S_ISFIFO((ws / "fifo").lstat().st_mode)


def test_reading_a_file_and_a_folder(ws: Path, strategy: str) -> None:
    (ws / "big.txt").write_bytes(b"x" * 300_000)
    (ws / os.fsdecode(b"caf\xe9.txt")).write_text("latin name\n")
    (ws / "sub").mkdir()
    assert _fs.open_for_reading(ws / "missing") is None
    with _fs.open_for_reading(ws / "big.txt") as opened:  # type: ignore[union-attr]
        assert not opened.is_dir and opened.stat.st_size == 300_000
        assert len(opened.read_at_most(1000)) == 1000
        assert sum(len(c) for c in opened.chunks()) == 299_000
    with _fs.open_for_reading(ws) as folder:  # type: ignore[union-attr]
        assert folder.is_dir
        assert folder.entries() == [("big.txt", False), (os.fsdecode(b"caf\xe9.txt"), False), ("sub", True)]


def test_replace_keeps_the_mode_and_makes_folders_through_descriptors(ws: Path, strategy: str) -> None:
    made: list[Path] = []
    _fs.replace_file(ws / "a" / "b" / "new.txt", b"new\n", made.append)
    assert (ws / "a/b/new.txt").read_bytes() == b"new\n" and made == [ws / "a", ws / "a" / "b"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((ws / "a/b/new.txt").stat().st_mode) == 0o666 & ~umask
    (ws / "x.sh").write_text("old\n")
    (ws / "x.sh").chmod(0o751)
    _fs.replace_file(ws / "x.sh", b"new\n", made.append)
    assert (ws / "x.sh").read_text() == "new\n" and stat.S_IMODE((ws / "x.sh").stat().st_mode) == 0o751
    assert sorted(p.name for p in ws.iterdir()) == ["a", "x.sh"]  # no temporary file left
    long_name = "n" * 250
    _fs.replace_file(ws / long_name, b"ok", made.append)  # the temporary name still fits
    assert (ws / long_name).read_bytes() == b"ok"


def test_a_refused_folder_is_never_made(ws: Path, strategy: str) -> None:
    def refuse(folder: Path) -> None:
        raise ToolFailure(f"{folder}: refused")

    with pytest.raises(ToolFailure, match="refused"):
        _fs.replace_file(ws / "no" / "f.txt", b"x", refuse)
    assert not (ws / "no").exists()


def test_writes_and_deletes_never_go_through_a_symlink(ws: Path, outside: Path, strategy: str) -> None:
    (outside / "keep.txt").write_text("keep\n")
    (ws / "out").symlink_to(outside)
    (ws / "file-link").symlink_to(outside / "keep.txt")
    with pytest.raises(ToolFailure, match="symbolic link"):
        _fs.replace_file(ws / "out" / "keep.txt", b"owned", lambda _: None)
    with pytest.raises(ToolFailure, match="symbolic link"):
        _fs.replace_file(ws / "out" / "new" / "f.txt", b"owned", lambda _: None)
    with pytest.raises(ToolFailure, match="is a symbolic link; only a regular file"):
        _fs.replace_file(ws / "file-link", b"owned", lambda _: None)
    with pytest.raises(ToolFailure, match="symbolic link"):
        _fs.remove_file(ws / "out" / "keep.txt")
    with pytest.raises(ToolFailure, match="only a regular file can be deleted"):
        _fs.remove_file(ws / "file-link")
    assert (outside / "keep.txt").read_text() == "keep\n" and sorted(os.listdir(outside)) == ["keep.txt"]


def test_remove(ws: Path, strategy: str) -> None:
    (ws / "f.txt").write_text("x")
    (ws / "dir").mkdir()
    _fs.remove_file(ws / "f.txt")
    assert not (ws / "f.txt").exists()
    with pytest.raises(ToolFailure, match="no such file"):
        _fs.remove_file(ws / "f.txt")
    _fs.remove_file(ws / "f.txt", missing_ok=True)
    _fs.remove_file(ws / "gone" / "f.txt", missing_ok=True)
    with pytest.raises(ToolFailure, match="is a directory"):
        _fs.remove_file(ws / "dir")


SWAP = """
cd "$1"
while [ ! -e stop ]; do
  mv d d.real && ln -s "$2" d && rm d && mv d.real d
done
"""


def _naive_read(path: Path, root: Path) -> bytes | None:
    """What the file tools did before: resolve, check containment, then open again by name."""
    try:
        if not Path(os.path.realpath(path)).is_relative_to(root):
            return None
        return path.read_bytes()
    except OSError:  # realpath itself can trip on a link removed mid-way
        return None


@pytest.fixture
def racing(ws: Path, outside: Path) -> Iterator[tuple[Path, Path]]:
    """`ws/d/secret.txt` (a decoy) while a shell swaps `ws/d` for a symlink to `outside` (the
    secret), as fast as it can, until the test ends."""
    (ws / "d").mkdir()
    (ws / "d" / "secret.txt").write_text("decoy\n")
    (outside / "secret.txt").write_text("THE SECRET\n")
    swapper = subprocess.Popen(["bash", "-c", SWAP, "swap", str(ws), str(outside)])
    try:
        yield ws / "d" / "secret.txt", outside
    finally:
        (ws / "stop").touch()
        swapper.wait(timeout=30)


def test_the_race_crosses_a_naive_open_but_never_ours(
    racing: tuple[Path, Path], ws: Path, strategy: str
) -> None:
    target, _ = racing
    crossed = next((i for i in range(200_000) if _naive_read(target, ws) == b"THE SECRET\n"), None)
    assert crossed is not None, "the control never crossed: the race did not run"
    outcomes: set[str] = set()
    for _ in range(200_000):  # until both sides of the swap were met
        if {"decoy\n", "refused"} <= outcomes:
            break
        try:
            opened = _fs.open_for_reading(target)
        except ToolFailure as exc:
            assert "symbolic link" in str(exc)
            outcomes.add("refused")
            continue
        if opened is None:
            outcomes.add("missing")  # between the two moves
            continue
        with opened:
            data = opened.read_at_most(100)
        assert data != b"THE SECRET\n"
        outcomes.add(data.decode())
    assert {"decoy\n", "refused"} <= outcomes


def test_the_race_never_writes_through_the_link(racing: tuple[Path, Path], ws: Path, strategy: str) -> None:
    target, outside = racing

    def no_new_folder(folder: Path) -> None:  # mid-swap `d` is missing; making it would stop the loop
        raise ToolFailure(f"{folder} is missing")

    refused = written = 0
    for i in range(100_000):  # until both sides of the swap were met
        if refused and written > 10:
            break
        try:
            _fs.replace_file(target.parent / "written.txt", f"{i}\n".encode(), no_new_folder)
        except ToolFailure as exc:
            assert "symbolic link" in str(exc) or "is missing" in str(exc)
            refused += 1
        else:
            written += 1
    assert not (outside / "written.txt").exists() and (outside / "secret.txt").read_text() == "THE SECRET\n"
    assert refused and written > 10
