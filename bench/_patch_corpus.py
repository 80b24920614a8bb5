"""The patch corpus: real release-to-release diffs, and the damaged variants models produce.

Shared by the patch tests and bench_patch, so both measure the same diffs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HISTORY = Path(__file__).resolve().parent.parent / "tests" / "tools" / "fixtures" / "history"
_HUNK = re.compile(r"^@@ -(\d+)((?:,\d+)?) \+(\d+)((?:,\d+)?) @@", re.M)


@dataclass(frozen=True)
class CorpusCase:
    name: str
    old: Path
    """Folder with the files before."""
    new: Path
    """Folder with the files after."""
    diff: str


def git_diff(pair: Path) -> str:
    """`git diff --no-index old new` inside `pair`, with paths made relative to old/ and new/."""
    out = subprocess.run(["git", "diff", "--no-index", "--no-color", "old", "new"], cwd=pair,
                         capture_output=True, text=True).stdout
    return out.replace(" a/old/", " a/").replace(" b/new/", " b/").replace("--- a/old/", "--- a/") \
        .replace("+++ b/new/", "+++ b/").replace("diff --git a/old/", "diff --git a/")


def shift_line_numbers(diff: str, by: int = 7) -> str:
    """Every hunk header's line numbers moved by `by` (kept at 1 or more)."""
    def move(m: re.Match[str]) -> str:
        old, new = max(1, int(m.group(1)) + by), max(1, int(m.group(3)) + by)
        return f"@@ -{old}{m.group(2)} +{new}{m.group(4)} @@"
    return _HUNK.sub(move, diff)


def strip_context_whitespace(diff: str) -> str:
    """Trailing whitespace removed from context lines (a blank context line becomes empty)."""
    return "\n".join(ln.rstrip() if ln.startswith(" ") else ln for ln in diff.split("\n"))


def drop_prefixes(diff: str) -> str:
    """The same diff as `git diff --no-prefix` would print it."""
    return diff.replace("--- a/", "--- ").replace("+++ b/", "+++ ").replace("diff --git a/", "diff --git ") \
        .replace(" b/", " ")


def wrong_counts(diff: str) -> str:
    """Hunk headers whose line counts are off by two, as hand- or model-written diffs often are."""
    def miscount(m: re.Match[str]) -> str:
        old = int(m.group(2)[1:] or 1) + 2
        new = int(m.group(4)[1:] or 1) + 2
        return f"@@ -{m.group(1)},{old} +{m.group(3)},{new} @@"
    return _HUNK.sub(miscount, diff)


VARIANTS: dict[str, Callable[[str], str]] = {
    "exact": lambda d: d,
    "shifted": shift_line_numbers,
    "shifted_back": lambda d: shift_line_numbers(d, -4),
    "context_rstripped": strip_context_whitespace,
    "shifted_and_rstripped": lambda d: strip_context_whitespace(shift_line_numbers(d)),
    "no_prefix": drop_prefixes,
    "wrong_counts": wrong_counts,
}


def corpus() -> list[CorpusCase]:
    """Every package pair under every variant."""
    cases: list[CorpusCase] = []
    for pair in sorted(p for p in HISTORY.iterdir() if (p / "old").is_dir()):
        diff = git_diff(pair)
        for name, variant in VARIANTS.items():
            cases.append(CorpusCase(f"{pair.name}-{name}", pair / "old", pair / "new", variant(diff)))
    return cases


def copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, dirs_exist_ok=True)


def same_tree(a: Path, b: Path) -> bool:
    """True when both folders hold the same files with the same bytes."""
    files_a = {p.relative_to(a): p.read_bytes() for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b): p.read_bytes() for p in b.rglob("*") if p.is_file()}
    return files_a == files_b
