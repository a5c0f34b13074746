"""What studio forms share: the revision an editor started from, tag chips typed as text, key/value rows and
list rows that replace raw JSON, and the mapping of a form's data to a service's `data` mapping."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms

TAG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")
LIST_MAX_ITEMS = 200


class RevisionForm(forms.Form):
    """A form editing an existing entity carries the revision it was opened at (the service refuses a stale one)."""

    revision = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def expected_revision(self) -> int | None:
        value = self.cleaned_data.get("revision")
        return int(value) if value else None


class TagsField(forms.CharField):
    """Tag names typed as chips (the page script) or comma-separated text (without JavaScript)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 4000)
        kwargs.setdefault("help_text", "Comma-separated, e.g. vip, journey:refund")
        kwargs.setdefault("widget", forms.TextInput(attrs={"data-chips": "", "data-chips-placeholder": "Add a tag…"}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(item) for item in value)
        return value

    def clean(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().clean(value) or ""
        names = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
        if len(names) > LIST_MAX_ITEMS:
            raise forms.ValidationError(f"At most {LIST_MAX_ITEMS} tags.")
        for name in names:
            if len(name) > 100 or not TAG_NAME.match(name):
                raise forms.ValidationError(
                    f"{name[:60]!r} is not a tag name: letters, digits and _ . : / - (starting with a letter or digit)."
                )
        return names


class LinesField(forms.CharField):
    """A list of short texts, one per line (synonyms, signals, labels, journey conditions)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, *, item_max_length: int = 1000, **kwargs: Any) -> None:
        self.item_max_length = item_max_length
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 50_000)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value)
        return value

    def clean(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().clean(value) or ""
        items = [line.strip() for line in text.splitlines() if line.strip()]
        if len(items) > LIST_MAX_ITEMS:
            raise forms.ValidationError(f"At most {LIST_MAX_ITEMS} lines.")
        for item in items:
            if len(item) > self.item_max_length:
                raise forms.ValidationError(f"Each line has at most {self.item_max_length} characters.")
        return items


def key_value_rows(data: Any, prefix: str) -> list[tuple[str, str]]:
    """The `<prefix>-key` / `<prefix>-value` row pairs a key/value editor posts, blank rows skipped."""
    keys = data.getlist(f"{prefix}-key") if hasattr(data, "getlist") else []
    values = data.getlist(f"{prefix}-value") if hasattr(data, "getlist") else []
    rows = []
    for index, key in enumerate(keys[:LIST_MAX_ITEMS]):
        value = values[index] if index < len(values) else ""
        if key.strip() or value.strip():
            rows.append((key.strip(), value))
    return rows


def parsed_value(text: str) -> Any:
    """A value typed in a key/value row: JSON when it parses (42, true, [1, 2]), the text otherwise."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def shown_value(value: Any) -> str:
    """How a stored value is shown in a key/value row (the inverse of parsed_value)."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
        return json.dumps(value)  # a text that would parse as JSON keeps its quotes
    return json.dumps(value, ensure_ascii=False)


class NameListField(forms.Field):
    """Several names or keys chosen among the agent's own (tools, canned responses, guidelines), typed as chips
    with suggestions from a `<datalist>` (comma-separated without JavaScript). A list is accepted as is (the
    graph editor's JSON). The form sets `known` to the names that may be chosen; others are refused by name.
    Unlike a box of checkboxes, the page stays the same size whatever the agent holds."""

    widget = forms.TextInput

    def __init__(self, *, list_id: str = "", noun: str = "name", **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        attrs = {"data-chips": "", "autocomplete": "off"}
        if list_id:
            attrs["data-chips-list"] = list_id
        kwargs.setdefault("widget", forms.TextInput(attrs=attrs))
        super().__init__(**kwargs)
        self.noun = noun
        self.known: set[str] = set()

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:
        if value in (None, ""):
            return []
        items = value if isinstance(value, list | tuple) else str(value).split(",")
        names = list(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))
        if len(names) > LIST_MAX_ITEMS:
            raise forms.ValidationError(f"At most {LIST_MAX_ITEMS} names.")
        return names

    def validate(self, value: Any) -> None:
        super().validate(value)
        unknown = [name for name in value if name not in self.known]
        if unknown:
            shown = ", ".join(repr(name[:60]) for name in unknown[:5])
            raise forms.ValidationError(f"No {self.noun} of this agent is called {shown}.")
