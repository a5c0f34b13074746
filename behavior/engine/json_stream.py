"""Reading one field of a JSON object while the model is still writing it: the single-pass answer
(`{"verdicts": [...], "reply": "...", "followed": [...]}`) streams its reply to the customer as it is
generated, once the verdicts written before it are known."""

from __future__ import annotations

import json
from typing import Any

_WHITESPACE = " \t\r\n"


class StreamedStringField:
    """Follows a JSON object arriving in pieces and exposes one top-level string field as it grows.

    `value_started` turns true once the field's string value has begun; `text()` is its decoded value so
    far (append-only: an escape sequence cut by a chunk boundary is held back until it is complete);
    `object_before()` is the object as written before the field (e.g. the verdicts), or None if that part
    does not parse. Nested objects and arrays, and strings containing braces, quotes or escapes, are
    followed correctly; a field of that name nested deeper is ignored.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._text = ""
        self._position = 0
        self._depth = 0
        self._in_string = False
        self._escaped = False
        self._string_start = -1
        self._string_is_key = False
        self._expecting_key = False
        self._last_key: str | None = None
        self._key_start = -1
        self._field_key_start = -1
        self._awaiting_field_value = False
        self._value_start = -1
        self._value_end = -1
        self._decoded = ""  # the value decoded so far, from this many raw characters:
        self._decoded_raw = 0

    @property
    def value_started(self) -> bool:
        return self._value_start >= 0

    @property
    def value_complete(self) -> bool:
        return self._value_end >= 0

    def feed(self, chunk: str) -> None:
        self._text += chunk
        text = self._text
        for index in range(self._position, len(text)):
            self._step(text[index], index)
        self._position = len(text)

    def _step(self, char: str, index: int) -> None:
        if self._in_string:
            if self._escaped:
                self._escaped = False
            elif char == "\\":
                self._escaped = True
            elif char == '"':
                self._in_string = False
                self._string_closed(index)
            return
        if self._awaiting_field_value and char not in _WHITESPACE and char != ":":
            self._awaiting_field_value = False
            if char == '"' and self._depth == 1:
                self._value_start = index + 1
        if char == '"':
            self._in_string = True
            self._string_start = index
            self._string_is_key = self._depth == 1 and self._expecting_key
            if self._string_is_key:
                self._key_start = index
        elif char in "{[":
            self._depth += 1
            self._expecting_key = self._depth == 1 and char == "{"
        elif char in "}]":
            self._depth -= 1
        elif self._depth == 1 and char == ",":
            self._expecting_key = True
        elif self._depth == 1 and char == ":":
            self._expecting_key = False

    def _string_closed(self, index: int) -> None:
        if self._value_start >= 0 and self._value_end < 0 and self._string_start == self._value_start - 1:
            self._value_end = index
            return
        if not self._string_is_key:
            return
        try:
            key = json.loads(self._text[self._string_start : index + 1])
        except ValueError:
            key = None
        self._last_key = key
        if key == self.name and self._field_key_start < 0:
            self._field_key_start = self._key_start
            self._awaiting_field_value = True

    def text(self) -> str:
        """The field's decoded value so far ("" before it starts). Each call decodes only what arrived since
        the last one."""
        if self._value_start < 0:
            return ""
        end = self._value_end if self._value_end >= 0 else len(self._text)
        raw = self._text[self._value_start + self._decoded_raw : end]
        # Hold back an escape sequence cut by the chunk boundary (at most "\uXXXX\uXXXX" long).
        for cut in range(0, min(len(raw), 12) + 1):
            candidate = raw[: len(raw) - cut]
            if candidate.endswith("\\") and not candidate.endswith("\\\\"):
                continue
            try:
                decoded = json.loads(f'"{candidate}"', strict=False)
            except ValueError:
                continue
            if decoded and "\ud800" <= decoded[-1] <= "\udbff" and self._value_end < 0:
                # Half of a surrogate pair, always written as a 6-character escape: wait for the other half.
                decoded, candidate = decoded[:-1], candidate[:-6]
            self._decoded += decoded
            self._decoded_raw += len(candidate)
            break
        return self._decoded

    def object_before(self) -> dict[str, Any] | None:
        """The fields written before this one, as an object; None if the field has not started or they do
        not parse."""
        if self._field_key_start < 0:
            return None
        head = self._text[: self._field_key_start].rstrip().rstrip(",").rstrip()
        try:
            parsed = json.loads(head + "}")
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
