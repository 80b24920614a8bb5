"""Fixtures for the sandbox tests: a workspace, and a fake HOME outside /tmp."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


@pytest.fixture
def fake_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A HOME outside /tmp (the sandbox's /tmp is private, so a home there would hide by accident)."""
    home = Path(tempfile.mkdtemp(prefix="subagent-home-", dir="/var/tmp")).resolve()
    monkeypatch.setenv("HOME", str(home))
    yield home
    shutil.rmtree(home, ignore_errors=True)
