"""A run's result lists every file it changed, bash's changes too (from the checkpoints)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agent.api import run_agent
from agent.model.scripted import ScriptedModel, ScriptFile

SCRIPT = """
scripts:
  - replies:
      - tool_calls: [{name: read, input: {file_path: notes.txt}}]
      - tool_calls:
          - {name: edit, input: {file_path: notes.txt, old_string: one, new_string: two}}
          - {name: bash, input: {command: "mkdir -p out && echo built > out/app.bin && rm gone.txt"}}
      - text: Done.
"""


@pytest.mark.bwrap
async def test_files_changed_includes_what_bash_did(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("one\n")
    (tmp_path / "gone.txt").write_text("bye\n")
    model = ScriptedModel(ScriptFile.model_validate(yaml.safe_load(SCRIPT)))
    events = [e async for e in run_agent("tidy up", agent="backend-engineer", cwd=tmp_path,
                                         model_client=model, permission_mode="bypass")]  # fmt: skip
    result = events[-1]
    assert result.subtype == "success", result.result
    root = tmp_path.resolve()
    assert result.files_changed[0] == str(root / "notes.txt")  # the file tools' own report first
    assert set(result.files_changed) == {str(root / p) for p in ("notes.txt", "out/app.bin", "gone.txt")}


async def test_a_run_that_changes_nothing_lists_nothing(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("one\n")
    script = (
        "scripts:\n  - replies:\n      - tool_calls: [{name: read, input: {file_path: notes.txt}}]\n"
        "      - text: Read it.\n"
    )
    model = ScriptedModel(ScriptFile.model_validate(yaml.safe_load(script)))
    events = [e async for e in run_agent("look", agent="explore", cwd=tmp_path, model_client=model)]
    assert events[-1].subtype == "success" and events[-1].files_changed == []
