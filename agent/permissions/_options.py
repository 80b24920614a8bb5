"""Read a wrapper's options the way getopt_long does, to find where the command it runs begins.

A wrapper's table names its options: those that take a value (`-u NAME`, `-uNAME`, `--user NAME`,
`--user=NAME`), plain flags (short ones may be grouped: `-HE`), and those whose value is optional
and so only attached (`-m[FILE]`, `--mount[=FILE]`). Long options may be shortened to any
unambiguous prefix, as getopt_long allows. Anything else fails closed: an option the table does
not know, or a word only known at run time where an option could be (it may split into several
words, or be an option), leaves the command unknown, and the caller treats the line as one that
cannot be checked.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from agent.permissions._words import ANY, ONE, Word, literal


class OptionSpec(NamedTuple):
    """A wrapper's options; every spelling maps to its canonical (first) name."""

    valued: frozenset[str]
    flags: frozenset[str]
    optional: frozenset[str]
    canonical: dict[str, str]


def options(valued: str = "", flags: str = "", optional: str = "") -> OptionSpec:
    """A spec from space-separated groups of spellings: `options("-u/--user", "-n/--dry-run")`."""
    canonical: dict[str, str] = {}
    sets: list[set[str]] = []
    for groups in (valued, flags, optional):
        names: set[str] = set()
        for group in groups.split():
            spellings = group.split("/")
            names.update(spellings)
            canonical.update((s, spellings[0]) for s in spellings)
        sets.append(names)
    return OptionSpec(frozenset(sets[0]), frozenset(sets[1]), frozenset(sets[2]), canonical)


class ParsedOptions(NamedTuple):
    found: dict[str, list[Word]]
    """Canonical option name -> the values given (an empty word for a flag), in order."""
    rest: list[Word]
    """The words after the options (all non-option words, in order, when permuting)."""
    reason: str
    """Why the options cannot be read; empty when they can."""
    stopped_at: str = ""
    """The canonical option after which reading stopped (one of `stop_at`), if any."""


def _long(spec: OptionSpec, name: str) -> str | None:
    """The long option `name` stands for: exact, or the only one it is a prefix of."""
    known = spec.valued | spec.flags | spec.optional
    if name in known:
        return name
    matches = {spec.canonical[k] for k in known if k.startswith("--") and k.startswith(name)}
    if len(matches) == 1:
        wanted = matches.pop()
        return next(k for k in sorted(known) if spec.canonical[k] == wanted and k.startswith(name))
    return None


class _Reader:
    def __init__(self, spec: OptionSpec, words: list[Word]) -> None:
        self.spec = spec
        self.words = words
        self.found: dict[str, list[Word]] = {}
        self.last = ""
        self.i = 0

    def add(self, option: str, value: Word) -> None:
        self.last = self.spec.canonical[option]
        self.found.setdefault(self.last, []).append(value)

    def value_after(self) -> Word | None:
        """The next word, as the value of the option just read; None when there is none."""
        if self.i + 1 >= len(self.words):
            return None
        self.i += 1
        return self.words[self.i]

    def long(self, text: str) -> str:
        name, has_value, value = text.partition("=")
        option = _long(self.spec, name)
        if option is None:
            return f"unknown option {name!r}"
        if option in self.spec.flags and has_value:
            return f"option {name!r} takes no value"
        given = literal(value)
        if option in self.spec.valued and not has_value:
            got = self.value_after()
            if got is None:
                return f"option {name!r} without its value"
            given = got
        self.add(option, given)
        return ""

    def short(self, text: str) -> str:
        for at in range(1, len(text)):
            option = "-" + text[at]
            if option in self.spec.flags:
                self.add(option, literal(""))
                continue
            if option not in self.spec.valued and option not in self.spec.optional:
                return f"unknown option {option!r}"
            value = literal(text[at + 1 :])
            if not text[at + 1 :] and option in self.spec.valued:
                after = self.value_after()
                if after is None:
                    return f"option {option!r} without its value"
                value = after
            self.add(option, value)
            return ""
        return ""


def parse_options(spec: OptionSpec, words: list[Word], *, permute: bool = False, numeric: bool = False,
                  stop_at: frozenset[str] = frozenset()) -> ParsedOptions:  # fmt: skip
    """Read `spec`'s options from the front of `words` (from all of them when `permute`).

    `numeric` accepts `-5` as an option (nice's old form). A bare `-` is not an option. Reading
    stops right after an option named in `stop_at` (env's `-S`, whose value holds more options).
    """
    reader = _Reader(spec, words)
    rest: list[Word] = []
    while reader.i < len(words):
        word = words[reader.i]
        if word.splits or (word.dynamic and word.template[:1] in ("-", ANY, ONE)):
            return ParsedOptions(reader.found, [], f"{word.text!r} is only known when it runs")
        text = word.text
        if text == "--":
            rest.extend(words[reader.i + 1 :])
            break
        if not text.startswith("-") or text == "-":
            if not permute:
                rest.extend(words[reader.i :])
                break
            rest.append(word)
        elif numeric and re.fullmatch(r"-\d+", text):
            pass  # `nice -5`: an adjustment, nothing to find in it
        else:
            reason = reader.long(text) if text.startswith("--") else reader.short(text)
            if reason:
                return ParsedOptions(reader.found, [], reason)
            if reader.last in stop_at:
                return ParsedOptions(reader.found, words[reader.i + 1 :], "", reader.last)
        reader.i += 1
    return ParsedOptions(reader.found, rest, "")
