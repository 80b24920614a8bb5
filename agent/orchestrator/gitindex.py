"""A git index written from a snapshot's entries and the stat data of files known to hold them.

A reflinked tree's files are the base checkout's, byte for byte (cloned, their modes and
modification times kept), so git need not read them again: the tree's index is the base's
entries, each with its copy's own stat data, which is what `git checkout-index -u` would have
recorded had it written the files. Later `git ls-files --modified` and `git add` then look at
stat data only, and read just the files whose stat data changed (what the child touched).

The format is git's index version 2 (git's Documentation/gitformat-index.txt), without
extensions; SHA-1 or SHA-256 object ids, as the entries' ids are.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from agent._atomic_file import write_atomic

_NAME_MASK = 0xFFF
_WORD = 0xFFFFFFFF


@dataclass(frozen=True, eq=False, repr=False)
class Entry:
    """One stage-0 entry, as `git ls-files --stage -z` prints it."""

    mode: int
    object_id: bytes
    path: bytes
    """Relative, `/`-separated, as git stores it."""


def parse_stage(listing: bytes) -> list[Entry]:
    """The entries of `git ls-files --stage -z` output (`MODE OID STAGE\\tPATH\\0`...), in order."""
    entries = []
    for record in listing.split(b"\0"):
        if not record:
            continue
        header, path = record.split(b"\t", 1)
        mode, object_id, stage = header.split()
        if stage != b"0":
            raise ValueError(f"{path!r} has a conflict stage {stage.decode()}: not a snapshot's index")
        entries.append(Entry(int(mode, 8), bytes.fromhex(object_id.decode()), path))
    return entries


def write_index(index: Path, entries: list[Entry], tree: Path, id_bytes: int) -> None:
    """Write `index` for `tree`: `entries` (in git's order) with each file's stat data from `tree`;
    `id_bytes` is the repository's object id length (20: SHA-1, 32: SHA-256).

    Raises:
        OSError: a file of `entries` is missing from `tree`.
    """
    body = bytearray(b"DIRC" + struct.pack(">II", 2, len(entries)))
    root = os.fsencode(tree)
    for entry in entries:
        info = os.lstat(os.path.join(root, entry.path))
        fields = (
            info.st_ctime_ns // 1_000_000_000,
            info.st_ctime_ns % 1_000_000_000,
            info.st_mtime_ns // 1_000_000_000,
            info.st_mtime_ns % 1_000_000_000,
            info.st_dev,
            info.st_ino,
            entry.mode,
            info.st_uid,
            info.st_gid,
            info.st_size,
        )
        body += struct.pack(">10I", *(value & _WORD for value in fields))
        body += entry.object_id + struct.pack(">H", min(len(entry.path), _NAME_MASK)) + entry.path
        fixed = 40 + len(entry.object_id) + 2
        body += b"\0" * (8 - (fixed + len(entry.path)) % 8)  # one to eight NULs, to a multiple of 8
    body += (hashlib.sha256 if id_bytes == 32 else hashlib.sha1)(body).digest()
    write_atomic(index, bytes(body), mode=0o666, fsync=False)
