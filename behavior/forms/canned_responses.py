"""The canned response form (template, declared fields as rows, signals, tags, links to guidelines and journey
states) and the live check and preview of a template: which fields it uses, which of them are unknown, and the
text the engine would send with sample values (rendered by the engine's own `template_render`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from django import forms

from agents.models import Agent
from behavior.engine import templates as engine_templates
from behavior.forms.common import LIST_MAX_ITEMS, LinesField, RevisionForm, TagsField, key_value_rows
from behavior.models import CannedResponse, ContextVariable, ContextVariableValue, Guideline, JourneyState
from behavior.validation import rules
from behavior.validation.rules import BUILTIN_TEMPLATE_FIELDS, CANNED_FIELD_KINDS, KEY_MAX_LENGTH, KEY_PATTERN

FIELD_ROW_PREFIX = "fields"
SAMPLE_PREFIX = "sample"
FIELD_KIND_LABELS = {
    "tool": "from a tool result",
    "generative": "written by the model",
    "variable": "a context variable",
}
SOURCE_LABELS = {
    "builtin": "built in",
    "tool": "tool result",
    "generative": "written by the model",
    "variable": "context variable",
    "unknown": "unknown: declare it below",
}
# What the preview puts in for a built-in field nobody typed a sample for.
BUILTIN_SAMPLES = {"customer.name": "Ada Lovelace", "customer.id": "CUST-1001"}


class CannedFieldsWidget(forms.Widget):
    """Reads the declared fields from repeated `fields-name` / `fields-kind` / `fields-description` inputs (the
    page renders the rows itself); blank rows are skipped."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[dict[str, str]]:
        if not hasattr(data, "getlist"):
            return []
        names = data.getlist(f"{name}-name")[: LIST_MAX_ITEMS + 1]
        kinds = data.getlist(f"{name}-kind")
        descriptions = data.getlist(f"{name}-description")
        rows = []
        for index, field_name in enumerate(names):
            kind = kinds[index] if index < len(kinds) else ""
            description = descriptions[index] if index < len(descriptions) else ""
            if field_name.strip() or description.strip():
                rows.append({"name": field_name.strip(), "kind": kind.strip(), "description": description.strip()})
        return rows

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False


class CannedFieldsField(forms.Field):
    widget = CannedFieldsWidget

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[dict[str, str]]:
        rows = list(value or [])
        if len(rows) > LIST_MAX_ITEMS:
            raise forms.ValidationError(f"At most {LIST_MAX_ITEMS} fields.")
        errors = []
        for index, row in enumerate(rows, start=1):
            if not row["name"]:
                errors.append(f"Field #{index} needs a name.")
            elif len(row["name"]) > 200 or len(row["description"]) > 2000:
                errors.append(f"Field #{index} is too long (name 200, description 2,000 characters).")
            if row["kind"] not in CANNED_FIELD_KINDS:
                errors.append(f"Field #{index}: choose where its value comes from.")
        if errors:
            raise forms.ValidationError(errors)
        return rows


class CannedResponseForm(RevisionForm):
    key = forms.RegexField(
        regex=KEY_PATTERN,
        max_length=KEY_MAX_LENGTH,
        help_text="Lowercase letters, digits and dashes, e.g. baggage-claim-filed.",
        error_messages={"invalid": "Use lowercase letters, digits and dashes, starting with a letter or digit."},
    )
    template = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="The reply as sent. Put values in double braces: {{ customer.name }}, {{ claim_reference }}.",
    )
    # Named like the service's `fields` so its error paths (`fields[0].name`) land beside it; the form metaclass
    # moves it out of the class, so it never shadows the form's own `fields` mapping.
    fields = CannedFieldsField(help_text="Every {{ field }} the template uses, except the built-in ones.")  # type: ignore[assignment]
    signals = LinesField(
        item_max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "data-chips": "lines", "data-chips-label": "Signals"}),
        help_text="Example phrasings of customers this reply answers, one per line.",
    )
    tags = TagsField(widget=forms.TextInput(attrs={"data-chips": "", "data-chips-label": "Tags"}))
    guidelines = forms.ModelMultipleChoiceField(
        queryset=Guideline.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text="Guidelines this reply carries out.",
    )
    journey_states = forms.ModelMultipleChoiceField(
        queryset=JourneyState.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text="Journey states that answer with this reply.",
    )

    def __init__(self, *args: Any, agent: Agent, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agent = agent
        form_fields = cast(dict[str, forms.Field], self.fields)
        guidelines = form_fields["guidelines"]
        guidelines.queryset = Guideline.objects.filter(agent=agent).order_by("key")  # type: ignore[attr-defined]
        guidelines.label_from_instance = lambda guideline: guideline.key  # type: ignore[attr-defined]
        states = form_fields["journey_states"]
        states.queryset = (  # type: ignore[attr-defined]
            JourneyState.objects.filter(journey__agent=agent).select_related("journey").order_by("journey__key", "key")
        )
        states.label_from_instance = lambda state: f"{state.journey.key}/{state.key}"  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(response: CannedResponse) -> dict[str, Any]:
        return {
            "key": response.key,
            "template": response.template,
            "fields": list(response.fields or []),
            "signals": list(response.signals or []),
            "tags": [tag.name for tag in response.tags.all()],
            "guidelines": [guideline.pk for guideline in response.guidelines.all()],
            "journey_states": [state.pk for state in response.journey_states.all()],
            "revision": response.revision,
        }

    def field_rows(self) -> list[dict[str, str]]:
        """The declared field rows to show: as posted when bound, else as stored."""
        if self.is_bound:
            return CannedFieldsWidget().value_from_datadict(self.data, None, FIELD_ROW_PREFIX)
        return [dict(row) for row in self.initial.get("fields") or [] if isinstance(row, dict)]

    def template_text(self) -> str:
        return str(self.data.get("template", "") if self.is_bound else self.initial.get("template") or "")

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in ("key", "template", "fields", "signals", "tags")}
        data["guidelines"] = [guideline.pk for guideline in self.cleaned_data["guidelines"]]
        data["journey_states"] = [state.pk for state in self.cleaned_data["journey_states"]]
        return data


