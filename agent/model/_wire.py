"""One streamed Messages API request on the wire: its URL, headers and body bytes.

The body is `ModelRequest.to_api_kwargs()` (the one place a request is built) serialised as the
anthropic SDK serialises it for `messages.stream` / `beta.messages.stream`: its keys in the SDK's
order, `"stream": true` last, compact separators, UTF-8 without escapes. So a request is the same
bytes whichever client sends it (tests/model/test_lean_vs_sdk.py holds the two side by side), and
the prompt cache sees the same prefix. Headers are the SDK's `anthropic-version`, its auth
(`Authorization: Bearer`, from the key or the token), `anthropic-beta` for betas and
`ANTHROPIC_CUSTOM_HEADERS`; the user agent is ours, and the SDK's `x-stainless-*` telemetry is
not sent.
"""

from __future__ import annotations

import json
import os
from typing import Any

from agent import __version__
from agent.errors import ModelAPIError

API_VERSION = "2026-10-21"
"""The `anthropic-version` header the installed SDK sends (pinned against it by a test)."""
DEFAULT_BASE_URL = "https://api.anthropic.com"
USER_AGENT = f"subagent/{__version__}"

_BODY_ORDER = ("max_tokens", "messages", "model", "metadata", "system", "tools", "thinking")
"""Key order of `messages.stream`'s body, for the keys `to_api_kwargs` can hold."""
_BETA_BODY_ORDER = (
    "max_tokens", "messages", "model", "metadata", "context_management", "system", "thinking", "tools",
)  # fmt: skip
"""Key order of `beta.messages.stream`'s body (thinking and tools swap places there)."""

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def messages_url(base_url: str | None) -> str:
    """The streaming endpoint under `base_url` (ANTHROPIC_BASE_URL, a path prefix kept)."""
    base = base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
    return base.rstrip("/") + "/v1/messages"


def request_body(kwargs: dict[str, Any]) -> bytes:
    """`to_api_kwargs()` as the JSON body the SDK would send for it.

    Raises:
        ValueError: a key this encoder does not know the SDK's place for (a new request field
            needs its place added here, and the byte-for-byte test tells where).
    """
    order = _BETA_BODY_ORDER if "betas" in kwargs else _BODY_ORDER
    unknown = set(kwargs) - set(order) - {"betas"}
    if unknown:
        raise ValueError(f"request fields without a place in the body: {sorted(unknown)}")
    body = {key: kwargs[key] for key in order if key in kwargs}
    body["stream"] = True
    return _encoder.encode(body).encode()


def _custom_headers() -> dict[str, str]:
    """`ANTHROPIC_CUSTOM_HEADERS`: one `Name: value` per line, as the SDK reads it."""
    parsed: dict[str, str] = {}
    for line in os.environ.get("ANTHROPIC_CUSTOM_HEADERS", "").split("\n"):
        name, colon, value = line.partition(":")
        if colon:
            parsed[name.strip()] = value.strip()
    return parsed


def credential(api_key: str | None) -> str:
    """The key to send: the one given, else ANTHROPIC_API_KEY, else ANTHROPIC_AUTH_TOKEN.

    Raises:
        ModelAPIError: there is none (agent.model.credentials says so earlier for a CLI run).
    """
    key = api_key or os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN")
    if not key:
        raise ModelAPIError(
            "model API error: no API key; export ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN)",
            error_type="authentication_error",
            attempts=0,
        )
    return key


def request_headers(key: str, betas: list[str] | None) -> dict[str, str]:
    """The headers of one request (httpx2 adds host, length, encoding and connection)."""
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Authorization": f"Bearer {key}",
        "anthropic-version": API_VERSION,
        **_custom_headers(),
    }
    if betas:
        headers["anthropic-beta"] = ",".join(betas)
    return headers
