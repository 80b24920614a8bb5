"""The model-facing surface: tool names, input names exactly as specified, compact schemas."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent.errors import ConfigError
from agent.tool import Tool, ToolCallInfo, ToolContext
from tools.registry import TOOL_CLASSES, load_tool, load_tools, tool_class
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
    tool = tool_class("edit")

    class FreshInput(tool.input_model):  # type: ignore[name-defined,misc]
        """Not asked for yet in this process."""

    built: list[object] = []
    generate = FreshInput.model_json_schema
    monkeypatch.setattr(FreshInput, "model_json_schema", lambda: built.append(1) or generate())
    monkeypatch.setattr(tool, "input_model", FreshInput)
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


@pytest.mark.parametrize("name", list(TOOL_CLASSES))
def test_a_loaded_tool_answers_as_its_class_does(name: str) -> None:
    """What a run reads before the tool's module is imported is the real class's."""
    tool, cls = load_tool(name), tool_class(name)
    assert (tool.name, tool.description, tool.kind, tool.mutates) == (
        cls.name,
        cls.description,
        cls.kind,
        cls.mutates,
    )
    assert tool.schema() == cls.schema()
    assert tool.input_model is cls.input_model
    # the handle keeps Tool's run_call (a wrapper on the instance's `run` stays in the way)
    assert cls.run_call is Tool.run_call


def test_the_first_request_needs_no_tool_module() -> None:
    """Definitions, kinds and mutates come from the stored file; the module at the first use."""
    script = """
import sys
from tools.registry import TOOL_CLASSES, load_tools
tools = load_tools(list(TOOL_CLASSES))
seen = [(t.name, t.kind, t.mutates, t.schema()["name"]) for t in tools]
loaded = ("tools.registry", "tools.schemas")
before = sorted(m for m in sys.modules if m.startswith("tools.") and m not in loaded)
tools[0].title(tools[0].input_model(file_path="x"))
print(before, "tools.read" in sys.modules, "tools.edit" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[]", "True", "False"]


async def test_a_loaded_tool_runs_and_a_wrapper_on_its_run_stays_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hello\n")
    ctx = ToolContext(workspace=tmp_path, data_dir=tmp_path / "out")
    tool = load_tool("read")
    calls: list[str] = []
    run = tool.run

    async def wrapped(input: Any, ctx: ToolContext) -> Any:
        calls.append("wrapper")
        return await run(input, ctx)

    tool.run = wrapped  # type: ignore[method-assign]
    parsed = tool.input_model.model_validate({"file_path": "a.txt"})
    assert tool.permission_requests(parsed, ctx)[0].permission == "read"
    result = await tool.run_call(parsed, ctx, ToolCallInfo(tool_use_id="t", emit=lambda _event: None))
    assert "hello" in result.output and calls == ["wrapper"]


def test_a_tool_module_that_fails_to_load_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """An AttributeError while the real tool loads (a bug in its module) is not lost behind
    `__getattr__`'s bare AttributeError('_tool')."""
    import tools.registry as registry

    tool = load_tool("bash")

    def broken(name: str) -> type:
        raise AttributeError("module 'tools.bash' has no attribute 'BashTool'")

    monkeypatch.setattr(registry, "tool_class", broken)
    with pytest.raises(
        RuntimeError, match=r"cannot load the built-in tool 'bash'.*has no attribute 'BashTool'"
    ):
        tool.input_model  # noqa: B018
