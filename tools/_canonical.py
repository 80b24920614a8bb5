"""Canonical Unicode equivalence: `é` typed as U+00E9 (NFC) is the same text as `e` + U+0301 (NFD).

macOS file names, some editors and pasted text store NFD; models write NFC. The last matcher of
the chain compares NFC forms, finds where a match lies in the original text (a composed character
is never cut in half), and writes the replacement in the form the file uses there.
"""

from __future__ import annotations

import bisect
import unicodedata

_LONG_LINE = 4000
"""Lines longer than this are not mapped back character by character (quadratic)."""


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def canonical_spans(text: str, old: str) -> list[tuple[int, int]]:
    """Where `old` occurs in `text` when both are compared in NFC, as offsets into `text`."""
    want = nfc(old)
    if not want:
        return []
    if unicodedata.is_normalized("NFC", text):
        return _find_all(text, want)
    lines = text.split("\n")
    normal = [nfc(ln) for ln in lines]
    starts_in = _starts(lines)
    starts_nf = _starts(normal)
    spans: list[tuple[int, int]] = []
    for a, b in _find_all("\n".join(normal), want):
        start = _map_back(a, lines, normal, starts_in, starts_nf)
        stop = _map_back(b, lines, normal, starts_in, starts_nf)
        if start is not None and stop is not None:
            spans.append((start, stop))
    return spans


def in_form_of(new: str, block: str) -> str:
    """`new` in the normalization form `block` (the file's text it replaces) is written in."""
    if nfc(block) == block:
        return nfc(new)
    if unicodedata.normalize("NFD", block) == block:
        return unicodedata.normalize("NFD", new)
    return new


def _find_all(text: str, sub: str) -> list[tuple[int, int]]:
    """Every place `sub` occurs, overlapping ones included (the caller wants exactly one)."""
    found: list[tuple[int, int]] = []
    pos = text.find(sub)
    while pos != -1:
        found.append((pos, pos + len(sub)))
        pos = text.find(sub, pos + 1)
    return found


def _starts(lines: list[str]) -> list[int]:
    out, pos = [], 0
    for ln in lines:
        out.append(pos)
        pos += len(ln) + 1
    return out


def _map_back(
    pos: int, lines: list[str], normal: list[str], starts_in: list[int], starts_nf: list[int]
) -> int | None:
    """The offset in the original text of NFC offset `pos`; None inside a composed character."""
    row = bisect.bisect_right(starts_nf, pos) - 1
    local = pos - starts_nf[row]
    line, form = lines[row], normal[row]
    if line == form:
        return starts_in[row] + local
    if len(line) > _LONG_LINE:
        return None
    head, tail = form[:local], form[local:]
    for cut in range(len(line) + 1):
        if nfc(line[:cut]) == head and nfc(line[cut:]) == tail:
            return starts_in[row] + cut
    return None
