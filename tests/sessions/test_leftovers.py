"""The sweep of a killed run's temporary files, on the names `temporary_name` makes."""

from __future__ import annotations

import os
from pathlib import Path

from agent._atomic_file import temporary_name
from agent.sessions.leftovers import sweep_temporaries


def test_the_sweep_takes_temporary_links_to_folders_and_names_with_a_newline(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "sub" / "real").mkdir(parents=True)
    (ws / "sub" / "keep.txt").write_text("kept\n")
    link = ws / "sub" / temporary_name("real")  # the merge makes a link this way: to a folder here
    link.symlink_to("real")
    odd = ws / temporary_name("two\nlines")
    odd.write_text("half\n")
    plain = ws / "sub" / temporary_name("keep.txt")
    plain.write_text("half\n")
    not_ours = ws / ".keep.txt.tmp"  # no 8-character tag: a file of the user's
    not_ours.write_text("mine\n")

    removed = sweep_temporaries(ws, "subagent run (pid 1)")

    assert sorted(removed) == sorted(str(p) for p in (link, odd, plain))
    assert not os.path.lexists(link) and not odd.exists() and not plain.exists()
    assert (ws / "sub" / "real").is_dir() and not_ours.exists() and (ws / "sub" / "keep.txt").exists()


def test_a_temporary_name_stays_under_255_bytes_for_a_long_multibyte_name() -> None:
    name = temporary_name("é" * 127)  # 254 bytes: cutting 200 characters would keep 254

    assert len(os.fsencode(name)) <= 255
    assert len(os.fsencode(temporary_name("\udcff" * 250))) <= 255  # a name that is no UTF-8
