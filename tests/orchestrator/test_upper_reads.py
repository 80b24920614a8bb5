"""Whether an overlay's upper folder changed since a snapshot read it, decided without git.

Stat data alone cannot tell a rewrite within one tick of a file system's clock (same size, same
times, same inode) from no change: the entries changed that close to a read keep a digest of what
they held, and a later read with the same stat data is "the same" only if they still hold it. The
signature is copied from the earlier read below to stand for such a same-tick rewrite (the clock
cannot be made to tick slower); the property in `cow_property` checks whole snapshots.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

from agent.orchestrator.upper import DIGEST_LIMIT, RACY_MARGIN_NS, UpperChanges, read_upper


def _same_stat(upper: Path, earlier: UpperChanges) -> bool:
    """A read of `upper` now, with the stat data `earlier` saw (a rewrite within its tick)."""
    forged = dataclasses.replace(read_upper(upper), signature=earlier.signature)
    return forged.same_as(earlier, upper)


def test_a_racy_rewrite_with_the_same_stat_data_is_a_change(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.txt").write_bytes(b"one")
    os.symlink("f.txt", tmp_path / "a" / "link")
    earlier = read_upper(tmp_path)
    assert earlier.racy is not None and set(earlier.racy) == {"a", "a/f.txt", "a/link"}
    assert read_upper(tmp_path).same_as(earlier, tmp_path)
    (tmp_path / "a" / "f.txt").write_bytes(b"two")
    assert not _same_stat(tmp_path, earlier)
    (tmp_path / "a" / "f.txt").write_bytes(b"one")
    assert _same_stat(tmp_path, earlier)  # the content it had: the snapshot made then still holds
    os.unlink(tmp_path / "a" / "link")
    os.symlink("elsewhere", tmp_path / "a" / "link")
    assert not _same_stat(tmp_path, earlier)
    os.unlink(tmp_path / "a" / "link")
    assert not _same_stat(tmp_path, earlier)


def test_a_folder_made_opaque_within_the_tick_is_a_change(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    earlier = read_upper(tmp_path)
    os.setxattr(tmp_path / "d", "user.overlay.opaque", b"y")
    assert not _same_stat(tmp_path, earlier)


def test_entries_older_than_the_margin_are_trusted_on_their_stat_data(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_bytes(b"one")
    time.sleep(RACY_MARGIN_NS / 1e9 + 0.05)
    earlier = read_upper(tmp_path)
    assert earlier.racy == {}  # nothing read beyond the walk's stat calls
    assert read_upper(tmp_path).same_as(earlier, tmp_path)
    (tmp_path / "f.txt").write_bytes(b"two")  # new times: the signature differs
    assert not read_upper(tmp_path).same_as(earlier, tmp_path)


def test_a_racy_file_too_big_to_digest_is_never_the_same(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(b"x" * (DIGEST_LIMIT + 1))
    earlier = read_upper(tmp_path)
    assert earlier.racy is None
    assert not read_upper(tmp_path).same_as(earlier, tmp_path)
