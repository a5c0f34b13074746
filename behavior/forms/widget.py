"""The website widget's settings form: the allowed origins (one per line, each refused by its line number) and
the two switches. The services in agents.widget_keys validate again; this form only says which line is wrong."""

from __future__ import annotations

from typing import Any

from django import forms

from agents.widget_keys import MAX_ALLOWED_ORIGINS, MAX_ORIGIN_CHARS, origin_normalize
from config.errors import ValidationFailed

ORIGINS_MAX_CHARS = MAX_ALLOWED_ORIGINS * (MAX_ORIGIN_CHARS + 2)
ORIGINS_MAX_LINES = 200  # blank lines included; more than this is a paste gone wrong


def _message_of(error: ValidationFailed) -> str:
    details = error.details if isinstance(error.details, list) else []
    for detail in details:
        if isinstance(detail, dict) and detail.get("message"):
            return str(detail["message"])
    return error.message


class OriginsField(forms.CharField):
    """Origins typed one per line (`https://shop.example.com`), cleaned to a normalized, deduplicated list."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", ORIGINS_MAX_CHARS)
        kwargs.setdefault(
            "widget",
            forms.Textarea(
                attrs={
                    "rows": 4,
                    "spellcheck": "false",
                    "autocomplete": "off",
                    "class": "mono",
                    "placeholder": "https://www.example.com\nhttps://shop.example.com",
                }
            ),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value)
        return value

    def clean(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().clean(value) or ""
        lines = text.splitlines()
        if len(lines) > ORIGINS_MAX_LINES:
            raise forms.ValidationError(f"At most {MAX_ALLOWED_ORIGINS} origins, one per line.")
        origins: list[str] = []
        errors: list[str] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                origin = origin_normalize(line)
            except ValidationFailed as error:
                errors.append(f"Line {number}: {_message_of(error)}")
                continue
            if origin not in origins:
                origins.append(origin)
        if errors:
            raise forms.ValidationError(errors)
        if len(origins) > MAX_ALLOWED_ORIGINS:
            raise forms.ValidationError(f"At most {MAX_ALLOWED_ORIGINS} origins, one per line.")
        return origins


class WidgetSettingsForm(forms.Form):
    allowed_origins = OriginsField(
        label="Allowed origins",
        help_text=(
            "One per line, scheme://host[:port] exactly as the browser sends it (https://www.example.com), "
            "no path and no wildcard. Pages on any other origin are refused."
        ),
    )
    enforce_identity = forms.BooleanField(
        required=False,
        label="Enforce identity verification",
        help_text=(
            "Refuse Decorum('identify', …) calls without a valid token signed with the identity secret. "
            "Off: unsigned identities are accepted as unverified."
        ),
    )
    enabled = forms.BooleanField(
        required=False,
        label="Widget enabled",
        help_text="Off: the snippet stops working everywhere until it is turned on again (the key stays the same).",
    )

    def service_data(self) -> dict[str, Any]:
        return {
            "allowed_origins": self.cleaned_data["allowed_origins"],
            "enforce_identity": self.cleaned_data["enforce_identity"],
            "enabled": self.cleaned_data["enabled"],
        }