@dataclass(frozen=True)
class UsedField:
    name: str
    source: str  # builtin | tool | generative | variable | unknown
    sample: str = ""

    @property
    def known(self) -> bool:
        return self.source != "unknown"

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source, self.source)


@dataclass
class TemplateCheck:
    """What a template uses and what is wrong with it, in the words the save would refuse it with."""

    template: str
    used: list[UsedField] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    text: str | None = None
    missing: list[str] = field(default_factory=list)

    @property
    def unknown(self) -> list[str]:
        return [item.name for item in self.used if not item.known]


def _variable_defaults(agent: Agent, names: list[str]) -> dict[str, Any]:
    values = ContextVariableValue.objects.filter(
        variable__agent=agent, variable__name__in=names, scope="default"
    ).values_list("variable__name", "value")
    return dict(values)


def template_check(
    agent: Agent,
    template: str,
    declared: list[dict[str, Any]],
    samples: dict[str, str] | None = None,
    *,
    render: bool = True,
) -> TemplateCheck:
    """Check `template` against the declared fields (rules.canned_template_errors, the check the save runs) and
    the agent's context variables (the service's check of variable fields), then render it with sample values
    through the engine's renderer. A field without a sample gets the variable's default value or a built-in
    sample; a field still without a value is `missing`, as the engine would then not send the reply."""
    check = TemplateCheck(template=template)
    kinds = {str(row.get("name")): str(row.get("kind") or "") for row in declared if row.get("name")}
    try:
        used = rules.template_fields(template)
    except ValueError:
        used = engine_templates.template_fields(template)
    check.problems.extend(rules.canned_template_errors(template, kinds))
    variables = set(ContextVariable.objects.filter(agent=agent).values_list("name", flat=True))
    for name, kind in kinds.items():
        if kind == "variable" and name not in variables:
            check.problems.append(f"Field {name!r} is a context variable, but this agent has no variable {name!r}.")
    typed = {key: value for key, value in (samples or {}).items() if key}
    defaults = _variable_defaults(agent, [name for name in used if kinds.get(name) == "variable"])
    values: dict[str, Any] = {}
    for name in used:
        source = "builtin" if name in BUILTIN_TEMPLATE_FIELDS else (kinds.get(name) or "unknown")
        if name in typed:
            value: Any = typed[name]
        elif name == "agent.name":
            value = agent.name
        elif name in BUILTIN_SAMPLES:
            value = BUILTIN_SAMPLES[name]
        elif name in defaults and defaults[name] is not None:
            value = defaults[name]
        else:
            value = ""
        values[name] = value
        check.used.append(UsedField(name=name, source=source, sample="" if value is None else str(value)))
    if render:
        check.text, check.missing = engine_templates.template_render(template, values)
    return check


def samples_from(data: Any) -> dict[str, str]:
    """The sample values the preview posts as `sample-key` / `sample-value` rows."""
    return {key: value for key, value in key_value_rows(data, SAMPLE_PREFIX)}


class PreviewForm(forms.Form):
    """What the preview endpoint accepts: the template, the declared fields and the sample values."""

    template = forms.CharField(max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 5}))
    fields = CannedFieldsField()  # type: ignore[assignment]


def field_kind_choices() -> list[tuple[str, str]]:
    return [(kind, FIELD_KIND_LABELS[kind]) for kind in CANNED_FIELD_KINDS]
