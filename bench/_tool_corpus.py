"""The edit and patch corpus: cases in the shapes models send, each with the files after or the error.

The cases live in tests/tools/corpus/*.toml (one file per category, each case naming where its
shape comes from). Shared by the tests and bench_patch, so both judge the same cases the same way.

A case:

    [[case]]
    name = "..."            # unique in the corpus
    source = "..."          # where the shape comes from (a peer's fixture, an issue, a real commit)
    tool = "patch"          # or "edit"
    before = { "f.txt" = "..." }      # files before (UTF-8 text; escapes for CR, BOM, NFD)
    modes = { "f.txt" = 0o444 }       # optional file modes
    input = { ... }                   # the tool's input
    after = { "f.txt" = "..." }       # files after (files not named stay as they were) ...
    absent = ["g.txt"]                # ... and files that must be gone
    error = "..."                     # or: a part of the error, and every file as it was
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agent.errors import ToolFailure
from agent.tool import ToolContext
from tools.edit import EditInput, EditTool
from tools.patch import PatchInput, PatchTool
from tools.read import ReadInput, ReadTool

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "tools" / "corpus"


@dataclass(frozen=True)
class ToolCase:
    """One call of edit or patch on a few files, and what must come of it."""

    name: str
    category: str
    """The corpus file it is in (trailing_blank, line_endings, ...)."""
    source: str
    tool: Literal["edit", "patch"]
    before: dict[str, bytes]
    input: dict[str, Any]
    modes: dict[str, int] = field(default_factory=dict)
    after: dict[str, bytes] = field(default_factory=dict)
    absent: tuple[str, ...] = ()
    error: str | None = None

    @property
    def unified(self) -> bool:
        """True for a plain unified diff, which `git apply` and `patch` also read."""
        text = str(self.input.get("patch_text", ""))
        return self.tool == "patch" and text.lstrip().startswith(("--- ", "diff --git "))


def tool_cases() -> list[ToolCase]:
    """Every case of every corpus file, in a stable order."""
    cases: list[ToolCase] = []
    for path in sorted(CORPUS.glob("*.toml")):
        for raw in tomllib.loads(path.read_text(encoding="utf-8"))["case"]:
            cases.append(
                ToolCase(
                    name=raw["name"],
                    category=path.stem,
                    source=raw["source"],
                    tool=raw["tool"],
                    before={k: v.encode() for k, v in raw.get("before", {}).items()},
                    input=raw["input"],
                    modes=raw.get("modes", {}),
                    after={k: v.encode() for k, v in raw.get("after", {}).items()},
                    absent=tuple(raw.get("absent", ())),
                    error=raw.get("error"),
                )
            )
    names = [c.name for c in cases]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"{CORPUS}: case names used twice: {sorted(duplicates)}")
    return cases


def lay_out(case: ToolCase, ws: Path) -> None:
    """Write the case's files (and modes) into the workspace `ws`."""
    ws.mkdir(parents=True, exist_ok=True)
    for name, data in case.before.items():
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_bytes(data)
    for name, mode in case.modes.items():
        os.chmod(ws / name, mode)


def judge(case: ToolCase, ws: Path, error: str | None) -> str | None:
    """None when the workspace and the error are what the case expects, else what is wrong."""
    if case.error is not None:
        if error is None:
            return "succeeded, but an error was expected"
        if case.error not in error:
            return f"the error does not say {case.error!r}: {error}"
        changed = [n for n, data in case.before.items() if _bytes(ws / n) != data]
        extra = [n for n in case.after if n not in case.before and (ws / n).exists()]
        return f"failed but changed {changed + extra}" if changed or extra else None
    if error is not None:
        return f"failed: {error}"
    for name, data in case.after.items():
        if _bytes(ws / name) != data:
            return f"{name} is {_bytes(ws / name)!r}, expected {data!r}"
    for name in case.absent:
        if (ws / name).exists():
            return f"{name} still exists"
    for name, data in case.before.items():
        if name not in case.after and name not in case.absent and _bytes(ws / name) != data:
            return f"{name} changed, though the case does not change it"
    return None


async def run_ours(case: ToolCase, ws: Path) -> tuple[str | None, str]:
    """Lay the case out in `ws`, read its files, run the tool: (what is wrong or None, the output)."""
    lay_out(case, ws)
    ctx = ToolContext(workspace=ws, data_dir=ws.parent / f"{ws.name}-data")
    for name in case.before:
        await ReadTool().run(ReadInput(file_path=name), ctx)
    error: str | None = None
    output = ""
    try:
        if case.tool == "edit":
            output = (await EditTool().run(EditInput(**case.input), ctx)).output
        else:
            output = (await PatchTool().run(PatchInput(**case.input), ctx)).output
    except ToolFailure as exc:
        error = str(exc)
    return judge(case, ws, error), error or output


def _bytes(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None
