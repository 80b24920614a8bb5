"""What a tool call says in words: the preview under an ask, and why its input was refused."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from agent.tool import OutputLimits, Tool, ToolContext
from agent.tool_output import cap_output

DETAIL_LIMITS = OutputLimits(max_lines=80, max_chars=8000)
"""How much of a call's preview an ask shows a person."""


def ask_detail(tool: Tool[Any], parsed: Any, tool_input: dict[str, Any], ctx: ToolContext) -> str:
    """What a person reads under an ask: the tool's preview, else the input's fields; capped."""
    text = tool.preview(parsed, ctx) or _fields(tool_input)
    return cap_output(text, DETAIL_LIMITS, None, label="preview").text


def _fields(tool_input: dict[str, Any]) -> str:
    return "\n".join(f"{key}: {value}" for key, value in tool_input.items())


def validation_text(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(x) for x in err["loc"]) or "input"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)
