"""ACP prompt content blocks to the one text the runtime's prompt is.

Text is kept as written; a resource link becomes a mention the model can `read`; an embedded
text resource (a file or selection the editor attached) is inlined with its URI. Images and audio
are not advertised (`promptCapabilities`), so a client that sends them anyway gets a note in the
prompt rather than a silent drop.
"""

from __future__ import annotations

from typing import Any


def _uri_path(uri: str) -> str:
    return uri.removeprefix("file://")


def _block_text(block: Any) -> str:
    kind = getattr(block, "type", "")
    if kind == "text":
        return str(block.text)
    if kind == "resource_link":
        return f"@{_uri_path(block.uri)}"
    if kind == "resource":
        resource = block.resource
        text = getattr(resource, "text", None)
        if text is None:
            return f"[attached binary resource {resource.uri} omitted]"
        return f'<context uri="{resource.uri}">\n{text}\n</context>'
    return f"[{kind or 'unknown'} content omitted: this agent takes text, links and text resources]"


def prompt_text(blocks: list[Any]) -> str:
    """The prompt as one string, blocks separated by blank lines where both are not plain text."""
    parts: list[str] = []
    for block in blocks:
        text = _block_text(block)
        if parts and (getattr(block, "type", "") != "text" or not parts[-1].endswith(("\n", " "))):
            parts.append("\n\n")
        parts.append(text)
    return "".join(parts)
