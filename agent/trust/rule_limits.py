"""Which permission rules an untrusted workspace may add: only rules that tighten.

Rules are last-match-wins, and a workspace's rules come after the trusted ones they meet, so:
- `deny` always tightens;
- `allow` never may (it removes an ask the user's config would have made);
- `ask` tightens an `allow`, but would reopen a trusted `deny` it overlaps (and bypass mode turns
  an ask into an allow), so it is refused when any trusted `deny` could match the same requests.
Overlap is judged conservatively: two patterns that both hold wildcards overlap unless their
literal beginnings differ (`curl *` and `git push *` cannot match the same command).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from agent.errors import ConfigError
from agent.permissions.from_config import permission_to_rules
from agent.permissions.models import PermissionRule
from agent.permissions.rules import matches

_WILD = ("*", "?")


def _literal_start(pattern: str) -> str:
    """What every match of `pattern` starts with (short of a trailing space: `ls *` matches `ls`)."""
    text = pattern.replace("\\", "/").removeprefix("./")
    cut = min((i for i in (text.find(c) for c in _WILD) if i >= 0), default=len(text))
    return text[:cut].rstrip(" ")


def _overlap(a: str, b: str) -> bool:
    wild_a, wild_b = any(c in a for c in _WILD), any(c in b for c in _WILD)
    if wild_a and wild_b:
        start_a, start_b = _literal_start(a), _literal_start(b)
        return start_a.startswith(start_b) or start_b.startswith(start_a)
    return matches(a, b) or matches(b, a)


def rule_refusal(rule: PermissionRule, trusted_denies: Iterable[PermissionRule]) -> str | None:
    """Why `rule`, from an untrusted file, may not apply; None when it only tightens."""
    if rule.decision == "allow":
        return "an allow rule would let calls through that your config asks about"
    if rule.decision == "ask":
        for deny in trusted_denies:
            if _overlap(rule.permission, deny.permission) and _overlap(rule.pattern, deny.pattern):
                return f"an ask rule would reopen what your config denies ({deny.permission} {deny.pattern})"
    return None


def denies(rules: Iterable[PermissionRule]) -> list[PermissionRule]:
    """The deny rules among `rules`."""
    return [r for r in rules if r.decision == "deny"]


def rule_key(prefix: str, rule: PermissionRule) -> str:
    """The dotted key a rule was written under (`permission.bash.git push *`)."""
    return f"{prefix}.{rule.permission}" + ("" if rule.pattern == "*" else f".{rule.pattern}")


def filter_block(
    block: dict[str, Any] | str | None,
    trusted_denies: Sequence[PermissionRule],
) -> tuple[dict[str, Any] | str | None, list[tuple[str, str]]]:
    """A `permission` block without its refused entries, and (key below the block, why) for each.

    A block that does not parse is returned unchanged: the registry reports it as an error, so a
    typo never drops a deny rule silently.
    """
    try:
        permission_to_rules(block)
    except ConfigError:
        return block, []
    if block is None:
        return None, []
    if isinstance(block, str):
        why = rule_refusal(permission_to_rules(block)[0], trusted_denies)
        return (None, [("", why)]) if why else (block, [])
    kept: dict[str, Any] = {}
    refused: list[tuple[str, str]] = []
    for perm, value in block.items():
        if not isinstance(value, dict):
            why = rule_refusal(permission_to_rules({perm: value})[0], trusted_denies)
            if why:
                refused.append((str(perm), why))
            else:
                kept[perm] = value
            continue
        inner: dict[str, Any] = {}
        for pattern, decision in value.items():
            why = rule_refusal(permission_to_rules({perm: {pattern: decision}})[0], trusted_denies)
            if why:
                refused.append((f"{perm}.{pattern}", why))
            else:
                inner[pattern] = decision
        if inner:
            kept[perm] = inner
    return kept, refused
