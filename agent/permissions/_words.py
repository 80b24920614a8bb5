"""One shell word as bash would see it: its text for rule matching, and what is only known at run time.

A word's `text` has quotes and escapes removed and `$'...'` decoded; expansions stay as written
(`$x`), so rules match what the person reading the command sees. Its `template` is the same text
with every part bash decides when it runs replaced by a wildcard: `ANY` for an expansion, a
command substitution, a glob's `*`, a brace expansion or a leading `~`; `ONE` for a glob's `?` or
`[...]`. `git pu?h` matches no rule as text, but its template can be `git push`, and a deny rule
that could match some value of the template must deny it (`rules.could_match`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from tree_sitter import Node

ANY = "\ue000"
"""Template wildcard: any run of characters, spaces included (an expansion may split into words)."""
ONE = "\ue001"
"""Template wildcard: exactly one character (a glob's `?` or bracket expression)."""


class Word(NamedTuple):
    text: str
    """The word with quotes and escapes removed; expansions as written."""
    template: str
    """`text` with the parts only known when it runs replaced by ANY or ONE."""
    splits: bool = False
    """True when bash may turn it into several words, or none (an unquoted expansion or glob)."""

    @property
    def dynamic(self) -> bool:
        """Whether some of the word is only known when the command runs."""
        return ANY in self.template or ONE in self.template


def literal(text: str) -> Word:
    """A word whose value is exactly `text`."""
    return Word(text, text)


def unknown(text: str) -> Word:
    """A word written as `text` whose whole value, even its number of words, is only known later."""
    return Word(text, ANY, splits=True)


_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
    "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?",
}  # fmt: skip
_ANSI_ESCAPE = re.compile(
    r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|u([0-9a-fA-F]{1,4})|U([0-9a-fA-F]{1,8})|c(.)|(.))", re.S
)


def decode_ansi_c(body: str) -> str | None:
    """The value of `$'body'` as bash (in a UTF-8 locale) gives it, or None when that is not sure.

    A NUL ends the value, as it ends a C string. A `\\u`/`\\U` escape beyond ASCII depends on the
    locale, and bytes that are not UTF-8 match no rule anyway: both give None (unknown).
    """
    out = bytearray()
    pos = 0
    for match in _ANSI_ESCAPE.finditer(body):
        out += body[pos : match.start()].encode()
        pos = match.end()
        octal, hexa, short, long, control, other = match.groups()
        if octal is not None or hexa is not None:
            out.append(int(octal, 8) & 0xFF if octal is not None else int(hexa, 16))
        elif short is not None or long is not None:
            point = int(short or long, 16)
            if point >= 0x80:
                return None
            out.append(point)
        elif control is not None:
            if ord(control) >= 0x80 or control == "\\":
                return None  # bash reads `\c\\` as one escape: not worth copying
            out.append(0x7F if control == "?" else ord(control.upper()) & 0x1F)
        elif other in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[other].encode()
        else:
            out += ("\\" + other).encode()
    out += body[pos:].encode()
    value = bytes(out).split(b"\0", 1)[0]
    try:
        return value.decode()
    except UnicodeDecodeError:
        return None


def _node_text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


_DQ_ESCAPE = re.compile(r'\\([$`"\\\n])')


class _Pieces:
    """A word being assembled: text, template, and which template characters bash globs."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.template: list[str] = []
        self.globbing: list[bool] = []
        self.splits = False

    def quoted(self, text: str) -> None:
        self.text.append(text)
        self.template.extend(text)
        self.globbing.extend([False] * len(text))

    def unquoted(self, raw: str) -> None:
        """An unquoted run: backslash escapes removed, the rest open to globbing."""
        chars = iter(raw)
        for char in chars:
            if char == "\\":
                escaped = next(chars, "")
                if escaped != "\n":
                    self.quoted(escaped)
                continue
            self.text.append(char)
            self.template.append(char)
            self.globbing.append(True)

    def expansion(self, source: str, *, quoted: bool) -> None:
        self.text.append(source)
        self.template.append(ANY)
        self.globbing.append(False)
        self.splits = self.splits or not quoted

    def word(self) -> Word:
        template = _glob_template(self.template, self.globbing)
        plain = "".join(t for t, g in zip(self.template, self.globbing, strict=True) if not g)
        globbed = template.count(ANY) + template.count(ONE) > plain.count(ANY) + plain.count(ONE)
        return Word("".join(self.text), template, self.splits or globbed)


def _glob_template(chars: list[str], globbing: list[bool]) -> str:
    """The template with unquoted glob, brace and tilde syntax turned into wildcards."""
    out: list[str] = []
    i = 0
    while i < len(chars):
        char, active = chars[i], globbing[i]
        end = _closing(chars, globbing, i) if active and char in "[{" else -1
        if active and char == "*":
            out.append(ANY)
        elif active and char == "?":
            out.append(ONE)
        elif end > 0 and (char == "[" or _is_brace_list(chars[i + 1 : end], globbing[i + 1 : end])):
            out.append(ONE if char == "[" else ANY)
            i = end
        elif active and char == "~" and i == 0:
            while i + 1 < len(chars) and chars[i + 1] != "/":
                i += 1
            out.append(ANY)
        else:
            out.append(char)
        i += 1
    return "".join(out)


def _closing(chars: list[str], globbing: list[bool], start: int) -> int:
    """Index of the unquoted `]` or `}` closing the bracket at `start`, or -1."""
    close = "]" if chars[start] == "[" else "}"
    first = start + 2 if close == "]" else start + 1  # `[]x]` holds a `]`
    for j in range(first, len(chars)):
        if chars[j] == close and globbing[j]:
            return j
    return -1


def _is_brace_list(inner: list[str], globbing: list[bool]) -> bool:
    """Whether `{inner}` is a brace expansion (`a,b` or `1..3`), not a literal `{}`."""
    text = "".join(c if g else "_" for c, g in zip(inner, globbing, strict=True))
    return "," in text or ".." in text or ANY in "".join(inner)


def word_of(node: Node) -> Word:
    """The value of one word node of tree-sitter-bash, as far as it is known before it runs."""
    pieces = _Pieces()
    _add_node(pieces, node)
    return pieces.word()


def _add_node(pieces: _Pieces, node: Node, quoted: bool = False) -> None:
    kind = node.type
    if kind == "word":
        pieces.unquoted(_node_text(node))
    elif kind in ("number", "variable_name"):
        pieces.quoted(_node_text(node))
    elif kind == "raw_string":
        pieces.quoted(_node_text(node)[1:-1])
    elif kind == "ansi_c_string":
        decoded = decode_ansi_c(_node_text(node)[2:-1])
        if decoded is None:
            pieces.expansion(_node_text(node), quoted=True)
        else:
            pieces.quoted(decoded)
    elif kind == "string_content":
        pieces.quoted(_DQ_ESCAPE.sub(r"\1", _node_text(node)).replace("\\\n", ""))
    elif kind == "string":
        for child in node.children:
            if child.type != '"':
                _add_node(pieces, child, quoted=True)
    elif kind == "concatenation":
        for child in node.children:
            _add_node(pieces, child, quoted)
    else:  # expansions, substitutions, `$"..."` (translated at run time), anything unforeseen
        pieces.expansion(_node_text(node), quoted=quoted or kind == "translated_string")
