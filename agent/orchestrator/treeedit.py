"""A commit's tree with some paths changed, written by reading and writing only the folders on
their way, whatever the size of the repository.

`git cat-file --batch` reads the tree of each folder that holds a changed path (the root, and
every folder above a path), Python applies the changes and computes the new trees bottom-up
(git's tree format: entries `MODE NAME\\0ID`, sorted by name with a folder's name compared as if
it ended in `/`), and `git mktree --batch` writes them, deepest first, printing each id, which
must be the one computed. Reading the whole tree into an index (`read-tree`, `update-index`,
`write-tree`) costs what the repository holds: 0.22 s at 20,000 files against 15 ms this way.

`cat-file --batch -z` reads NUL-ended names, as bytes (`os.fsencode`: a name that is no UTF-8
is asked for as it is), so a folder whose name ends in a carriage return is asked for as it is
(line input drops a CR before the LF: `d\r` would read `d`'s tree). Its answer for a missing
name is a line that echoes the name (git 2.43's `-Z` ends it with a NUL; git 2.39 has no `-Z`),
so a path with a newline cannot be asked for: `writable` says so first, and the caller merges
such a child three-way instead.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable

from agent.errors import WorktreeError
from agent.orchestrator import catfile
from agent.orchestrator._git import run_git
from agent.orchestrator.disjoint import folders_of
from agent.orchestrator.materialise import Change
from agent.sessions.checkpoints import ShadowRepo

_FOLDER = b"40000"
Entries = dict[bytes, tuple[bytes, bytes]]
"""A folder's entries: name -> (mode as git writes it in a tree, raw object id)."""


def writable(changes: Iterable[Change]) -> bool:
    """Whether `edit` can apply these changes (no path holds a newline)."""
    return not any("\n" in change.path for change in changes)


def edit(repo: ShadowRepo, onto: str, changes: list[Change]) -> str:
    """The id of commit `onto`'s tree with `changes` applied (their new sides).

    Raises:
        WorktreeError: git failed, or wrote a tree other than the one computed.
    """
    folders = sorted(
        {"", *(folder for change in changes for folder in folders_of(change.path))}
    )  # "": the root
    tree = f"{onto}^{{tree}}".encode()
    asked = b"".join(tree + (b":" + os.fsencode(folder) if folder else b"") + b"\0" for folder in folders)
    listed = run_git(repo.git.target, "cat-file", "--batch", "-z", stdin=asked).stdout
    id_bytes = len(onto) // 2
    trees = dict(zip(folders, _parse_batch(listed, len(folders), id_bytes), strict=True))
    for change in changes:
        folder, _, name = change.path.rpartition("/")
        entries = trees[folder]
        if change.gone:
            entries.pop(os.fsencode(name), None)
        else:
            mode = change.new_mode.lstrip("0").encode()
            entries[os.fsencode(name)] = (mode, bytes.fromhex(change.new_sha))
    digest = hashlib.sha256 if id_bytes == 32 else hashlib.sha1
    written: list[tuple[str, Entries, str]] = []
    for folder in sorted(folders, key=lambda f: (-f.count("/") if f else 1, f)):  # deepest first, root last
        entries = trees[folder]
        parent, _, name = folder.rpartition("/")
        if not entries and folder:  # an emptied folder is no entry of its parent (a file may be, now)
            if trees[parent].get(os.fsencode(name), (b"",))[0] == _FOLDER:
                del trees[parent][os.fsencode(name)]
            continue
        body = b"".join(
            mode + b" " + entry + b"\0" + object_id for entry, (mode, object_id) in _sorted(entries)
        )
        tree_id = digest(b"tree %d\0" % len(body) + body).hexdigest()
        written.append((folder, entries, tree_id))
        if folder:
            trees[parent][os.fsencode(name)] = (_FOLDER, bytes.fromhex(tree_id))
    made = run_git(repo.git.target, "mktree", "-z", "--batch", stdin=_mktree_input(written)).stdout.split()
    expected = [tree_id for _folder, _entries, tree_id in written]
    if [m.decode() for m in made] != expected:
        raise WorktreeError(f"git mktree wrote {made!r}, not the trees computed ({expected}) from {onto}")
    return expected[-1]


def _sorted(entries: Entries) -> list[tuple[bytes, tuple[bytes, bytes]]]:
    """git's order of a tree's entries: by name, a folder's as if it ended in `/`."""
    return sorted(entries.items(), key=lambda item: item[0] + b"/" if item[1][0] == _FOLDER else item[0])


def _mktree_input(written: list[tuple[str, Entries, str]]) -> bytes:
    """`mktree -z --batch` input: each tree's entries in `ls-tree` form, an empty record after each."""
    kinds = {_FOLDER: "tree", b"160000": "commit"}
    out = bytearray()
    for _folder, entries, _tree_id in written:
        for name, (mode, object_id) in entries.items():
            out += f"{mode.decode()} {kinds.get(mode, 'blob')} {object_id.hex()}\t".encode() + name + b"\0"
        out += b"\0"
    return bytes(out)


def _parse_batch(listed: bytes, count: int, id_bytes: int) -> list[Entries]:
    """The entries of each folder `cat-file --batch` printed (none for one that is missing, or is
    no folder in that commit: a file that became one)."""
    found: list[Entries] = []
    stream = io.BytesIO(listed)
    for _ in range(count):
        answer = catfile.next_object(stream)
        body = b"".join(catfile.content(stream, answer[1])) if answer is not None else b""
        found.append(_parse_tree(body, id_bytes) if answer is not None and answer[0] == b"tree" else {})
    return found


def _parse_tree(body: bytes, id_bytes: int) -> Entries:
    entries: Entries = {}
    at = 0
    while at < len(body):
        space = body.index(b" ", at)
        nul = body.index(b"\0", space)
        entries[body[space + 1 : nul]] = (body[at:space], body[nul + 1 : nul + 1 + id_bytes])
        at = nul + 1 + id_bytes
    return entries
