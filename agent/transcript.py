"""The transcript: Messages API messages and their content blocks, typed, with one parser and one
serializer.

A conversation goes to the API, into the session store and back out again unchanged: thinking
signatures, citations, server-side blocks (`compaction`, server tool calls and results) and blocks
newer than this code must survive a resume byte for byte, and the prompt cache needs the same
bytes on every request. So a block keeps what it came with: fields the model does not name stay
as they were (`extra="allow"`), fields it names keep the values they had (strict validation, no
coercion), and `to_wire` writes the keys back in the order they were read. A block built here
(a tool result, a prompt) writes its keys in the order its model declares them, which is the
order the loop has always sent. A block whose fields do not fit its type (a hand-edited store) is
read as an `OtherBlock` and sent back as it came, as is a block of a type not modelled here.

`parse_messages` / `parse_blocks` read the wire or stored form (JSON already decoded);
`Message.to_wire` / `blocks_to_wire` give it back. The questions every reader asks are answered
once: `tool_uses` (the calls of a message), `ToolResultBlock.text` (a result as text),
`interrupted_block` (the answer to a call that never finished).

Example:
    messages = parse_messages(json.loads(stored))
    calls = tool_uses(messages[-1].content)
    assert json.dumps(messages_to_wire(messages)) == stored
"""

from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
)

Role = Literal["user", "assistant"]


