"""The shared CLI checks agree with the types they stand for."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from agent.cli._options import PERMISSION_MODE_HELP, api_key_error, permission_mode_error
from agent.permissions.models import PermissionMode


def test_the_help_lists_exactly_the_permission_modes() -> None:
    assert tuple(PERMISSION_MODE_HELP.split("|")) == get_args(PermissionMode)
    assert all(permission_mode_error(mode) is None for mode in (None, *get_args(PermissionMode)))
    assert "default, accept-edits, plan, bypass, not 'yolo'" in (permission_mode_error("yolo") or "")


def test_a_run_needs_a_key_unless_its_model_is_scripted(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "ANTHROPIC_API_KEY is not set" in (api_key_error(None) or "")
    assert api_key_error(Path("replies.yaml")) is None
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "token")
    assert api_key_error(None) is None
