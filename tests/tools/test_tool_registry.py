"""The model-facing surface: tool names, input names exactly as specified, compact schemas."""

from __future__ import annotations

import json

import pytest

from agent.errors import ConfigError
from tools.registry import TOOL_CLASSES, load_tool, load_tools
from tools.schemas import SCHEMA_FILE, generated_text

INPUTS = {
    "read": ["file_path", "offset", "limit"],
    "edit": ["file_path", "old_string", "new_string", "replace_all"],
    "write": ["file_path", "content"],
    "grep": [
        "pattern",
        "path",
        "glob",
        "type",
        "output_mode",
        "-i",
        "-n",
        "-A",
        "-B",
        "-C",
        "head_limit",
        "multiline",
    ],
    "glob": ["pattern", "path"],
    "patch": ["patch_text"],
}


@pytest.mark.parametrize("name", list(INPUTS))
def test_schema_names_and_size(name: str) -> None:
    tool = load_tool(name)
    schema = tool.schema()
    assert schema["name"] == name
    assert list(schema["input_schema"]["properties"]) == INPUTS[name]
    text = json.dumps(schema)
    assert '"title"' not in text and '"null"' not in text
    assert len(text) < 1400


def test_a_schema_is_built_once_and_each_caller_gets_its_own_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every run of every subagent asks for its tools' schemas: pydantic builds each once (the
    generated path: the task, skill and webfetch tools, and the stored file's generator); the
    stored definitions are copied per caller too."""
    tool = load_tool("edit")

    class FreshInput(tool.input_model):  # type: ignore[name-defined,misc]
        """Not asked for yet in this process."""

    built: list[object] = []
    generate = FreshInput.model_json_schema
    monkeypatch.setattr(FreshInput, "model_json_schema", lambda: built.append(1) or generate())
    monkeypatch.setattr(type(tool), "input_model", FreshInput)
    first = tool.generated_schema()
    first["input_schema"]["properties"].clear()  # a caller adding to it (cache marks) changes no other's
    again = tool.generated_schema()
    assert list(again["input_schema"]["properties"]) == INPUTS["edit"]
    assert len(built) == 1
    stored = tool.schema()
    stored["input_schema"]["properties"].clear()
    assert list(tool.schema()["input_schema"]["properties"]) == INPUTS["edit"]


def test_registry_covers_seven_and_rejects_unknown() -> None:
    assert set(TOOL_CLASSES) == {*INPUTS, "bash"}
    assert [t.name for t in load_tools(["read", "grep", "read"])] == ["read", "grep"]
    with pytest.raises(ConfigError, match="unknown tool 'nope'"):
        load_tool("nope")


def test_dashed_inputs_validate() -> None:
    grep = load_tool("grep")
    parsed = grep.input_model.model_validate({"pattern": "x", "-i": True, "-C": 2})
    assert parsed.model_dump(by_alias=True)["-C"] == 2
    with pytest.raises(ValueError):
        grep.input_model.model_validate({"pattern": "x", "bogus": 1})


@pytest.mark.parametrize("name", list(TOOL_CLASSES))
def test_the_stored_definition_is_the_generated_one_byte_for_byte(name: str) -> None:
    """What a run sends (tools/schemas.json) is what the input model makes, in the same order."""
    tool = load_tool(name)
    assert tool.stored_schemas == SCHEMA_FILE
    assert json.dumps(tool.schema()) == json.dumps(tool.generated_schema())


def test_the_stored_definitions_are_up_to_date() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == generated_text(), (
        "tools/schemas.json is out of date: run `python -m tools.schemas` and commit it"
    )


def test_a_changed_definition_leaves_the_stored_one_alone() -> None:
    first = load_tool("read").schema()
    first["input_schema"]["properties"].clear()
    assert list(load_tool("read").schema()["input_schema"]["properties"]) == INPUTS["read"]
