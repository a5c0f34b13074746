"""The studio's guideline forms: create and edit (tags as chips, tools picked from the agent's registered
tools, labels as lines, metadata as key/value rows), the list's filters, bulk actions, and adding a
relationship from a guideline's page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse

from agents.models import Agent, Tool
from behavior.forms.common import (
    TAG_NAME,
    LinesField,
    RevisionForm,
    TagsField,
    key_value_rows,
    parsed_value,
    shown_value,
)
from behavior.models import Criticality, EndpointType, Guideline, RelationshipKind
from behavior.selectors.guidelines import GUIDELINE_SORTS
from behavior.selectors.relationships import relationship_target_find
from behavior.services.guidelines import BULK_OPERATIONS
from behavior.validation.rules import KEY_MAX_LENGTH, KEY_PATTERN

METADATA_KEY_MAX = 100
METADATA_VALUE_MAX = 4000
QUERY_MAX = 200
BULK_MAX = 500


class GuidelineForm(RevisionForm):
    key = forms.RegexField(
        regex=KEY_PATTERN,
        max_length=KEY_MAX_LENGTH,
        help_text="Stable id used by relationships and exports, e.g. lost-bag-claim.",
        error_messages={"invalid": "Lowercase letters, digits and dashes, starting with a letter or digit."},
    )
    title = forms.CharField(max_length=200, required=False)
    condition = forms.CharField(
        max_length=4000, widget=forms.Textarea(attrs={"rows": 2}), help_text="When does this apply?"
    )
    action = forms.CharField(
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What the agent does then. Leave empty for an observation.",
    )
    description = forms.CharField(max_length=8000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    criticality = forms.ChoiceField(choices=Criticality.choices, initial=Criticality.MEDIUM)
    priority = forms.IntegerField(initial=0, min_value=-1_000_000, max_value=1_000_000)
    enabled = forms.BooleanField(required=False, initial=True)
    track = forms.BooleanField(required=False, initial=True, help_text="Applied once, then tracked.")
    continuous = forms.BooleanField(required=False, help_text="Re-applied every turn while its condition holds.")
    tags = TagsField(widget=forms.TextInput(attrs={"data-chips": "", "data-chips-label": "Tags"}))
    tools = forms.ModelMultipleChoiceField(
        queryset=Tool.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tools the agent may call when this guideline applies.",
    )
    labels = LinesField(
        item_max_length=100,
        widget=forms.Textarea(attrs={"rows": 2, "data-chips": "lines", "data-chips-label": "Labels"}),
        help_text="One label per line.",
    )
    # Posted as metadata-key / metadata-value rows (see metadata_rows); the field holds their errors.
    metadata = forms.Field(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, agent: Agent, guideline: Guideline | None = None, **kwargs: Any) -> None:
        if guideline is not None and "initial" not in kwargs:
            kwargs["initial"] = guideline_initial(guideline)
        super().__init__(*args, **kwargs)
        self.agent = agent
        self.guideline = guideline
        self.fields["tools"].queryset = Tool.objects.filter(agent=agent).order_by("name")  # type: ignore[attr-defined]
        prefix = self.prefix + "-" if self.prefix else ""
        self.auto_id = f"{prefix}{'g' + str(guideline.pk) if guideline else 'new'}-%s"

    def clean_metadata(self) -> dict[str, Any]:
        rows = key_value_rows(self.data, "metadata") if self.is_bound else []
        metadata: dict[str, Any] = {}
        for key, value in rows:
            if not key:
                raise forms.ValidationError(f"The row with value {value[:40]!r} needs a key.")
            if len(key) > METADATA_KEY_MAX:
                raise forms.ValidationError(f"A key has at most {METADATA_KEY_MAX} characters.")
            if len(value) > METADATA_VALUE_MAX:
                raise forms.ValidationError(f"A value has at most {METADATA_VALUE_MAX} characters.")
            if key in metadata:
                raise forms.ValidationError(f"The key {key[:60]!r} is listed twice.")
            metadata[key] = parsed_value(value)
        return metadata

    def metadata_rows(self) -> list[tuple[str, str]]:
        """The rows to show: what was posted (kept on an error), else the stored metadata."""
        if self.is_bound:
            return key_value_rows(self.data, "metadata")
        stored = self.initial.get("metadata") or {}
        return [(str(key), shown_value(value)) for key, value in stored.items()]

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.fields if name != "revision"}
        data["action"] = data["action"].strip() or None
        data["tools"] = [tool.pk for tool in data["tools"]]
        return data


def guideline_initial(guideline: Guideline) -> dict[str, Any]:
    """The form's starting values for a stored guideline (its tags and tools from the prefetch)."""
    initial = {name: getattr(guideline, name) for name in GuidelineForm.base_fields if hasattr(guideline, name)}
    initial["action"] = guideline.action or ""
    initial["tags"] = [tag.name for tag in guideline.tags.all()]
    initial["tools"] = [tool.pk for tool in guideline.tools.all()]
    initial["revision"] = guideline.revision
    return initial


YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]
SORT_CHOICES = [
    ("key", "Key A to Z"),
    ("-key", "Key Z to A"),
    ("title", "Title A to Z"),
    ("-title", "Title Z to A"),
    ("-priority", "Priority, highest first"),
    ("priority", "Priority, lowest first"),
    ("-updated", "Recently updated"),
    ("updated", "Least recently updated"),
]


