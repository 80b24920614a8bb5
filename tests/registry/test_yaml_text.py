"""The registry's YAML: libyaml's speed, PyYAML's own answers and errors."""

from __future__ import annotations

import pytest
import yaml

from agent.registry import yaml_text

TEXTS = [
    "defaults:\n  max_turns: 40\n  permission_mode: default\nmodels:\n  sonnet: {context_window: 200000}\n",
    "name: explore\ntools: [read, grep]\nmodel: inherit\ndescription: >\n  looks around\n",
    "on: yes\nnumbers: [0x1F, 1_000, 1e3, .inf]\nwhen: 2026-12-07\n",
]
BROKEN = ["a: 1\nb: [1,\n", "key: value\n  bad indent: here\n", "- a\nb: c\n", "x: 'unclosed\n"]


@pytest.mark.parametrize("text", TEXTS)
def test_the_same_data_as_the_pure_parser(text: str) -> None:
    assert yaml_text.load(text) == yaml.safe_load(text)
    node, data = yaml_text.load_node(text)
    assert data == yaml.safe_load(text)
    assert node is not None and [k.start_mark.line for k, _ in node.value] == [
        k.start_mark.line for k, _ in yaml.compose(text, Loader=yaml.SafeLoader).value
    ]


@pytest.mark.parametrize("text", BROKEN)
def test_the_same_error_as_the_pure_parser(text: str) -> None:
    with pytest.raises(yaml.YAMLError) as pure:
        yaml.safe_load(text)
    with pytest.raises(yaml.YAMLError) as ours:
        yaml_text.load(text)
    with pytest.raises(yaml.YAMLError) as ours_node:
        yaml_text.load_node(text)
    assert str(ours.value) == str(ours_node.value) == str(pure.value)
