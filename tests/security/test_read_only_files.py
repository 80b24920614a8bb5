"""A file its mode says may not be written is not replaced by edit, patch or write (issue 15).

The control shows why a check is needed: for a plain process of the same user, a temporary file and
a rename replace a 0444 file, because only the folder must be writable. The tools refuse, say so,
and leave the file as it was, in every permission mode that lets them run.
"""

from __future__ import annotations

import pytest

from tests.security.attacker import Call, Site


def test_the_control_replaces_a_read_only_file_through_a_rename(site: Site) -> None:
    target = site.write("project/locked.txt", "keep\n", mode=0o444)
    control = site.shell("printf 'changed\\n' > locked.tmp && mv -f locked.tmp locked.txt")
    assert control.returncode == 0, control.stderr
    assert target.read_text() == "changed\n"


@pytest.mark.parametrize("mode", ["bypass", "accept-edits"])
def test_edit_patch_and_write_refuse_a_read_only_file(site: Site, mode: str) -> None:
    target = site.write("project/locked.txt", "keep\n", mode=0o444)
    outcome = site.run(
        [
            [Call("read", {"file_path": "locked.txt"})],
            [Call("edit", {"file_path": "locked.txt", "old_string": "keep", "new_string": "changed"})],
            [
                Call(
                    "patch",
                    {
                        "patch_text": "*** Begin Patch\n*** Update File: locked.txt\n@@\n-keep\n+changed\n"
                        "*** End Patch\n"
                    },
                )
            ],
            [
                Call(
                    "patch",
                    {"patch_text": "--- a/locked.txt\n+++ b/locked.txt\n@@ -1 +1 @@\n-keep\n+changed\n"},
                )
            ],
            [Call("write", {"file_path": "locked.txt", "content": "changed\n"})],
        ],
        mode=mode,
    )
    read, *changes = outcome.results
    assert not read.is_error, read.text
    for answer in changes:
        assert answer.is_error and "locked.txt is read-only (mode 0444)" in answer.text, answer.text
    assert target.read_text() == "keep\n"
    assert oct(target.stat().st_mode & 0o777) == "0o444"
