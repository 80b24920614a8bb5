"""How a permission panel shows an ask's detail: highlighted as a command or as a diff.

The loop already made `AskRequest.detail` readable (the command, the change as a diff, or the
input's fields); the call's input itself, in `AskRequest.tool_input`, only says which it is.
"""

from __future__ import annotations

from agent.permissions.models import AskRequest

_DIFF_FIELDS = ("old_string", "content", "patch_text")


def ask_detail(request: AskRequest) -> tuple[str, str]:
    """(text, lexer) for the panel body under the title; lexer "" means plain text."""
    data = request.tool_input
    if isinstance(data.get("command"), str):
        return request.detail, "bash"
    if any(isinstance(data.get(name), str) for name in _DIFF_FIELDS):
        return request.detail, "diff"
    return request.detail, ""
