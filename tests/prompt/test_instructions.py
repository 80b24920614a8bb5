"""Project instructions: which files, in what order, capped how, and the per-folder notes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent import paths
from agent.prompt.instructions import (
    MAX_FILE_BYTES,
    MAX_TOTAL_BYTES,
    FolderInstructions,
    instruction_paths,
    load_project_instructions,
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """repo/.git, repo/AGENTS.md, repo/pkg/CLAUDE.md, repo/pkg/app (the workspace) with AGENTS.md."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "AGENTS.md").write_text("root rules\n")
    (root / "pkg" / "app").mkdir(parents=True)
    (root / "pkg" / "CLAUDE.md").write_text("pkg rules\n")
    (root / "pkg" / "app" / "AGENTS.md").write_text("app rules\n")
    (root / "pkg" / "app" / "CLAUDE.md").write_text("app claude rules\n")
    (tmp_path / "AGENTS.md").write_text("outside the repository\n")
    return root


def _user_file(text: str) -> Path:
    path = paths.config_home() / "AGENTS.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_order_is_user_then_repo_root_down_to_workspace(repo: Path) -> None:
    user = _user_file("user rules\n")
    workspace = repo / "pkg" / "app"
    assert instruction_paths(workspace) == [
        user.resolve(),
        repo / "AGENTS.md",
        repo / "pkg" / "CLAUDE.md",
        workspace / "AGENTS.md",
        workspace / "CLAUDE.md",
    ]
    block = load_project_instructions(workspace).text
    order = [block.index(t) for t in ("user rules", "root rules", "pkg rules", "app rules", "app claude")]
    assert order == sorted(order)
    assert f'<instructions path="{repo / "pkg" / "CLAUDE.md"}">' in block
    assert "outside the repository" not in block


def test_without_a_repository_only_the_workspace_counts(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("parent\n")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "CLAUDE.md").write_text("mine\n")
    assert instruction_paths(workspace) == [workspace / "CLAUDE.md"]


def test_no_files_no_block(tmp_path: Path) -> None:
    loaded = load_project_instructions(tmp_path)
    assert loaded.text == "" and loaded.files == ()


def test_a_linked_claude_md_counts_once(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("shared\n")
    os.symlink("AGENTS.md", tmp_path / "CLAUDE.md")
    assert load_project_instructions(tmp_path).text.count("shared") == 1


def test_a_large_file_is_cut_with_a_note(tmp_path: Path) -> None:
    line = "x" * 99 + "\n"
    (tmp_path / "AGENTS.md").write_text(line * 200)  # 20 000 bytes
    loaded = load_project_instructions(tmp_path)
    shown = loaded.files[0].text
    assert len(shown.encode()) <= MAX_FILE_BYTES and shown.endswith("\n")
    assert f"[cut: {tmp_path / 'AGENTS.md'} is 20000 bytes and only the first {len(shown)} are shown" in (
        loaded.text
    )


def test_total_cap_cuts_the_general_files_first(repo: Path) -> None:
    big = "y" * 10_000
    _user_file(big)
    (repo / "AGENTS.md").write_text(big)
    (repo / "pkg" / "CLAUDE.md").write_text(big)
    workspace = repo / "pkg" / "app"
    (workspace / "AGENTS.md").write_text(big)
    loaded = load_project_instructions(workspace)
    assert sum(len(f.text) for f in loaded.files) <= MAX_TOTAL_BYTES
    by_path = {f.path: f for f in loaded.files}
    assert by_path[workspace / "AGENTS.md"].text == big[:MAX_FILE_BYTES]
    assert by_path[workspace / "CLAUDE.md"].text == "app claude rules\n"  # small files kept whole
    user = by_path[(paths.config_home() / "AGENTS.md").resolve()]
    assert len(user.text) < MAX_FILE_BYTES  # the most general file took what was left
    assert loaded.text.count("[cut:") == 4


def test_block_is_byte_identical_when_loaded_again(repo: Path) -> None:
    _user_file("user rules\n")
    workspace = repo / "pkg" / "app"
    assert load_project_instructions(workspace).text == load_project_instructions(workspace).text


def test_folder_instructions_once_per_session(repo: Path) -> None:
    workspace = repo
    (repo / "pkg" / "app" / "deep").mkdir()
    (repo / "pkg" / "app" / "deep" / "x.py").write_text("x = 1\n")
    loaded = load_project_instructions(workspace)
    notes = FolderInstructions(workspace, loaded.paths)
    first = notes.for_read(Path("pkg/app/deep/x.py"))
    assert first is not None
    assert first.index("pkg rules") < first.index("app rules") < first.index("app claude rules")
    assert "root rules" not in first  # already in the system prompt
    assert notes.for_read(repo / "pkg" / "app" / "deep" / "x.py") is None
    assert notes.for_read(repo / "pkg" / "CLAUDE.md") is None


def test_reading_an_instruction_file_marks_it_seen(repo: Path) -> None:
    notes = FolderInstructions(repo, set())
    assert notes.for_read(repo / "pkg" / "CLAUDE.md") is not None  # the root AGENTS.md
    first = notes.for_read(repo / "pkg" / "app" / "AGENTS.md")
    assert first is not None and "app claude rules" in first and "app rules\n" not in first
    assert notes.for_read(repo / "pkg" / "app" / "AGENTS.md") is None


def test_reads_outside_the_workspace_get_nothing(repo: Path, tmp_path: Path) -> None:
    notes = FolderInstructions(repo / "pkg", set())
    assert notes.for_read(tmp_path / "AGENTS.md") is None
    assert notes.for_read(repo / "AGENTS.md") is None
