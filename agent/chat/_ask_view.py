"""What a permission panel shows of a call's input: the command, or the change for an edit.

`AskRequest.detail` carries the call's input as the loop printed it (a Python dict literal); it is
parsed back with `ast.literal_eval` (never `eval`) and shown as a person reads it. Anything that
does not parse is shown as it came.
"""

from __future__ import annotations

import ast
import difflib
from typing import Any

_MAX_LINES = 40


def _parsed(detail: str) -> dict[str, Any] | None:
    try:
        value = ast.literal_eval(detail)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _capped(lines: list[str]) -> str:
    if len(lines) > _MAX_LINES:
        lines = [*lines[:_MAX_LINES], f"… {len(lines) - _MAX_LINES} more lines"]
    return "\n".join(lines)


def ask_detail(tool_name: str, detail: str) -> tuple[str, str]:
    """(text, lexer) for the panel body under the title; lexer "" means plain text."""
    data = _parsed(detail)
    if data is None:
        return detail, ""
    path = str(data.get("file_path", ""))
    if isinstance(data.get("command"), str):
        return data["command"], "bash"
    if isinstance(data.get("old_string"), str) and isinstance(data.get("new_string"), str):
        diff = difflib.unified_diff(
            data["old_string"].splitlines(), data["new_string"].splitlines(), path, path, lineterm=""
        )
        return _capped(list(diff)), "diff"
    if isinstance(data.get("content"), str):
        return _capped([f"+{line}" for line in data["content"].splitlines()]), "diff"
    if isinstance(data.get("patch_text"), str):
        return _capped(data["patch_text"].splitlines()), "diff"
    return "\n".join(f"{key}: {value}" for key, value in data.items()), ""
