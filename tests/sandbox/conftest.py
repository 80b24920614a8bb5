"""Fixtures for the sandbox tests: a workspace, and a fake HOME outside /tmp."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.paths import data_home
from agent.registry.schema import SandboxConfig
from agent.sandbox.bwrap import BwrapSandbox
from agent.sandbox.policy import FsPolicy, policy_for


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


def policy(workspace: Path, config: SandboxConfig | None = None, *, home: Path | None = None) -> FsPolicy:
    """The policy a run in `workspace` gets (the runtime's data dir hidden)."""
    return policy_for(config or SandboxConfig(), workspace, data_dir=data_home(), home=home)


def sandbox_for(
    workspace: Path, *, home: Path | None = None, config: SandboxConfig | None = None, **options: Any
) -> BwrapSandbox:
    """A bubblewrap sandbox enforcing the policy a run in `workspace` gets."""
    return BwrapSandbox(policy(workspace, config, home=home), home=home, **options)
