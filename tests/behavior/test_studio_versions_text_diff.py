"""The word-level diff the versions and history pages show, and the display rows built from a version diff."""

from __future__ import annotations

from behavior.services.text_diff import (
    MAX_DIFF_TOKENS,
    diff_count,
    diff_for_display,
    field_change,
    shown_text,
    text_diff,
)


def _old(segments: list[tuple[str, str]]) -> str:
    return "".join(text for op, text in segments if op != "insert")


def _new(segments: list[tuple[str, str]]) -> str:
    return "".join(text for op, text in segments if op != "delete")


def test_equal_texts_are_one_equal_segment() -> None:
    assert text_diff("same words", "same words") == [("equal", "same words")]
    assert text_diff("", "") == []


def test_a_changed_word_is_deleted_then_inserted_and_the_rest_stays_equal() -> None:
    segments = text_diff("The customer asks for a refund", "The customer demands a refund")
    assert segments == [
        ("equal", "The customer "),
        ("delete", "asks for"),
        ("insert", "demands"),
        ("equal", " a refund"),
    ]


def test_joining_the_segments_gives_both_texts_back() -> None:
    old = "Offer help, politely.\nThen wait for the answer."
    new = "Offer help politely!\nThen wait, patiently, for an answer."
    segments = text_diff(old, new)
    assert _old(segments) == old and _new(segments) == new


def test_text_added_to_an_empty_text_is_one_insert() -> None:
    assert text_diff("", "hello there") == [("insert", "hello there")]
    assert text_diff("gone", "") == [("delete", "gone")]


def test_a_huge_text_is_shown_as_replaced_whole_instead_of_diffing_word_by_word() -> None:
    old, new = "a " * (MAX_DIFF_TOKENS + 10), "b " * (MAX_DIFF_TOKENS + 10)
    assert text_diff(old, new) == [("delete", old), ("insert", new)]


def test_values_that_are_not_texts_are_shown_as_json() -> None:
    assert shown_text(None) is None
    assert shown_text(["vip", "refund"]) == '["vip", "refund"]'
    assert shown_text(3) == "3"
    change = field_change("tags", ["vip"], ["vip", "refund"])
    assert change["old"] == '["vip"]' and change["new"] == '["vip", "refund"]'
    assert ("insert", ', "refund"') in change["segments"]


def test_a_field_that_appears_or_disappears_has_no_word_diff() -> None:
    assert field_change("action", None, "Greet them")["segments"] == []
    assert field_change("action", "Greet them", None) == {
        "field": "action",
        "old": "Greet them",
        "new": None,
        "segments": [],
    }


def test_a_version_diff_becomes_labelled_kinds_with_field_rows_and_a_count() -> None:
    diff = [
        {
            "kind": "guidelines",
            "added": ["new-one"],
            "removed": ["old-one"],
            "changed": [{"key": "greet", "changes": [{"field": "condition", "old": "Hi", "new": "Hi there"}]}],
        }
    ]
    shown = diff_for_display(diff)
    assert shown[0]["label"] == "Guidelines"
    assert shown[0]["changed"][0]["changes"][0]["segments"] == [("equal", "Hi"), ("insert", " there")]
    assert diff_count(diff) == 3
