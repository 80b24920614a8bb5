"""Renaming a folder that has content in the base, in an overlay tree (docs/orchestrator.md).

A process of its own (`cow_driver`) runs one child that moves files with the patch tool, writes
into a base folder, renames folders with `mv` and `git mv`, and one idle sibling.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.orchestrator._scenario import workspace
from tests.orchestrator.test_cow_trees import BWRAP, FILES, _bash, _call, _drive, _output, _script

pytestmark = pytest.mark.bwrap


def test_renaming_a_folder_that_has_content_in_the_base(tmp_path: Path) -> None:
    """rename(2) of such a folder fails with EXDEV in an overlay tree (docs/orchestrator.md): the
    file tools never rename a folder (the patch tool's move writes the new file and deletes the
    old one; a write renames a file of its own folder), `mv` copies and deletes, and `git mv` of
    the folder fails with git's message while a file's `git mv` works. The child still succeeds,
    and the merge brings back what it did."""
    ws = workspace(tmp_path, config=BWRAP, files=FILES)
    move = (
        "*** Begin Patch\n*** Update File: dir/a.txt\n*** Move to: elsewhere/a.txt\n"
        "@@\n-a\n+a moved\n*** End Patch"
    )
    steps = [
        _call("read", file_path="dir/a.txt"),
        _call("read", file_path="olddir/y/z.txt"),
        _call("patch", patch_text=move),
        _call("write", file_path="olddir/y/z.txt", content="rewritten\n"),
        _bash(
            "git init -q . && git add -A && git -c user.name=a -c user.email=a@b commit -qm wip; "
            "git mv olddir/y olddir/w; echo GIT-MV-EXIT=$?; git mv keep.txt kept.txt && echo FILE-MV-OK; "
            "mv olddir newdir && echo MV-OK; echo RENAMES"
        ),
    ]
    report = _drive(ws, _script(tmp_path, {"renamer": steps, "idle": [_bash("true")]}))

    assert report["trees"] == ["overlay", "overlay"] and report["final"] == "success", report["calls"]
    assert not any(c["is_error"] for c in report["calls"] if c["name"] in ("patch", "write")), report["calls"]
    said = _output(report, "RENAMES")
    assert "MV-OK" in said and "FILE-MV-OK" in said
    assert "GIT-MV-EXIT=128" in said and "Invalid cross-device link" in said  # the documented limit
    assert (ws / "elsewhere" / "a.txt").read_text() == "a moved\n" and not (ws / "dir").exists()
    assert (ws / "newdir" / "y" / "z.txt").read_text() == "rewritten\n"
    assert (ws / "newdir" / "x.txt").read_text() == "x\n" and not (ws / "olddir").exists()
    assert (ws / "kept.txt").read_text() == "keep\n" and not (ws / "keep.txt").exists()
    assert report["mounts"] == [] and report["left"] == []
