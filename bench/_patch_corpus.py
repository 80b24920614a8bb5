"""The patch corpus: real release-to-release diffs, the damaged variants models produce, and the same
changes written in the Codex `*** Begin Patch` grammar (with the decorations models add).

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
_SECTION = re.compile(r"^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@ ?(.*)$")
_ANCHOR_MAX = 70
"""git cuts a hunk's function line at 80 bytes; a shorter one is the whole line, usable as `@@ anchor`."""


@dataclass(frozen=True)
class CorpusCase:
    name: str
    old: Path
    """Folder with the files before."""
    new: Path
    """Folder with the files after."""
    diff: str

    @property
    def unified(self) -> bool:
        """True for a unified diff, which `git apply` and `patch` also read."""
        return "*** Begin Patch" not in self.diff


def git_diff(pair: Path) -> str:
    """`git diff --no-index old new` inside `pair`, with paths made relative to old/ and new/."""
    out = subprocess.run(
        ["git", "diff", "--no-index", "--no-color", "old", "new"], cwd=pair, capture_output=True, text=True
    ).stdout
    return (
        out.replace(" a/old/", " a/")
        .replace(" b/new/", " b/")
        .replace("--- a/old/", "--- a/")
        .replace("+++ b/new/", "+++ b/")
        .replace("diff --git a/old/", "diff --git a/")
    )


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
    return (
        diff.replace("--- a/", "--- ")
        .replace("+++ b/", "+++ ")
        .replace("diff --git a/", "diff --git ")
        .replace(" b/", " ")
    )


def wrong_counts(diff: str) -> str:
    """Hunk headers whose line counts are off by two, as hand- or model-written diffs often are."""

    def miscount(m: re.Match[str]) -> str:
        old = int(m.group(2)[1:] or 1) + 2
        new = int(m.group(4)[1:] or 1) + 2
        return f"@@ -{m.group(1)},{old} +{m.group(3)},{new} @@"

    return _HUNK.sub(miscount, diff)


def to_codex(diff: str) -> str:
    """The git diff's changes in the Codex grammar: a file per `*** Update/Add/Delete File:`, each hunk
    under `@@` with git's function line as its anchor when it is whole."""
    out = ["*** Begin Patch"]
    lines = diff.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            old, new = line[4:].removeprefix("a/"), lines[i + 1][4:].removeprefix("b/")
            if old == "/dev/null":
                out.append(f"*** Add File: {new}")
            elif new == "/dev/null":
                out.append(f"*** Delete File: {old}")
            else:
                out.append(f"*** Update File: {old}")
        elif (section := _SECTION.match(line)) is not None:
            if not out[-1].startswith("*** Add File"):
                anchor = section.group(1).strip()
                out.append(f"@@ {anchor}" if anchor and len(anchor) < _ANCHOR_MAX else "@@")
        elif line[:1] in ("+", "-", " ") and not line.startswith(("+++ ", "--- ")):
            if not (out[-1].startswith("*** Delete File") or (line[0] != "+" and _in_added(out))):
                out.append(line)
    return "\n".join(out) + "\n*** End Patch\n"


def _in_added(out: list[str]) -> bool:
    """Whether the lines being written belong to an `*** Add File`."""
    return next((ln for ln in reversed(out) if ln.startswith("*** ")), "").startswith("*** Add File")


def _blank_lines(patch: str) -> str:
    """A blank line before every file header and before `*** End Patch`, as models often write."""
    return patch.replace("\n*** ", "\n\n*** ").replace("\n\n*** Begin", "\n*** Begin") + "\n"


CODEX_VARIANTS: dict[str, Callable[[str], str]] = {
    "codex": to_codex,
    "codex_blank_lines": lambda d: _blank_lines(to_codex(d)),
    "codex_heredoc": lambda d: "apply_patch <<'EOF'\n" + to_codex(d) + "EOF\n",
    "codex_crlf": lambda d: to_codex(d).replace("\n", "\r\n"),
}


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
        for name, variant in (VARIANTS | CODEX_VARIANTS).items():
            cases.append(CorpusCase(f"{pair.name}-{name}", pair / "old", pair / "new", variant(diff)))
    return cases


def copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, dirs_exist_ok=True)


def same_tree(a: Path, b: Path) -> bool:
    """True when both folders hold the same files with the same bytes."""
    files_a = {p.relative_to(a): p.read_bytes() for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b): p.read_bytes() for p in b.rglob("*") if p.is_file()}
    return files_a == files_b
