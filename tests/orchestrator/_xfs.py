"""A loop-mounted XFS with reflinks for the runtime's data folder (root only), always taken down.

The machine's own disk may have no reflinks (ext4): a test that needs them makes a small XFS
image (`mkfs.xfs -m reflink=1`, from xfsprogs), attaches it to a loop device, mounts it, and
points `SUBAGENT_HOME` (worktrees and base checkouts) there; afterwards it unmounts the file
system, detaches the loop device and deletes the image whatever happened. Skipped, saying why,
where that cannot be done; under `SUBAGENT_REQUIRE_SANDBOX` (CI) it fails instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

IMAGE_SIZE = "320M"
"""XFS's smallest file system (xfsprogs 5.19+ refuses less than 300 MB); a sparse file."""


def cannot_mount_xfs() -> str | None:
    """Why a loop XFS cannot be mounted here, or None."""
    if os.geteuid() != 0:
        return "mounting a loop XFS image needs root"
    for program in ("mkfs.xfs", "losetup", "mount", "umount"):
        if shutil.which(program) is None:
            return f"{program} is not installed (apt-get install xfsprogs util-linux mount)"
    if not Path("/dev/loop-control").exists():
        return "there is no /dev/loop-control: this system has no loop devices"
    return None


def _run(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done.stdout.strip()


@contextlib.contextmanager
def xfs_mount(name: str, size: str = IMAGE_SIZE) -> Iterator[Path]:
    """A fresh reflink XFS of `size` (a sparse image) mounted at a folder of its own; unmounted,
    detached and deleted after."""
    image = Path("/var/tmp") / f"subagent-xfs-{os.getpid()}-{name}.img"
    mount = image.with_suffix(".mnt")
    device = ""
    try:
        _run("truncate", "-s", size, str(image))
        _run("mkfs.xfs", "-q", "-m", "reflink=1", str(image))
        device = _run("losetup", "--find", "--show", str(image))
        mount.mkdir()
        _run("mount", "-t", "xfs", device, str(mount))
        yield mount
    finally:
        _take_down(image, mount, device)


def _take_down(image: Path, mount: Path, device: str) -> None:
    if mount.is_dir() and os.path.ismount(mount):
        for _ in range(50):  # a process of the test may still be closing files there
            if subprocess.run(["umount", str(mount)], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            subprocess.run(["umount", "--lazy", str(mount)], capture_output=True)
    if device:
        subprocess.run(["losetup", "--detach", device], capture_output=True)
    with contextlib.suppress(OSError):
        mount.rmdir()
    image.unlink(missing_ok=True)


@pytest.fixture
def reflink_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`SUBAGENT_HOME` on a loop-mounted reflink XFS (see the module docstring)."""
    problem = cannot_mount_xfs()
    if problem is not None:
        if os.environ.get("SUBAGENT_REQUIRE_SANDBOX"):
            pytest.fail(f"CI needs the reflink tests: {problem}")
        pytest.skip(problem)
    with xfs_mount(tmp_path.name) as mount:
        monkeypatch.setenv("SUBAGENT_HOME", str(mount / "data"))
        yield mount
