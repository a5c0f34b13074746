"""The agent-wide relationships page's forms: its filters (kind, endpoint type, one tool, a search over the ends'
keys and names) and a relationship between any two ends (each typed as a key or name, with typeahead)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse

from agents.models import Agent
from behavior.forms.guidelines import QUERY_MAX
from behavior.models import EndpointType, RelationshipKind
from behavior.selectors.relationships import relationship_target_find

SIDES = ("source", "target")


class RelationshipFilterForm(forms.Form):
    """The list's search and filters; anything malformed is ignored rather than refused (it is a GET)."""

    q = forms.CharField(required=False, max_length=QUERY_MAX, label="Search")
    kind = forms.ChoiceField(required=False, choices=[("", "Any"), *RelationshipKind.choices])
    type = forms.ChoiceField(required=False, choices=[("", "Any"), *EndpointType.choices], label="An end is a")
    tool = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data: Any, **kwargs: Any) -> None:
        # Over-long text is cut rather than refused, so a pasted search still searches.
        trimmed = {name: (data.get(name) or "").strip()[:QUERY_MAX] for name in self.base_fields}
        super().__init__(trimmed, **kwargs)

    def active(self) -> dict[str, Any]:
        """The filters the user set that validate (for the selector and for links that keep them)."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


class EndpointsRelationshipForm(forms.Form):
    """A relationship between any two ends of the agent: each end's type and its key (guideline, journey) or name
    (tag, tool), found by typing; which kinds fit which ends is the service's check, shown beside the kind."""

    source_type = forms.ChoiceField(choices=EndpointType.choices, label="Source is a", initial=EndpointType.GUIDELINE)
    source = forms.CharField(max_length=200, label="Source key or name", help_text="Type to find it.")
    kind = forms.ChoiceField(choices=RelationshipKind.choices)
    target_type = forms.ChoiceField(choices=EndpointType.choices, label="Target is a", initial=EndpointType.GUIDELINE)
    target = forms.CharField(max_length=200, label="Target key or name", help_text="Type to find it.")

    def __init__(self, *args: Any, agent: Agent, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agent = agent
        self.auto_id = "rel-new-%s"
        targets_url = reverse("studio:relationship-targets", args=[agent.pk])
        for side in SIDES:
            # The typeahead: htmx fills the input's datalist with matches of the chosen type (plain text without JS).
            self.fields[side].widget.attrs.update(
                {
                    "list": f"rel-new-{side}-targets",
                    "autocomplete": "off",
                    "hx-get": f"{targets_url}?field={side}",
                    "hx-trigger": "input changed delay:250ms, focus",
                    "hx-target": f"#rel-new-{side}-targets",
                    "hx-swap": "innerHTML",  # not the form's outerHTML: the datalist stays
                    "hx-include": f"#rel-new-{side}_type",
                    "hx-sync": "this:replace",
                }
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for side in SIDES:
            endpoint_type, ref = cleaned.get(f"{side}_type"), (cleaned.get(side) or "").strip()
            if not (endpoint_type and ref):
                continue
            found = relationship_target_find(agent_id=self.agent.pk, endpoint_type=endpoint_type, ref=ref)
            if found is None:
                where = "" if endpoint_type == EndpointType.TAG else " of this agent"
                self.add_error(side, f"No {endpoint_type}{where} is called {ref[:80]!r}.")
            else:
                cleaned[f"{side}_id"] = found.pk
        return cleaned

    def service_data(self) -> dict[str, Any]:
        return {
            "kind": self.cleaned_data["kind"],
            **{
                side: {"type": self.cleaned_data[f"{side}_type"], "id": self.cleaned_data[f"{side}_id"]}
                for side in SIDES
            },
        }
