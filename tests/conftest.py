"""Shared fixtures. Tests never reach a real model: the API key is removed for every test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Each test gets its own data and config dirs, and no API key (no live model calls)."""
    home = tmp_path_factory.mktemp("subagent-home")
    monkeypatch.setenv("SUBAGENT_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home / "claude"))  # not the machine's ~/.claude
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    yield


def put(root: Path, rel: str, text: str) -> Path:
    """Write `text` to `root/rel`, making its folders; the path."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def subagent_argv(*args: str) -> list[str]:
    """argv that runs this checkout's `subagent` in a subprocess."""
    return [sys.executable, "-m", "agent", *args]


def subprocess_env(**extra: str) -> dict[str, str]:
    """The test's environment, with this checkout importable first."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def run_subagent(
    *args: str, cwd: Path | None = None, input: str | None = None, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `subagent ARGS` as a real subprocess and capture its output."""
    return subprocess.run(
        subagent_argv(*args),
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=subprocess_env(**env),
    )


def sandbox_available() -> bool:
    if shutil.which("bwrap") is None:
        return False
    probe = subprocess.run(
        ["bwrap", "--ro-bind", "/", "/", "--unshare-user", "--unshare-pid", "true"], capture_output=True
    )
    return probe.returncode == 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `bwrap` tests where there is no sandbox, unless CI requires it (then they fail)."""
    if sandbox_available():
        return
    if os.environ.get("SUBAGENT_REQUIRE_SANDBOX"):
        return  # let them run and fail loudly
    skip = pytest.mark.skip(reason="bubblewrap is not installed or user namespaces are refused here")
    for item in items:
        if "bwrap" in item.keywords:
            item.add_marker(skip)
