"""The glossary term form (create and edit): synonyms typed as chips, one per line without JavaScript."""

from __future__ import annotations

from typing import Any

from django import forms

from behavior.forms.common import LinesField, RevisionForm, TagsField
from behavior.models import GlossaryTerm


class GlossaryTermForm(RevisionForm):
    name = forms.CharField(max_length=200, help_text="The word as customers and staff use it, e.g. PNR.")
    synonyms = LinesField(
        item_max_length=200,
        widget=forms.Textarea(attrs={"rows": 3, "data-chips": "lines", "data-chips-label": "Synonyms"}),
        help_text="Other words for the same thing, one per line (press Enter after each).",
    )
    description = forms.CharField(
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the term means, in the words the agent should use.",
    )
    tags = TagsField(widget=forms.TextInput(attrs={"data-chips": "", "data-chips-label": "Tags"}))

    @staticmethod
    def initial_for(term: GlossaryTerm) -> dict[str, Any]:
        return {
            "name": term.name,
            "synonyms": list(term.synonyms or []),
            "description": term.description,
            "tags": [tag.name for tag in term.tags.all()],
            "revision": term.revision,
        }

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ("name", "synonyms", "description", "tags")}
