"""The registry's YAML: libyaml's speed, PyYAML's own answers and errors, and the shipped files'
stored parse (no PyYAML for a run that reads only those)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from agent.paths import builtin_dir
from agent.registry import shipped_yaml, yaml_text
from agent.registry.persona import split_frontmatter

TEXTS = [
    "defaults:\n  max_turns: 40\n  permission_mode: default\nmodels:\n  sonnet: {context_window: 200000}\n",
    "name: explore\ntools: [read, grep]\nmodel: inherit\ndescription: >\n  looks around\n",
    "on: yes\nnumbers: [0x1F, 1_000, 1e3, .inf]\nwhen: 2026-12-07\n",
]
BROKEN = ["a: 1\nb: [1,\n", "key: value\n  bad indent: here\n", "- a\nb: c\n", "x: 'unclosed\n"]


def _pure_keys(text: str) -> dict[str, int] | None:
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(node, yaml.MappingNode):
        return None
    return {str(k.value): k.start_mark.line for k, _ in node.value}


@pytest.mark.parametrize("text", TEXTS)
def test_the_same_data_as_the_pure_parser(text: str) -> None:
    assert yaml_text.load(text) == yaml.safe_load(text)
    data, keys = yaml_text.load_keyed(text)
    assert data == yaml.safe_load(text)
    assert keys == _pure_keys(text)


@pytest.mark.parametrize(
    ("text", "data"), [("", {}), ("# only a comment\n", {}), ("~\n", None), ("- a\n", ["a"])]
)
def test_a_document_that_is_not_a_mapping_has_no_key_lines(text: str, data: object) -> None:
    assert yaml_text.load_keyed(text) == (data, None)


@pytest.mark.parametrize("text", BROKEN)
def test_the_same_error_as_the_pure_parser(text: str) -> None:
    with pytest.raises(yaml.YAMLError) as pure:
        yaml.safe_load(text)
    with pytest.raises(yaml_text.YAMLError) as ours:
        yaml_text.load(text)
    with pytest.raises(yaml_text.MarkedYAMLError) as ours_keyed:
        yaml_text.load_keyed(text)
    assert str(ours.value) == str(ours_keyed.value) == str(pure.value)


def test_the_stored_parse_of_the_shipped_files_is_up_to_date() -> None:
    assert yaml_text.SHIPPED_FILE.read_text(encoding="utf-8") == shipped_yaml.generated_text(), (
        "agent/registry/shipped_yaml.json is out of date: run `python -m agent.registry.shipped_yaml`"
    )


def test_the_shipped_files_read_as_pyyaml_reads_them() -> None:
    registry = (builtin_dir() / "agents.yaml").read_text(encoding="utf-8")
    assert yaml_text.load(registry) == yaml.safe_load(registry)
    prompts = sorted((builtin_dir() / "prompts").glob("*.md"))
    fronts = [split_frontmatter(p.read_text(encoding="utf-8"), p)[0] for p in prompts]
    assert len([f for f in fronts if f is not None]) == len(
        json.loads(yaml_text.SHIPPED_FILE.read_bytes())["frontmatter"]
    )
    for front in fronts:
        if front is not None:
            assert yaml_text.load_keyed(front) == (yaml.safe_load(front), _pure_keys(front))


def test_a_changed_shipped_text_is_parsed_not_read_stored() -> None:
    registry = (builtin_dir() / "agents.yaml").read_text(encoding="utf-8")
    edited = registry.replace("max_turns: 50", "max_turns: 7", 1)
    assert edited != registry
    assert yaml_text.load(edited)["defaults"]["max_turns"] == 7


def test_each_caller_gets_its_own_data() -> None:
    registry = (builtin_dir() / "agents.yaml").read_text(encoding="utf-8")
    first = yaml_text.load(registry)
    first["defaults"]["max_turns"] = -1
    assert yaml_text.load(registry)["defaults"]["max_turns"] == 50


def test_an_install_without_the_stored_parse_parses_every_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing or broken `shipped_yaml.json` (an install that left out data files) means nothing
    stored: the shipped files are parsed as any other, with the same data."""
    registry = (builtin_dir() / "agents.yaml").read_text(encoding="utf-8")
    expected = yaml.safe_load(registry)
    for broken in (None, b"{not json"):
        stored = tmp_path / "shipped_yaml.json"
        if broken is not None:
            stored.write_bytes(broken)
        monkeypatch.setattr(yaml_text, "SHIPPED_FILE", stored)
        yaml_text._stored.cache_clear()
        try:
            assert yaml_text.load(registry) == expected
        finally:
            yaml_text._stored.cache_clear()
