"""Reading and writing text files the way an editor would: nothing about the file changes
except the text that was meant to change.

Line endings, BOM, encoding, the final newline and the file mode survive every write; writes are
atomic; and a file must have been read (and be unchanged since) before it may be changed.
"""

from __future__ import annotations

import difflib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.errors import StaleReadError, ToolFailure
from agent.events import FileChange
from agent.tool import ReadLedger, ToolContext
from tools import _fs
from tools._line_endings import join_endings, split_endings, usual_ending
from tools._paths import printable

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, eq=False, repr=False)
class TextFile:
    """A decoded file: `text` is its LF view (tools/_line_endings.py), the rest says how to write it back."""

    text: str
    newline: str
    """The file's usual line ending ("\\r\\n" when most lines end in CRLF, else "\\n")."""
    bom: bool
    encoding: str
    """"utf-8", or "latin-1" for bytes that are not UTF-8 (decoded losslessly)."""
    endings: tuple[str, ...] = ()
    """The ending of each newline of `text`, in order, as the file has it."""


_SAMPLE = 8192
_CONTROL = frozenset(range(0x20)) - frozenset(b"\t\n\v\f\r\x1b") | {0x7F}
"""Bytes text never has: C0 controls and DEL, except tab, newlines, form feed and ESC (ANSI colour)."""


def is_binary(data: bytes) -> bool:
    """Whether `data` is binary, judged on its first 8 KB (BOM aside):

    - a NUL byte: binary (git's rule);
    - valid UTF-8 (a multibyte character cut by the 8 KB sample is fine): text;
    - otherwise binary when more than 5% of the bytes are controls (`_CONTROL`). Random bytes have
      about 10% of them; a Latin-1 or cp1252 file with stray accented bytes has next to none, and
      stays readable (decode_text decodes it as Latin-1, losslessly).
    """
    sample = data[:_SAMPLE]
    if b"\x00" in sample:
        return True
    body = sample[len(_BOM) :] if sample.startswith(_BOM) else sample
    try:
        body.decode("utf-8")
        return False
    except UnicodeDecodeError as exc:
        if len(data) > _SAMPLE and exc.start >= len(body) - 3 and exc.reason == "unexpected end of data":
            return False
    controls = sum(1 for byte in body if byte in _CONTROL)
    return controls * 20 > len(body)


def decode_text(data: bytes) -> TextFile:
    """Decode file bytes, remembering everything needed to write them back the same way."""
    bom = data.startswith(_BOM)
    body = data[len(_BOM) :] if bom else data
    try:
        raw, encoding = body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        raw, encoding = body.decode("latin-1"), "latin-1"
    text, endings = split_endings(raw)
    return TextFile(text=text, newline=usual_ending(endings), bom=bom, encoding=encoding, endings=endings)


def encode_text(
    text: str, like: TextFile | None, endings: Sequence[str] | None = None, label: str = "the file"
) -> bytes:
    """Encode an LF view with `endings` (one per newline), or else every line in `like`'s usual
    ending; with `like`'s BOM and encoding (a new file: UTF-8, as given).

    Raises:
        ToolFailure: with `endings` (an edit of some lines), new text the file's encoding cannot
            hold: writing the whole file as UTF-8 instead would change every line's bytes.
    """
    if like is None:
        return text.encode("utf-8")
    given = endings is not None
    if endings is None:
        text = text.replace("\r\n", "\n")
        endings = (like.newline,) * text.count("\n")
    raw = join_endings(text, endings)
    try:
        data = raw.encode(like.encoding)
    except UnicodeEncodeError as exc:
        if given:
            raise ToolFailure(
                f"{label} is not UTF-8 (it was read as {like.encoding}) and the new text has "
                f"{exc.object[exc.start : exc.end]!r}, which that encoding cannot hold; nothing was changed. "
                "Write those characters another way (an escape the language understands)"
            ) from exc
        data = raw.encode("utf-8")
    return (_BOM + data) if like.bom else data


MAX_EDIT_BYTES = 16 * 1024 * 1024
"""The largest file edit, write and patch load (and `read` hashes whole for the guard): they hold
it several times over (bytes, text, lines, a diff). Bigger files are changed with bash."""


def _no_check(_: Path) -> None:
    """Folders made while restoring a file need no check: the file was there before."""


