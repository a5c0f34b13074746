"""The history page's filters: one user's changes, one entity type, one entity."""

from __future__ import annotations

from typing import Any

from django import forms

from config.api_schemas import MAX_ID


class AuditFilterForm(forms.Form):
    user = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    entity_type = forms.RegexField(regex=r"^[a-z_]{1,40}$", required=False, max_length=40)
    entity_id = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)

    def filters(self) -> dict[str, Any]:
        """The selector's keyword filters (an invalid value is ignored, as if it was not given)."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "user_id": data.get("user"),
            "entity_type": data.get("entity_type") or None,
            "entity_id": data.get("entity_id"),
        }
