"""Every record (`@dataclass`) in agent/ and tools/ generates only the methods something uses
(docs/decisions.md, issue 18): `eq=False, repr=False` unless its instances are compared by value,
and has a docstring (without one, `dataclass` makes one from the class's signature at import)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

COMPARED = {
    ("agent/hooks/protocol.py", "HookAnswer"),  # tests/hooks/test_protocol.py
    ("tools/_line_endings.py", "Block"),  # tests/tools/test_line_endings.py
}
"""Records whose instances are compared by value: they keep `__eq__` and `__repr__`."""


def _records() -> Iterator[tuple[tuple[str, str], dict[str, object], str | None]]:
    """Each record's (file, class), the keywords of its `dataclass(...)` and its docstring."""
    for path in sorted([*ROOT.glob("agent/**/*.py"), *ROOT.glob("tools/**/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ClassDef):
                continue
            for deco in node.decorator_list:
                call = deco if isinstance(deco, ast.Call) else None
                target = call.func if call else deco
                if ast.unparse(target) in ("dataclass", "dataclasses.dataclass"):
                    keywords = {
                        k.arg or "": ast.literal_eval(k.value) for k in (call.keywords if call else [])
                    }
                    yield (path.relative_to(ROOT).as_posix(), node.name), keywords, ast.get_docstring(node)


def test_a_record_generates_eq_and_repr_only_when_compared() -> None:
    records = {record: keywords for record, keywords, _ in _records()}
    assert len(records) > 90  # the search finds them
    assert COMPARED <= records.keys()
    wrong = {
        record
        for record, keywords in records.items()
        if (keywords.get("eq", True), keywords.get("repr", True)) != ((record in COMPARED),) * 2
    }
    assert not wrong, f"declare these `eq=False, repr=False`, or list them in COMPARED: {sorted(wrong)}"


def test_a_record_has_a_docstring() -> None:
    undocumented = sorted(record for record, _, doc in _records() if not doc)
    assert not undocumented, f"say what these records hold: {undocumented}"
