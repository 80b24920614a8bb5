"""Every config key has a decision: what an untrusted workspace may do with it."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from agent.registry.schema import RegistryConfig
from agent.trust.keys import WORKSPACE_KEYS, limit_for


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        found = [m for a in typing.get_args(annotation) if (m := _model_in(a)) is not None]
        return found[0] if found else None
    return None


def _walk(model: type[BaseModel], prefix: str, seen: set[str], missing: list[str]) -> None:
    for name, info in model.model_fields.items():
        path = f"{prefix}{info.alias or name}"
        annotation = info.annotation
        if path in WORKSPACE_KEYS:
            seen.add(path)
            continue
        inner = _model_in(annotation)
        if inner is not None:
            _walk(inner, f"{path}.", seen, missing)
        elif typing.get_origin(annotation) is dict:
            value = typing.get_args(annotation)[1]
            nested = _model_in(value)
            if nested is not None:
                _walk(nested, f"{path}.*.", seen, missing)
            elif f"{path}.*" in WORKSPACE_KEYS:
                seen.add(f"{path}.*")
            else:
                missing.append(f"{path}.*")
        else:
            missing.append(path)


def test_every_config_key_is_classified_and_every_entry_is_a_key() -> None:
    seen: set[str] = set()
    missing: list[str] = []
    _walk(RegistryConfig, "", seen, missing)
    assert missing == [], (
        f"config keys with no decision in agent/trust/keys.py WORKSPACE_KEYS: {missing}; "
        "say what an untrusted workspace may do with each"
    )
    assert set(WORKSPACE_KEYS) == seen, f"entries naming no config key: {set(WORKSPACE_KEYS) - seen}"


def test_the_walk_finds_a_key_nobody_classified() -> None:
    class Extra(BaseModel):
        home_visible: list[str] = []

    class Config(BaseModel):
        defaults: Extra = Extra()

    missing: list[str] = []
    _walk(Config, "", set(), missing)
    assert missing == ["defaults.home_visible"]


def test_named_entries_are_looked_up_by_their_pattern() -> None:
    assert limit_for(("models", "claude-x", "price")) is WORKSPACE_KEYS["models.*.price"]
    assert limit_for(("agents", "be", "network")) is WORKSPACE_KEYS["agents.*.network"]
    assert limit_for(("defaults", "sandbox", "kind")) is WORKSPACE_KEYS["defaults.sandbox.kind"]
    assert limit_for(("defaults", "nope")) is None
