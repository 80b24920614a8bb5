"""An untrusted workspace config keeps what tightens and loses what widens, key by key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.paths import builtin_dir
from agent.permissions.models import PermissionRule
from agent.registry.layers import deep_merge
from agent.registry.schema import RegistryConfig, load_registry
from agent.trust.config_filter import filter_config
from agent.trust.keys import WORKSPACE_KEYS, limit_for, weakens

WS = Path("/var/tmp/ws")
CONFIG = WS / ".subagent/config.yaml"
USER = {
    "defaults": {"max_budget_usd": 5.0, "sandbox": {"extra_roots": ["~/shared"], "env": ["LANG"]}},
    "permission": {"bash": {"git push *": "deny"}},
}


def _trusted() -> RegistryConfig:
    builtin = load_registry(builtin_dir() / "agents.yaml").model_dump(exclude_unset=True, by_alias=True)
    return RegistryConfig.model_validate(deep_merge(builtin, USER))


DENIES = [PermissionRule(permission="bash", pattern="git push *", decision="deny", source="user")]


def _merged(kept: dict[str, Any]) -> RegistryConfig:
    trusted = _trusted().model_dump(exclude_unset=True, by_alias=True)
    return RegistryConfig.model_validate(deep_merge(trusted, kept))


def _filter(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    kept, refusals = filter_config(raw, _trusted(), path=CONFIG, workspace=WS, trusted_denies=DENIES)
    for refusal in refusals:
        line = str(refusal)
        assert line.startswith(f"{CONFIG}: {refusal.key}: refused (")
        assert f"subagent trust {WS}" in line and "--trust" in line
    return kept, [r.key for r in refusals]


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"defaults": {"sandbox": {"kind": "none"}}}, "defaults.sandbox.kind"),
        ({"defaults": {"sandbox": {"extra_roots": ["~"]}}}, "defaults.sandbox.extra_roots"),
        ({"defaults": {"sandbox": {"env": ["LANG", "AWS_PROFILE"]}}}, "defaults.sandbox.env"),
        ({"defaults": {"sandbox": {"max_processes": 100_000}}}, "defaults.sandbox.max_processes"),
        ({"defaults": {"sandbox": {"max_memory_mb": 1_000_000}}}, "defaults.sandbox.max_memory_mb"),
        ({"defaults": {"permission_mode": "bypass"}}, "defaults.permission_mode"),
        ({"defaults": {"permission_mode": "accept-edits"}}, "defaults.permission_mode"),
        ({"defaults": {"max_budget_usd": 500.0}}, "defaults.max_budget_usd"),
        ({"defaults": {"max_budget_usd": None}}, "defaults.max_budget_usd"),
        ({"defaults": {"max_turns": 5000}}, "defaults.max_turns"),
        ({"defaults": {"max_depth": 9}}, "defaults.max_depth"),
        ({"defaults": {"tool_timeouts": {"bash_max": 86400}}}, "defaults.tool_timeouts.bash_max"),
        ({"models": {"claude-sonnet-5-5": {"price": {"input": 0.0}}}}, "models.claude-sonnet-5-5.price"),
        # any price of the workspace's own: only genai-prices' table or the user's config may set one
        (
            {"models": {"claude-sonnet-5-5": {"price": {"input": 30.0, "output": 90.0}}}},
            "models.claude-sonnet-5-5.price",
        ),
        ({"models": {"my-model": {"price": {"input": 1.0, "output": 2.0}}}}, "models.my-model.price"),
        ({"permission": "allow"}, "permission"),
        ({"permission": {"bash": "allow"}}, "permission.bash"),
        ({"permission": {"bash": {"npm *": "allow"}}}, "permission.bash.npm *"),
        ({"permission": {"bash": {"git *": "ask"}}}, "permission.bash.git *"),  # would reopen `git push`
    ],
)
def test_a_widening_key_is_refused(raw: dict[str, Any], key: str) -> None:
    kept, refused = _filter(raw)
    assert refused == [key]
    merged = _merged(kept)
    assert merged.defaults == _trusted().defaults and merged.models == _trusted().models


@pytest.mark.parametrize(
    "raw",
    [
        {"defaults": {"sandbox": {"kind": "bwrap", "extra_roots": [], "max_processes": 64, "env": []}}},
        {"defaults": {"permission_mode": "plan", "max_budget_usd": 1.0, "max_turns": 3, "model": "opus"}},
        {"models": {"claude-sonnet-5-5": {"context_window": 100_000}}},
        {"models": {"my-model": {"context_window": 50_000}}, "aliases": {"fast": "my-model"}},
        {"permission": {"bash": {"rm *": "deny", "curl *": "ask"}, "edit": {"*.lock": "deny"}}},
        {"agents": {"backend-engineer": {"network": True}}},  # judged once the agent is assembled
    ],
)
def test_a_tightening_or_neutral_key_is_kept(raw: dict[str, Any]) -> None:
    kept, refused = _filter(raw)
    assert refused == []
    assert kept == raw


def test_deny_rules_stay_when_allows_beside_them_go() -> None:
    kept, refused = _filter({"permission": {"bash": {"*": "allow", "rm *": "deny"}, "edit": "deny"}})
    assert refused == ["permission.bash.*"]
    assert kept["permission"] == {"bash": {"rm *": "deny"}, "edit": "deny"}


def test_a_malformed_block_is_kept_for_the_registry_to_report() -> None:
    kept, refused = _filter({"permission": {"bash": "alow"}})
    assert refused == [] and kept["permission"] == {"bash": "alow"}


_PLAIN = [
    k
    for k, v in WORKSPACE_KEYS.items()
    if v.kind in ("no_higher", "ranked", "subset", "no_true", "same") and k.startswith("defaults.")
]


def _value_for(key: str) -> st.SearchStrategy[Any]:
    limit = WORKSPACE_KEYS[key]
    if limit.kind == "ranked":
        return st.sampled_from(limit.order)
    if limit.kind == "subset":
        return st.lists(st.sampled_from(["~", "~/shared", "LANG", "HOME", "/srv"]), max_size=3)
    if key.endswith("max_budget_usd"):
        return st.none() | st.floats(0, 100)
    return st.integers(1, 200_000)  # the schema refuses 0 and negatives on its own


@st.composite
def _workspace_configs(draw: st.DrawFn) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(_PLAIN), unique=True, max_size=6)):
        node = raw
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = draw(_value_for(key))
    return raw


@settings(max_examples=150, deadline=None)
@given(_workspace_configs())
def test_whatever_an_untrusted_config_says_no_key_ends_weaker(raw: dict[str, Any]) -> None:
    trusted = _trusted()
    kept, _ = _filter(raw)
    merged = _merged(kept).model_dump()
    before = trusted.model_dump()
    for key in _PLAIN:
        parts = tuple(key.split("."))
        value, old = merged, before
        for part in parts:
            value, old = value[part], old[part]
        limit = limit_for(parts)
        assert limit is not None and not weakens(limit, value, old), (key, value, old)
