"""An overlay tree's snapshots, and a reflinked tree's, equal a checkout's, whatever a child does
(a property, run in a process that entered its own mount namespace: `cow_property`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import subprocess_env

pytestmark = pytest.mark.bwrap  # needs user namespaces, as the sandbox does


def test_an_overlay_snapshot_equals_a_checkout_snapshot_after_any_changes() -> None:
    done = subprocess.run(
        ["python", "-m", "tests.orchestrator.cow_property", "60"],
        capture_output=True,
        text=True,
        timeout=600,
        env=subprocess_env(),
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "compared with checkouts: overlay" in done.stdout


def test_a_reflinked_snapshot_equals_a_checkout_snapshot_after_any_changes(reflink_home: Path) -> None:
    done = subprocess.run(
        ["python", "-m", "tests.orchestrator.cow_property", "40", str(reflink_home)],
        capture_output=True,
        text=True,
        timeout=600,
        env=subprocess_env(),
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "compared with checkouts: overlay, reflink" in done.stdout
