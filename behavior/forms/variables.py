"""Context variable forms: the variable (optionally fed by a tool, with a freshness) and its values (the
default and one per customer tag), each value typed as text or JSON."""

from __future__ import annotations

from typing import Any

from django import forms

from agents.models import Agent, Tool
from behavior.forms.common import RevisionForm, TagsField, parsed_value, shown_value
from behavior.models import CONTEXT_VALUE_MAX_BYTES, ContextVariable, ContextVariableValue, VariableScope
from behavior.validation.rules import IDENTIFIER_PATTERN, NAME_MAX_LENGTH, TAG_PATTERN

VALUE_HELP = 'Text, or JSON (42, true, ["a", "b"], {"k": 1}).'


class ContextVariableForm(RevisionForm):
    name = forms.RegexField(
        regex=IDENTIFIER_PATTERN,
        max_length=NAME_MAX_LENGTH,
        help_text="Lowercase letters, digits and underscores, e.g. loyalty_tier.",
        error_messages={"invalid": "Use lowercase letters, digits and underscores, not starting with a digit."},
    )
    description = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the value means; the agent reads this beside the value.",
    )
    tool = forms.ModelChoiceField(
        queryset=Tool.objects.none(),
        required=False,
        empty_label="Not fed by a tool (values set here)",
        help_text="A tool that fetches the value for each customer.",
    )
    freshness_seconds = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=10_000_000,
        label="Freshness (seconds)",
        help_text="How long a tool-fed value stays fresh before the tool is called again.",
    )
    tags = TagsField(widget=forms.TextInput(attrs={"data-chips": "", "data-chips-label": "Tags"}))

    def __init__(self, *args: Any, agent: Agent, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tool"].queryset = Tool.objects.filter(agent=agent).order_by("name")  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(variable: ContextVariable) -> dict[str, Any]:
        return {
            "name": variable.name,
            "description": variable.description,
            "tool": variable.tool_id,
            "freshness_seconds": variable.freshness_seconds,
            "tags": [tag.name for tag in variable.tags.all()],
            "revision": variable.revision,
        }

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in ("name", "description", "freshness_seconds", "tags")}
        tool = self.cleaned_data["tool"]
        data["tool"] = tool.pk if tool is not None else None
        return data


class ValueTextField(forms.CharField):
    """A value typed as text or JSON, bounded like the stored value."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", CONTEXT_VALUE_MAX_BYTES)
        kwargs.setdefault("help_text", VALUE_HELP)
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "off"}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return value


class ContextValueCreateForm(forms.Form):
    scope = forms.ChoiceField(
        choices=[(VariableScope.DEFAULT, "Default"), (VariableScope.CUSTOMER_TAG, "Customers tagged")],
        initial=VariableScope.DEFAULT,
        label="For",
    )
    tag = forms.RegexField(
        regex=TAG_PATTERN,
        max_length=NAME_MAX_LENGTH,
        required=False,
        label="Customer tag",
        widget=forms.TextInput(attrs={"list": "customer-tag-names", "autocomplete": "off"}),
        help_text="For customers with this tag, e.g. vip.",
        error_messages={"invalid": "Use letters, digits and . _ : / -, starting with a letter or digit, no spaces."},
    )
    value = ValueTextField()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("scope") == VariableScope.CUSTOMER_TAG and not cleaned.get("tag"):
            self.add_error("tag", "Name the customer tag this value is for.")
        return cleaned

    def service_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"scope": self.cleaned_data["scope"], "value": parsed_value(self.cleaned_data["value"])}
        if data["scope"] == VariableScope.CUSTOMER_TAG:
            data["tag"] = self.cleaned_data["tag"]
        return data


class ContextValueUpdateForm(RevisionForm):
    value = ValueTextField()

    @staticmethod
    def initial_for(value: ContextVariableValue) -> dict[str, Any]:
        return {"value": shown_value(value.value), "revision": value.revision}

    def service_data(self) -> dict[str, Any]:
        return {"value": parsed_value(self.cleaned_data["value"])}
