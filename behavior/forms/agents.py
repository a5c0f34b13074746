"""The agent's settings form (create and edit)."""

from __future__ import annotations

from typing import Any

from django import forms

from agents.models import CompositionMode
from behavior.forms.common import RevisionForm, TagsField


class AgentForm(RevisionForm):
    name = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        label="Persona",
        help_text="Who the agent is and how it speaks, in plain words.",
    )
    model = forms.CharField(max_length=200, required=False, help_text="Leave empty for the server's default model.")
    temperature = forms.FloatField(min_value=0.0, max_value=2.0, initial=0.2)
    llm_profile = forms.RegexField(
        regex=r"^[a-z0-9][a-z0-9-]*$",
        max_length=100,
        initial="default",
        label="LLM profile",
        help_text="A named server configured with LLM_PROFILE_<NAME>_BASE_URL; default uses OPENAI_BASE_URL.",
        error_messages={"invalid": "Lowercase letters, digits and hyphens."},
    )
    composition_mode = forms.ChoiceField(choices=CompositionMode.choices, initial=CompositionMode.FLUID)
    no_match_reply = forms.CharField(
        max_length=2000,
        initial="Sorry, I can't help with that here.",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What a strict-mode agent says when no canned response fits.",
    )
    max_preparation_iterations = forms.IntegerField(min_value=1, max_value=5, initial=2)
    moderation = forms.BooleanField(required=False, help_text="Flag abusive or jailbreak messages first.")
    preamble = forms.BooleanField(required=False, initial=True, help_text="Send a short acknowledgement first.")
    tags = TagsField()

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.fields if name != "revision"}
        data["model"] = data["model"].strip() or None
        return data
