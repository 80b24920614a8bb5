"""Persona files in both dialects, and the errors bad ones give (with the file's line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import PersonaError
from agent.registry.persona import load_persona
from agent.registry.spec import TOOL_NAMES

REPO = Path(__file__).resolve().parents[2]
SHIPPED = Path("/work/shared/personas/backend-engineer.md")


def write(tmp_path: Path, text: str, rel: str = "agent.md") -> Path:
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_backend_engineer_loads_unchanged() -> None:
    path = REPO / "prompts" / "backend-engineer.md"
    text = path.read_text(encoding="utf-8")
    spec = load_persona(path)
    assert spec.name == "backend-engineer"
    assert spec.mode == "subagent"
    assert spec.temperature == 0.3
    assert spec.tools == list(TOOL_NAMES)
    assert spec.permission == []
    assert spec.dialect == "opencode"
    # The body is every byte after the closing `---` line.
    closing = text.index("\n---\n", 3) + len("\n---\n")
    assert spec.prompt == text[closing:]
    assert spec.prompt.startswith("\n# Backend Engineer (@backend-engineer)\n")


@pytest.mark.skipif(not SHIPPED.exists(), reason="the shared persona is not on this machine")
def test_backend_engineer_is_byte_for_byte_the_shipped_persona() -> None:
    assert (REPO / "prompts" / "backend-engineer.md").read_bytes() == SHIPPED.read_bytes()


def test_opencode_dialect(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "---\ndescription: Reviews code\nmodel: anthropic/claude-opus-5-5\n"
        "steps: 7\ntop_p: 0.9\nreasoningEffort: high\nprompt: ignored\ncolor: '#ff0000'\n"
        "tools:\n  bash: false\n  write: false\npermission:\n  edit: ask\n---\nReview.\n",
    )
    spec = load_persona(path, name="team/reviewer")
    assert spec.name == "team/reviewer"
    assert spec.mode == "all"
    assert spec.model == "anthropic/claude-opus-5-5"
    assert spec.max_turns == 7
    assert spec.top_p == 0.9
    assert spec.options == {"reasoningEffort": "high"}
    assert spec.prompt == "Review.\n"
    assert spec.tools == ["read", "grep", "glob"]
    assert [(r.permission, r.decision) for r in spec.permission] == [
        ("edit", "deny"),
        ("bash", "deny"),
        ("edit", "ask"),
    ]


def test_opencode_max_steps_alias(tmp_path: Path) -> None:
    assert load_persona(write(tmp_path, "---\nmaxSteps: 3\n---\nx")).max_turns == 3


def test_claude_dialect(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "---\nname: code-reviewer\ndescription: Reviews\ntools: Read, Grep, Glob\n"
        "model: inherit\npermissionMode: plan\n---\nYou review.\n",
        ".claude/agents/cr.md",
    )
    spec = load_persona(path)
    assert (spec.name, spec.dialect, spec.mode) == ("code-reviewer", "claude", "subagent")
    assert spec.model == "inherit"
    assert spec.tools == ["read", "grep", "glob"]
    assert {r.permission for r in spec.permission} == {"edit", "bash", "task"}
    assert spec.can_delegate is False
    assert spec.prompt == "You review.\n"


def test_claude_tools_list_and_missing_tools(tmp_path: Path) -> None:
    listed = load_persona(write(tmp_path, "---\nname: a\ntools: [Read, Edit, Task]\n---\n", "a.md"))
    assert listed.tools == ["read", "edit"]
    assert listed.can_delegate is True
    everything = load_persona(write(tmp_path, "---\nname: b\ndescription: d\n---\n", "b.md"))
    assert everything.tools == list(TOOL_NAMES)
    assert everything.permission == []


def test_our_extra_keys(tmp_path: Path) -> None:
    spec = load_persona(
        write(
            tmp_path,
            "---\nthinking: {budget_tokens: 4000}\nverify: pytest -q\n"
            "network: true\ncan_delegate: true\nmax_output_tokens: 9000\n---\nx",
        )
    )
    assert spec.thinking is not None and spec.thinking.budget_tokens == 4000
    assert (spec.verify, spec.network, spec.can_delegate, spec.max_output_tokens) == (
        "pytest -q",
        True,
        True,
        9000,
    )
    assert spec.options == {}


def test_no_frontmatter_is_all_body(tmp_path: Path) -> None:
    spec = load_persona(write(tmp_path, "Just a prompt.\n---\n"))
    assert spec.prompt == "Just a prompt.\n---\n"
    assert spec.mode == "all"


def test_crlf_frontmatter(tmp_path: Path) -> None:
    path = tmp_path / "w.md"
    path.write_bytes(b"---\r\nmode: primary\r\n---\r\nBody\r\n")
    spec = load_persona(path)
    assert spec.mode == "primary"
    assert spec.prompt == "Body\r\n"


def error_of(tmp_path: Path, text: str) -> PersonaError:
    path = write(tmp_path, text)
    with pytest.raises(PersonaError) as info:
        load_persona(path)
    assert info.value.path == path
    return info.value


def test_unclosed_frontmatter(tmp_path: Path) -> None:
    err = error_of(tmp_path, "---\nmode: subagent\nbody without closing\n")
    assert err.line == 1
    assert "never closed" in err.reason


def test_yaml_error_line_is_the_file_line(tmp_path: Path) -> None:
    err = error_of(tmp_path, "---\ndescription: ok\nmode: subagent\ntools: [read\n---\nbody\n")
    assert err.line == 4  # the parser ran off the end: the last frontmatter line
    err = error_of(tmp_path, "---\ndescription: ok\n  bad: indent: here\n---\nbody\n")
    assert err.line == 3
    assert "invalid YAML" in err.reason
    assert f"{err.path}:3:" in str(err)


def test_unknown_mode(tmp_path: Path) -> None:
    err = error_of(tmp_path, "---\ndescription: x\nmode: boss\n---\n")
    assert err.line == 3
    assert "mode" in err.reason


def test_unknown_tool(tmp_path: Path) -> None:
    err = error_of(tmp_path, "---\ntools:\n  read: true\n  teleport: true\n---\n")
    assert err.line == 2
    assert "teleport" in err.reason


def test_foreign_tool_switched_on_is_dropped_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert load_persona(write(tmp_path, "---\ntools:\n  webfetch: false\n---\n")).tools == list(TOOL_NAMES)
    spec = load_persona(write(tmp_path, "---\nname: x\ntools: Read, Grep, Glob, WebFetch, WebSearch\n---\n"))
    assert spec.tools == ["read", "grep", "glob", "webfetch"]  # the stray space is no error either
    warned = [r.getMessage() for r in caplog.records if "WebSearch" in r.getMessage()]
    assert warned == [
        f"{spec.source}: tool 'WebSearch' is not in subagent, so it is left out; use webfetch on a "
        "search engine's URL, or bash with `network: true`"
    ]


def test_wrong_types(tmp_path: Path) -> None:
    err = error_of(tmp_path, "---\ndescription: x\ntemperature: hot\n---\n")
    assert err.line == 3
    assert "temperature" in err.reason
    err = error_of(tmp_path, "---\n- a\n- b\n---\n")
    assert "mapping" in err.reason
    err = error_of(tmp_path, "---\npermission:\n  bash: maybe\n---\n")
    assert err.line == 2 and "maybe" in err.reason


def test_dialect_detection(tmp_path: Path) -> None:
    named_map = load_persona(write(tmp_path, "---\nname: n\ntools: {bash: false}\n---\n", "o.md"))
    assert named_map.dialect == "opencode" and "bash" not in named_map.tools
    assert load_persona(write(tmp_path, "---\nname: n\n---\n", "c.md")).dialect == "claude"
    assert load_persona(write(tmp_path, "---\ndescription: d\n---\n", "p.md")).dialect == "opencode"