class GuidelineFilterForm(forms.Form):
    """The list's search and filters; anything malformed is ignored rather than refused (it is a GET)."""

    q = forms.CharField(required=False, max_length=QUERY_MAX, label="Search")
    tag = forms.CharField(required=False, max_length=100)
    enabled = forms.ChoiceField(required=False, choices=YES_NO)
    criticality = forms.ChoiceField(required=False, choices=[("", "Any"), *Criticality.choices])
    tools = forms.ChoiceField(required=False, choices=YES_NO, label="Has tools")
    observation = forms.ChoiceField(
        required=False, choices=[("", "Both"), ("yes", "Observations"), ("no", "With an action")], label="Kind"
    )
    journey = forms.CharField(required=False, max_length=KEY_MAX_LENGTH, label="Journey scope")
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES)

    def __init__(self, data: Any, **kwargs: Any) -> None:
        # Over-long text is cut rather than refused, so a pasted search still searches.
        trimmed = {name: (data.get(name) or "").strip()[:QUERY_MAX] for name in self.base_fields}
        super().__init__(trimmed, **kwargs)

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for selectors.guideline_list (invalid choices dropped)."""
        self.is_valid()
        values = {name: self.cleaned_data.get(name, "") for name in self.base_fields}

        def yes_no(value: str) -> bool | None:
            return {"yes": True, "no": False}.get(value)

        sort = values["sort"] if values["sort"] in GUIDELINE_SORTS else "key"
        return {
            "q": values["q"] or None,
            "tag": values["tag"] or None,
            "enabled": yes_no(values["enabled"]),
            "criticality": values["criticality"] or None,
            "has_tools": yes_no(values["tools"]),
            "observation": yes_no(values["observation"]),
            "journey": values["journey"] or None,
            "sort": sort,
        }

    def active(self) -> dict[str, str]:
        """The filters the user set (for links that keep them: pager, sort headers)."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


class IdsField(forms.Field):
    """Checked row ids (`selected=1&selected=7`); the view keeps only those of the agent in the URL."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        if len(values) > BULK_MAX:
            raise forms.ValidationError(f"At most {BULK_MAX} guidelines at once.")
        try:
            return list(dict.fromkeys(int(item) for item in values))
        except (TypeError, ValueError):
            raise forms.ValidationError("The selection is not a list of ids.") from None


class GuidelineBulkForm(forms.Form):
    """A bulk action over the selected guidelines of one agent."""

    selected = IdsField(error_messages={"required": "Select guidelines first."})
    operation = forms.ChoiceField(choices=[(name, name) for name in BULK_OPERATIONS])
    tag = forms.CharField(required=False, max_length=100)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        tag = (cleaned.get("tag") or "").strip()
        if cleaned.get("operation") == "tag":
            if not tag:
                self.add_error("tag", "Name the tag to add.")
            elif not TAG_NAME.match(tag):
                self.add_error("tag", "Letters, digits and _ . : / - (starting with a letter or digit).")
        cleaned["tag"] = tag
        return cleaned


DIRECTIONS = [("outgoing", "This guideline → target"), ("incoming", "Source → this guideline")]


class RelationshipForm(forms.Form):
    """Add a relationship at one guideline: the kind, which side the guideline is on, and the other end typed
    as its key (guideline, journey) or name (tag, tool); the typeahead suggests matches."""

    guideline = forms.IntegerField(widget=forms.HiddenInput)
    direction = forms.ChoiceField(choices=DIRECTIONS, initial="outgoing")
    kind = forms.ChoiceField(choices=RelationshipKind.choices)
    other_type = forms.ChoiceField(choices=EndpointType.choices, label="Other end is a")
    other = forms.CharField(max_length=200, label="Key or name", help_text="Type to find it.")

    def __init__(self, *args: Any, agent: Agent, guideline: Guideline, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})["guideline"] = guideline.pk
        super().__init__(*args, **kwargs)
        self.agent = agent
        self.owner = guideline  # the guideline whose page holds the form (the "guideline" field posts its id)
        self.auto_id = f"rel-{guideline.pk}-%s"
        # The typeahead: htmx fills the input's datalist with matches of the chosen type (plain text without JS).
        self.fields["other"].widget.attrs.update(
            {
                "list": f"rel-{guideline.pk}-targets",
                "autocomplete": "off",
                "hx-get": reverse("studio:relationship-targets", args=[agent.pk]),
                "hx-trigger": "input changed delay:250ms, focus once",
                "hx-target": f"#rel-{guideline.pk}-targets",
                "hx-swap": "innerHTML",  # not the form's outerHTML: the datalist stays
                "hx-include": f"#rel-{guideline.pk}-other_type",
                "hx-sync": "this:replace",
            }
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        endpoint_type, ref = cleaned.get("other_type"), (cleaned.get("other") or "").strip()
        if endpoint_type and ref:
            found = relationship_target_find(agent_id=self.agent.pk, endpoint_type=endpoint_type, ref=ref)
            if found is None:
                where = "" if endpoint_type == EndpointType.TAG else " of this agent"
                self.add_error("other", f"No {endpoint_type}{where} is called {ref[:80]!r}.")
            else:
                cleaned["other_id"] = found.pk
        return cleaned

    def service_data(self) -> dict[str, Any]:
        this = {"type": EndpointType.GUIDELINE.value, "id": self.owner.pk}
        other = {"type": self.cleaned_data["other_type"], "id": self.cleaned_data["other_id"]}
        outgoing = self.cleaned_data["direction"] == "outgoing"
        return {
            "kind": self.cleaned_data["kind"],
            "source": this if outgoing else other,
            "target": other if outgoing else this,
        }
