"""Reading the reply field of a single-pass answer while it is still being written."""

from __future__ import annotations

import itertools
import json

import pytest

from behavior.engine.json_stream import StreamedStringField

ANSWER = {
    "verdicts": [
        {"id": "g1", "facts": 'He said "reply": {no} [x]', "rationale": "a \\ b", "applies": True, "tool_calls": []}
    ],
    "reply": 'Hello "Ada" \\ ça va? 😀\nLine two {"reply": 1}',
    "followed": ["g1"],
}


def fed_in_pieces(text: str, size: int) -> tuple[StreamedStringField, list[str]]:
    field = StreamedStringField("reply")
    seen = []
    for start in range(0, len(text), size):
        field.feed(text[start : start + size])
        seen.append(field.text())
    return field, seen


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, 10_000])
@pytest.mark.parametrize("ascii_only", [True, False])
def test_the_reply_grows_append_only_and_ends_as_the_decoded_value(size: int, ascii_only: bool) -> None:
    text = json.dumps(ANSWER, ensure_ascii=ascii_only, indent=1 if size % 2 else None)

    field, seen = fed_in_pieces(text, size)

    assert field.value_complete
    assert seen[-1] == ANSWER["reply"]
    for earlier, later in itertools.pairwise(seen):
        assert later.startswith(earlier)


def test_the_fields_before_the_reply_are_readable_once_it_starts() -> None:
    text = json.dumps(ANSWER)
    field = StreamedStringField("reply")
    cut = text.index('"reply"') + len('"reply": "He')

    field.feed(text[: text.index('"reply"') + 3])
    assert not field.value_started and field.object_before() is None
    field.feed(text[text.index('"reply"') + 3 : cut])

    assert field.value_started and not field.value_complete
    assert field.text() == "He"
    assert field.object_before() == {"verdicts": ANSWER["verdicts"]}


def test_a_field_of_the_same_name_nested_deeper_or_a_non_string_value_is_not_the_reply() -> None:
    nested = StreamedStringField("reply")
    nested.feed('{"verdicts": [{"reply": "not this"}], "other": "x"}')
    number = StreamedStringField("reply")
    number.feed('{"reply": 12, "x": "y"}')

    assert (nested.value_started, nested.text()) == (False, "")
    assert (number.value_started, number.text()) == (False, "")
