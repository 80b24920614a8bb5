"""The `mcp` SDK's client on `subagent mcp` over stdio, in a workspace whose parent folder holds the
scripted model's replies (`script.yaml`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters

from tests.conftest import subprocess_env


def mcp_client(workspace: Path, **kwargs: Any) -> Client:
    """A client of `python -m agent mcp --script ../script.yaml` run in `workspace`."""
    script = workspace.parent / "script.yaml"
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "agent", "mcp", "--script", str(script)],
        env=subprocess_env(), cwd=str(workspace),
    )  # fmt: skip
    return Client(params, **kwargs)
