"""Fixtures for tool tests: a real workspace folder and a context over it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from agent.tool import ToolContext
from tools.read import ReadInput, ReadTool


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root.resolve()


@pytest.fixture
def outside() -> Iterator[Path]:
    """A folder outside the workspace that the default policy leaves readable (not under /tmp,
    which the policy hides from the file tools, nor under HOME)."""
    folder = Path(tempfile.mkdtemp(prefix="subagent-outside-", dir="/var/tmp")).resolve()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def ctx(ws: Path, tmp_path: Path) -> ToolContext:
    return ToolContext(workspace=ws, data_dir=tmp_path / "data")


@pytest.fixture
def read_file(ctx: ToolContext) -> Callable[[str], Awaitable[str]]:
    """Read through the real read tool, so the guard knows the file."""

    async def read(path: str) -> str:
        result = await ReadTool().run(ReadInput(file_path=path), ctx)
        return result.output

    return read
