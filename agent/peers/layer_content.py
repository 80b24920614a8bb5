"""`LayerContent`: what one config file, ours or a peer's, gives the config layers, and what it does not.

A peer file is translated into the keys of our own config schema (`permission`,
`defaults.permission_mode`, `agents.NAME.permission|tools`), so that trust filtering, merging and
rule order treat it like `.subagent/config.yaml`. What the translation leaves out is kept as
`unapplied` lines (`key: why`) for `subagent doctor`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.errors import RegistryError

MAX_SETTINGS_BYTES = 1024 * 1024
"""A settings file is a few kilobytes; anything larger is refused rather than parsed."""


@dataclass(eq=False, repr=False)
class LayerContent:
    """One file's contribution to the config layers."""

    raw: dict[str, Any] = field(default_factory=dict)
    """Keys of `agent.registry.schema.RegistryConfig`, as a config file would set them."""
    spelled: dict[tuple[str, str], str] = field(default_factory=dict)
    """(permission, pattern) -> the rule as the file writes it, to find its line."""
    unapplied: list[str] = field(default_factory=list)
    """`key: why` for each part of the file this runtime does not apply."""
    text: str = ""
    """The file's text, to find a rule's line."""

    def line_of(self, permission: str, pattern: str) -> int | None:
        """The first line of the file holding the rule as written (None when it cannot be found)."""
        needles = [self.spelled.get((permission, pattern)), pattern if pattern != "*" else permission]
        for needle in (n for n in needles if n):
            for number, line in enumerate(self.text.splitlines(), start=1):
                if json.dumps(needle) in line or (needle in line and needle != "*"):
                    return number
        return None


def read_json_object(path: Path, text: str | None = None) -> tuple[dict[str, Any], str]:
    """The JSON object in `path` (or in `text`, a layer given as text, named `path`) and its text.

    Raises:
        RegistryError: unreadable, too large, not JSON, or not an object (with the line).
    """
    if text is None:
        text = _read_text(path)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"invalid JSON (line {exc.lineno}): {exc.msg}; fix it or remove the file"
        raise RegistryError(path, reason) from exc
    if not isinstance(value, dict):
        raise RegistryError(path, "the top level must be a JSON object")
    return value, text


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SETTINGS_BYTES + 1)
        if len(data) > MAX_SETTINGS_BYTES:
            raise RegistryError(path, f"larger than {MAX_SETTINGS_BYTES} bytes; a settings file is small")
        return data.decode("utf-8-sig")
    except OSError as exc:
        raise RegistryError(path, f"cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise RegistryError(path, "not UTF-8 text; a settings file is JSON text") from exc