def read_regular(path: Path) -> bytes | None:
    """The bytes of the regular file at `path` (opened without following a link), or None when
    nothing is there.

    Raises:
        ToolFailure: a directory, a FIFO, socket or device, over MAX_EDIT_BYTES, or unreadable.
    """
    opened = _fs.open_for_reading(path)
    if opened is None:
        return None
    with opened:
        if opened.is_dir:
            raise ToolFailure(f"{printable(str(path))} is a directory, not a file")
        data = opened.read_at_most(MAX_EDIT_BYTES + 1)
    if len(data) > MAX_EDIT_BYTES:
        raise ToolFailure(
            f"{printable(str(path))} is over {MAX_EDIT_BYTES // (1024 * 1024)} MiB, more than "
            "the file tools load to change a file; change it with bash (sed, a script)"
        )
    return data


async def load_bytes(path: Path, ctx: ToolContext) -> bytes | None:
    """The file's current bytes (the editor's buffer when it has one), or None when it does not exist.

    The policy is asked here too, whoever resolved `path`: every load is checked.
    """
    assert ctx.policy is not None
    ctx.policy.check(path, "read")
    if ctx.editor is not None:
        text = await ctx.editor.read_text(path)
        if text is not None:
            return text.encode("utf-8")
    try:
        return read_regular(path)
    except OSError as exc:
        raise ToolFailure(f"{printable(str(path))}: cannot read: {exc.strerror}") from exc


def check_fresh(path: Path, current: bytes | None, ledger: ReadLedger) -> None:
    """Refuse to change an existing file not read in this session, or changed since (by content).

    Raises:
        StaleReadError: the file exists and the ledger has no matching hash for it.
    """
    if current is None:
        return
    known = ledger.hashes.get(path)
    if known is None:
        raise StaleReadError(path, "this file was not read in this session")
    if known != ledger.digest(current):
        raise StaleReadError(path, "this file changed on disk since it was last read")


def check_writable(path: Path, label: str) -> None:
    """Refuse to change a file its permissions say may not be written (a 0444 file, say), as
    `git apply` and Codex do: replacing it through a new file and a rename would only need the
    folder to be writable. A missing file passes (it is created).

    For root every file is writable to the kernel, so there a file counts as read-only when none
    of its write bits is set (what editors such as vim do).

    Raises:
        ToolFailure: the file exists and may not be written.
    """
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        raise ToolFailure(f"{label}: cannot check whether it may be written: {exc.strerror}") from exc
    if not stat.S_ISREG(mode):
        return
    if os.geteuid() == 0:
        writable = bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    else:
        writable = os.access(path, os.W_OK, effective_ids=os.access in os.supports_effective_ids)
    if not writable:
        raise ToolFailure(
            f"{label} is read-only (mode {stat.S_IMODE(mode):04o}); nothing was changed. "
            "Ask the user to make it writable if it should change"
        )


def write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder, fsync, then rename over the target.

    The target keeps its mode; a new file gets the umask's default. An interruption leaves either
    the old file or the new one, never a half-written file. Every step is relative to the parent
    folder's descriptor, opened without following a link (`tools._fs.replace_file`).
    """
    _fs.replace_file(path, data, _no_check)


async def store_bytes(path: Path, data: bytes, ctx: ToolContext) -> None:
    """Write `data` (through the editor when one is attached) and count it as read.

    The policy is asked for `write` on the file and on every folder that must be made for it.
    """
    assert ctx.policy is not None
    policy = ctx.policy
    policy.check(path, "write")
    if ctx.editor is not None:
        await ctx.editor.write_text(path, data.decode("utf-8", errors="surrogateescape"))
    else:
        _fs.replace_file(path, data, lambda folder: policy.check(folder, "write"))
    ctx.reads.record(path, data)


def delete_file(path: Path, ctx: ToolContext) -> None:
    """Delete the regular file `path` (policy: `write`) and forget it in the guard."""
    assert ctx.policy is not None
    ctx.policy.check(path, "write")
    _fs.remove_file(path)
    ctx.reads.forget(path)


def unified_diff(label: str, old: str, new: str) -> str:
    """A unified diff of two LF texts, labelled a/ and b/ like git's."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{label}",
        tofile=f"b/{label}",
        n=3,
    )
    out: list[str] = []
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


def file_change(
    path: Path, label: str, old: str | None, new: str | None, old_path: Path | None = None
) -> FileChange:
    """The FileChange an event and ACP show: action, diff and both whole texts."""
    if old is None:
        action = "add"
    elif new is None:
        action = "delete"
    elif old_path is not None and old_path != path:
        action = "move"
    else:
        action = "update"
    return FileChange(
        path=str(path),
        action=action,
        diff=unified_diff(label, old or "", new or ""),
        old_text=old,
        new_text=new,
        old_path=str(old_path) if old_path is not None else None,
    )
