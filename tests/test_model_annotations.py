"""A module that defines pydantic models does not postpone its annotations (docs/decisions.md,
issue 18): with `from __future__ import annotations` pydantic compiles every field's annotation
from its string when the class is defined, a quarter of what defining a deferred model costs."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from pydantic import BaseModel

import agent
import tools


def _model_modules() -> set[str]:
    for package in (agent, tools):
        for found in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not found.name.endswith("__main__"):
                importlib.import_module(found.name)
    return {
        name
        for name, module in list(sys.modules.items())
        if name.split(".")[0] in ("agent", "tools")
        for value in list(vars(module).values())
        if isinstance(value, type) and value.__module__ == name and issubclass(value, BaseModel)
    }


def test_a_module_with_models_evaluates_its_annotations_at_once() -> None:
    modules = _model_modules()
    assert len(modules) > 40  # the search finds them
    postponed = sorted(
        name
        for name in modules
        if "from __future__ import annotations" in Path(sys.modules[name].__file__ or "").read_text()
    )
    assert not postponed, f"drop `from __future__ import annotations` (quote forward references): {postponed}"
