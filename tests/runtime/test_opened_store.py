"""The session store is reached through the parts seam only: one way to open it, always closed."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

import agent
from agent.runtime.parts import default_parts, opened_store
from tests.loop.fakes import MemoryStore

AGENT_DIR = Path(agent.__file__).parent
STORE_MODULE = "agent.sessions.store"
ALLOWED = {AGENT_DIR / "runtime" / "parts.py"}  # the seam's default factory
"""Besides agent/sessions/ itself, the only module that may import the SQLite store."""


def _imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_front_end_opens_the_sqlite_store_itself() -> None:
    sessions = AGENT_DIR / "sessions"
    importers = [
        path.relative_to(AGENT_DIR)
        for path in sorted(AGENT_DIR.rglob("*.py"))
        if sessions not in path.parents and path not in ALLOWED and STORE_MODULE in _imports_of(path)
    ]
    assert importers == []
    assert STORE_MODULE in _imports_of(AGENT_DIR / "runtime" / "parts.py")  # the scan sees imports


def test_the_parts_store_is_the_one_opened_and_it_is_closed_even_on_error() -> None:
    store = MemoryStore()
    parts = dataclasses.replace(default_parts(), open_store=lambda: store)
    with opened_store(parts) as opened:
        assert opened is store and not store.closed
    assert store.closed
    other = MemoryStore()
    with pytest.raises(RuntimeError), opened_store(dataclasses.replace(parts, open_store=lambda: other)):
        raise RuntimeError("a command failed half way")
    assert other.closed


def test_the_default_parts_open_the_users_sqlite_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUBAGENT_HOME", str(tmp_path / "data"))
    with opened_store() as store:
        record = store.create(agent="a", workspace=tmp_path)
    with opened_store() as store:
        assert store.get(record.id).workspace == str(tmp_path)