class _Block(BaseModel):
    """What every block shares: unknown fields kept, the key order it was read with kept."""

    model_config = ConfigDict(extra="allow", strict=True, defer_build=True)

    _keys: tuple[str, ...] | None = PrivateAttr(default=None)
    """The keys as read (None: built here, so the declared order and the fields set)."""

    @model_serializer(mode="wrap")
    def _as_wire(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        keys = self._keys
        if keys is None:
            declared = [k for k in type(self).model_fields if k == "type" or k in self.model_fields_set]
            keys = (*declared, *(self.__pydantic_extra__ or {}))
        return {key: data[key] for key in keys if key in data}

    def with_fields(self, **changes: Any) -> Self:
        """A copy with `changes`; a field it did not have is written after those it had."""
        copy = self.model_copy(update=changes)
        if self._keys is not None:
            copy._keys = (*self._keys, *(key for key in changes if key not in self._keys))
        return copy


class TextBlock(_Block):
    type: Literal["text"] = "text"
    text: str


class ThinkingBlock(_Block):
    type: Literal["thinking"] = "thinking"
    thinking: str
    signature: str | None = None


class RedactedThinkingBlock(_Block):
    type: Literal["redacted_thinking"] = "redacted_thinking"
    data: str


class ToolUseBlock(_Block):
    type: Literal["tool_use"] = "tool_use"
    id: str
    name: str
    input: Any = None
    """The call's arguments: a JSON object from a whole reply; anything else (or missing) only in a
    stored reply that was cut off mid call (`agent.sessions.repair` mends it)."""

    @property
    def arguments(self) -> dict[str, Any]:
        """The input when it is an object, else no arguments."""
        return self.input if isinstance(self.input, dict) else {}


class ImageBlock(_Block):
    type: Literal["image"] = "image"
    source: dict[str, Any]


class DocumentBlock(_Block):
    type: Literal["document"] = "document"
    source: dict[str, Any]


class CompactionBlock(_Block):
    """The API's server-side summary of everything before it (agent.context.server_side)."""

    type: Literal["compaction"] = "compaction"
    content: Any = None


class OtherBlock(_Block):
    """A block of a type not modelled here, or one whose fields do not fit its type: kept as it came."""

    type: Any = None


class ToolResultBlock(_Block):
    type: Literal["tool_result"] = "tool_result"
    tool_use_id: str
    content: "str | list[Block]" = ""
    is_error: Any = None
    """True for a failed call; kept as stored (any value: only its truth counts)."""

    @property
    def failed(self) -> bool:
        return bool(self.is_error)

    def text(self, *, mark_other: bool = True) -> str:
        """The result as text: its text blocks joined by newlines; a block of another kind (an
        image) shows as `[image]`, or not at all when `mark_other` is False."""
        if isinstance(self.content, str):
            return self.content
        parts = [
            block.text if isinstance(block, TextBlock) else f"[{block.type}]"
            for block in self.content
            if mark_other or isinstance(block, TextBlock)
        ]
        return "\n".join(parts)

    @property
    def text_only(self) -> bool:
        """Whether the result holds nothing but text (elision may then save and drop it)."""
        return isinstance(self.content, str) or all(isinstance(b, TextBlock) for b in self.content)

    @classmethod
    def _parse(cls, raw: dict[str, Any]) -> "ToolResultBlock":
        content = raw.get("content", "")
        if isinstance(content, list) and all(isinstance(block, dict) for block in content):
            raw = {**raw, "content": parse_blocks(content)}
        return cls.model_validate(raw)


Block = (
    TextBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | ToolUseBlock
    | ToolResultBlock
    | ImageBlock
    | DocumentBlock
    | CompactionBlock
    | OtherBlock
)

ToolResultBlock.model_rebuild()

_TYPES: dict[str, type[_Block]] = {
    "text": TextBlock,
    "thinking": ThinkingBlock,
    "redacted_thinking": RedactedThinkingBlock,
    "tool_use": ToolUseBlock,
    "image": ImageBlock,
    "document": DocumentBlock,
    "compaction": CompactionBlock,
}


def parse_block(raw: dict[str, Any]) -> Block:
    """One block from its wire or stored form (a decoded JSON object)."""
    kind = raw.get("type")
    try:
        if kind == "tool_result":
            block: _Block = ToolResultBlock._parse(raw)
        else:
            block = _TYPES.get(kind if isinstance(kind, str) else "", OtherBlock).model_validate(raw)
    except ValidationError:
        block = OtherBlock.model_validate(raw)
    block._keys = tuple(raw)
    return block  # type: ignore[return-value]  # every _Block subclass is a member of Block


def parse_blocks(raw: Iterable[dict[str, Any]]) -> list[Block]:
    return [parse_block(block) for block in raw]


def _read_blocks(value: Any) -> Any:
    if isinstance(value, list):
        return [parse_block(block) if isinstance(block, dict) else block for block in value]
    return value


Content = Annotated[list[Block], BeforeValidator(_read_blocks)]
"""A message's blocks as a pydantic field: the wire or stored form is read by `parse_block`."""


def blocks_to_wire(blocks: Iterable[Block]) -> list[dict[str, Any]]:
    return [block.model_dump() for block in blocks]


class Message(BaseModel):
    """One message of the conversation."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    role: Role
    content: list[Block]
    _plain: bool = PrivateAttr(default=False)
    """Read from a string `content` (the API's short form), written back as one."""
    _keys: tuple[str, ...] = PrivateAttr(default=("role", "content"))

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> "Message":
        """A message from its wire or stored form; `content` may be the API's plain string."""
        content = raw.get("content")
        plain = isinstance(content, str)
        blocks = [TextBlock(text=content)] if isinstance(content, str) else _read_blocks(content)
        message = cls.model_validate({**raw, "content": blocks})
        message._plain = plain
        message._keys = tuple(raw)
        return message

    @model_serializer(mode="plain")
    def to_wire(self) -> dict[str, Any]:
        """The message as the API takes it and the store keeps it (also its pydantic dump)."""
        content = self.content
        out: dict[str, Any] = {**(self.model_extra or {}), "role": self.role}
        if (
            self._plain
            and len(content) == 1
            and isinstance(content[0], TextBlock)
            and not content[0].model_extra
        ):
            out["content"] = content[0].text
        else:
            out["content"] = blocks_to_wire(content)
        return {key: out[key] for key in (*self._keys, *out) if key in out} if self._keys else out

    def tool_uses(self) -> list[ToolUseBlock]:
        return tool_uses(self.content)


def parse_messages(raw: Iterable[dict[str, Any]]) -> list[Message]:
    return [Message.parse(message) for message in raw]


def _read_messages(value: Any) -> Any:
    if isinstance(value, list):
        return [Message.parse(message) if isinstance(message, dict) else message for message in value]
    return value


Transcript = Annotated[list[Message], BeforeValidator(_read_messages)]
"""Messages as a pydantic field: the wire or stored form is read by `Message.parse`."""


def messages_to_wire(messages: Iterable[Message]) -> list[dict[str, Any]]:
    return [message.to_wire() for message in messages]


def tool_uses(blocks: Sequence[Block]) -> list[ToolUseBlock]:
    """The tool calls among `blocks`, in order."""
    return [block for block in blocks if isinstance(block, ToolUseBlock)]


def text_of(blocks: Sequence[Block]) -> list[str]:
    """The text of each text block among `blocks`, in order."""
    return [block.text for block in blocks if isinstance(block, TextBlock)]


# --- the answer to a call that never finished ------------------------------------------------
# A cancelled turn (agent.loop), a refused turn and a crash found on resume (agent.sessions.repair)
# all must answer each `tool_use`, in one wording: the model has to know whether the tool had
# started, because a call that started may have partly happened.


def interrupted_text(started: bool, why: str = "the run stopped") -> str:
    """What the model is told about a call that has no result; `why` says what stopped it."""
    if started:
        return (
            f"Interrupted: {why} while this tool was running, so it may have partly happened. "
            "Check its effects before running it again."
        )
    return f"Interrupted: {why} before this tool started; it did not run."


def interrupted_block(tool_use_id: str, started: bool, why: str = "the run stopped") -> ToolResultBlock:
    """The tool_result block (an error) answering `tool_use_id` with `interrupted_text`."""
    block = parse_block(  # read from its wire form: the key order it has always been sent in
        {
            "type": "tool_result",
            "tool_use_id": tool_use_id,
            "is_error": True,
            "content": interrupted_text(started, why),
        }
    )
    assert isinstance(block, ToolResultBlock)
    return block
