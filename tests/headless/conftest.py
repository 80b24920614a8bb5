"""The real Claude Agent SDK driving `subagent` through `cli_path`, against a local Messages API."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT


@dataclass
class SdkSite:
    """A launcher the SDK runs as `cli_path`, a workspace, and the environment for both."""

    launcher: Path
    workspace: Path
    env: dict[str, str]

    def options(self, server_url: str, **extra: Any) -> Any:
        from claude_agent_sdk import ClaudeAgentOptions

        env = {**self.env, "ANTHROPIC_BASE_URL": server_url}
        return ClaudeAgentOptions(cli_path=str(self.launcher), cwd=str(self.workspace), env=env, **extra)


@pytest.fixture
def sdk_site(tmp_path: Path) -> SdkSite:
    pytest.importorskip("claude_agent_sdk", reason="the test extra's claude-agent-sdk is not installed")
    launcher = tmp_path / "subagent-cli"
    launcher.write_text(f'#!/bin/sh\nPYTHONPATH={REPO_ROOT} exec {sys.executable} -m agent "$@"\n')
    launcher.chmod(0o755)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    env = {
        "ANTHROPIC_API_KEY": "test-key",
        "SUBAGENT_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    return SdkSite(launcher, workspace, env)
