"""Where a permission rule was written: `file:line` for `subagent agents show --rules`.

Rules of the config layers carry their line (`PermissionRule.line`, found when the layer is
read); for the others (a persona's frontmatter, an `agents.NAME` entry) the line is looked up
here, as the first line of the file holding the rule's pattern (or its permission, for `*`).
"""

from __future__ import annotations

from pathlib import Path

from agent.peers.layer_content import LayerContent
from agent.permissions.models import PermissionRule


def rule_origin(rule: PermissionRule) -> str:
    """`file:line`, `file`, or the source as it is (`default`, `session`)."""
    if not rule.source:
        return "?"
    path = Path(rule.source)
    line = rule.line
    if line is None and path.is_absolute() and path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        line = LayerContent(text=text).line_of(rule.permission, rule.pattern)
    return f"{rule.source}:{line}" if line is not None else rule.source
