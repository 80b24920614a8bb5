"""The parsed YAML of the shipped agents.yaml and personas' frontmatter, stored in
agent/registry/shipped_yaml.json so that a run reading only those needs no PyYAML
(`agent.registry.yaml_text`). Generated from the files and committed; tests/registry/
test_yaml_text.py fails, naming this command, when it is out of date:

    python -m agent.registry.shipped_yaml
"""

from __future__ import annotations

import json

import agent.registry.yaml_text as yaml_text
from agent.paths import builtin_dir
from agent.registry.persona import split_frontmatter


def generated_text() -> str:
    """What shipped_yaml.json must hold: each shipped text and its parse, keyed by the text."""
    root = builtin_dir()
    registry = (root / "agents.yaml").read_text(encoding="utf-8")
    documents = {registry: {"data": _parsed(registry, False)["data"]}}
    frontmatter = {}
    for path in sorted((root / "prompts").glob("*.md")):
        front, _ = split_frontmatter(path.read_text(encoding="utf-8"), path)
        if front is not None:
            frontmatter[front] = _parsed(front, True)
    stored = {"documents": documents, "frontmatter": frontmatter}
    return json.dumps(stored, indent=1, ensure_ascii=False) + "\n"


def _parsed(text: str, keyed: bool) -> dict[str, object]:
    """PyYAML's parse of `text` (never the stored one), checked to survive JSON unchanged."""
    import yaml

    data, lines = yaml_text.keyed_data(yaml.SafeLoader(text))
    if json.loads(json.dumps(data)) != data:
        raise ValueError(f"the shipped YAML does not survive JSON unchanged: {text[:60]!r}")
    return {"data": data, "lines": lines} if keyed else {"data": data}


if __name__ == "__main__":
    yaml_text.SHIPPED_FILE.write_text(generated_text(), encoding="utf-8")
    print(f"wrote {yaml_text.SHIPPED_FILE}")
