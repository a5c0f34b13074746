"""The tag form: one global name (tags are shared by every agent)."""

from __future__ import annotations

from typing import Any

from django import forms

from behavior.validation.rules import NAME_MAX_LENGTH, TAG_PATTERN


class TagForm(forms.Form):
    name = forms.RegexField(
        regex=TAG_PATTERN,
        max_length=NAME_MAX_LENGTH,
        help_text="Letters, digits and . _ : / -, no spaces (e.g. vip, journey:refund).",
        error_messages={"invalid": "Use letters, digits and . _ : / -, starting with a letter or digit, no spaces."},
    )

    def service_data(self) -> dict[str, Any]:
        return {"name": self.cleaned_data["name"]}
