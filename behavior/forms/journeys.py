"""Forms of the journey pages: a journey's settings, one state, one transition. The graph editor's JSON
endpoints validate through the same forms, so a field error reads the same in the side panel and in the
page without JavaScript."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from behavior.forms.common import LinesField, NameListField, RevisionForm, TagsField
from behavior.models import StateKind
from behavior.validation import KEY_PATTERN

KEY_HELP = "Lowercase letters, digits and dashes, e.g. ask-order-number."
KEY_ERROR = {"invalid": "Use lowercase letters, digits and dashes, starting with a letter or digit."}


class ChoicesForm(RevisionForm):
    def choice_field(self, name: str) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields[name])


class JourneyForm(ChoicesForm):
    key = forms.RegexField(regex=KEY_PATTERN, max_length=100, help_text=KEY_HELP, error_messages=KEY_ERROR)
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, max_length=8000, widget=forms.Textarea(attrs={"rows": 3}))
    conditions = LinesField(
        item_max_length=4000, help_text="When the journey starts, one condition per line (free text)."
    )
    triggers = NameListField(
        list_id="journey-trigger-options",
        noun="guideline",
        help_text="Keys of the guidelines (usually observations) that start the journey when they match.",
    )
    tags = TagsField()

    def __init__(self, *args: Any, guidelines: dict[str, int] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guideline_ids = guidelines or {}
        cast(NameListField, self.fields["triggers"]).known = set(self.guideline_ids)

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in ("key", "title", "description", "conditions", "tags")}
        data["triggers"] = [self.guideline_ids[key] for key in self.cleaned_data["triggers"]]
        return data


class JourneyStateForm(ChoicesForm):
    """One state. Tools and canned responses are chosen by name / key among the agent's own."""

    key = forms.RegexField(regex=KEY_PATTERN, max_length=100, help_text=KEY_HELP, error_messages=KEY_ERROR)
    kind = forms.ChoiceField(
        choices=StateKind.choices,
        initial=StateKind.CHAT,
        help_text="chat: the agent says or asks something; tool: runs a tool; fork: only branches; end: finishes.",
    )
    action = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the agent does in this state (required for chat states).",
    )
    tool = forms.ChoiceField(required=False, help_text="The tool a tool state runs.")
    initial = forms.BooleanField(  # type: ignore[assignment]  # a field, not the form's initial values
        required=False, label="Initial state", help_text="Where the journey starts."
    )
    tools = NameListField(
        list_id="journey-tool-options", noun="tool", help_text="Tools the agent may call in this state."
    )
    canned_responses = NameListField(
        list_id="journey-canned-options",
        noun="canned response",
        help_text="Keys of the canned responses offered in this state.",
    )

    def __init__(
        self,
        *args: Any,
        tools: dict[str, int] | None = None,
        canned_responses: dict[str, int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.tool_ids = tools or {}
        self.canned_ids = canned_responses or {}
        self.choice_field("tool").choices = [("", "—"), *((name, name) for name in self.tool_ids)]
        cast(NameListField, self.fields["tools"]).known = set(self.tool_ids)
        cast(NameListField, self.fields["canned_responses"]).known = set(self.canned_ids)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind")
        if kind == StateKind.CHAT and not (cleaned.get("action") or "").strip() and "action" not in self.errors:
            self.add_error("action", "A chat state needs an action: what the agent says or asks.")
        if kind == StateKind.TOOL and not cleaned.get("tool") and "tool" not in self.errors:
            self.add_error("tool", "A tool state needs a tool.")
        if kind and kind != StateKind.TOOL and cleaned.get("tool"):
            cleaned["tool"] = ""  # only tool states name a tool: switching kind drops it
        return cleaned

    def service_data(self) -> dict[str, Any]:
        cleaned = self.cleaned_data
        return {
            "key": cleaned["key"],
            "kind": cleaned["kind"],
            "action": cleaned["action"],
            "initial": cleaned["initial"],
            "tool": self.tool_ids.get(cleaned["tool"]) if cleaned["tool"] else None,
            "tools": [self.tool_ids[name] for name in cleaned["tools"]],
        }

    def canned_response_ids(self) -> list[int]:
        return [self.canned_ids[key] for key in self.cleaned_data["canned_responses"]]


class JourneyTransitionForm(ChoicesForm):
    """One transition between two states of the same journey (the choices hold only its states)."""

    source = forms.TypedChoiceField(coerce=int, label="From")
    target = forms.TypedChoiceField(coerce=int, label="To")
    condition = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="When the journey moves on; empty: always (after the source state is done).",
    )

    def __init__(self, *args: Any, states: list[tuple[int, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        choices = [(pk, key) for pk, key in states]
        self.choice_field("source").choices = choices
        self.choice_field("target").choices = choices
        self.fields["source"].error_messages["invalid_choice"] = "Choose a state of this journey."
        self.fields["target"].error_messages["invalid_choice"] = "Choose a state of this journey."

    def service_data(self) -> dict[str, Any]:
        condition = (self.cleaned_data["condition"] or "").strip()
        return {
            "source": self.cleaned_data["source"],
            "target": self.cleaned_data["target"],
            "condition": condition or None,
        }
