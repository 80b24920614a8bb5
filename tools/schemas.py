"""The built-in tools' definitions as the model sees them, with the class attributes a run reads
before a tool's module is imported (kind, mutates: tools.registry), stored in tools/schemas.json.

A run sends every tool's definition with its first request; generating them builds each input
model's validator and JSON schema (about 5 ms for the seven), so the built-in tools read them from
the file instead (`Tool.stored_schemas`). The file is generated from the input models and
committed; tests/tools/test_tool_registry.py fails, naming this command, when it is out of date:

    python -m tools.schemas
"""

from __future__ import annotations

import json
from pathlib import Path

SCHEMA_FILE = Path(__file__).with_name("schemas.json")


def generated_text() -> str:
    """What tools/schemas.json must hold: each built-in tool's `generated_schema()` and the class
    attributes a run reads before the tool's module is imported (tools.registry), by name."""
    from tools.registry import TOOL_CLASSES, tool_class

    schemas = {
        name: {"definition": cls.generated_schema(), "kind": cls.kind, "mutates": cls.mutates}
        for name, cls in ((name, tool_class(name)) for name in TOOL_CLASSES)
    }
    return json.dumps(schemas, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(generated_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
