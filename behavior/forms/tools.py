"""Forms of the tools pages: what an editor may change on a tool, and a remote tool service added by URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms

from behavior.forms.common import RevisionForm
from behavior.validation.rules import NAME_MAX_LENGTH

URL_MAX_LENGTH = 2000


class ToolForm(RevisionForm):
    """A tool's description (what the agent reads to decide when to call it), consequence and time limit; its
    name and parameters come from the Python function or the service's OpenAPI document."""

    description = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What the tool does and when to use it: the agent reads this to choose tools.",
    )
    consequential = forms.BooleanField(
        required=False, help_text="It changes something for the customer: the agent makes sure before calling it."
    )
    timeout_seconds = forms.FloatField(min_value=0.1, max_value=300.0, label="Timeout (seconds)")

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ("description", "consequential", "timeout_seconds")}


class ToolServiceForm(forms.Form):
    name = forms.RegexField(
        regex=r"^[a-z_][a-z0-9_]*$",
        max_length=NAME_MAX_LENGTH,
        help_text="An identifier, e.g. crm or booking_api.",
        error_messages={"invalid": "Lowercase letters, digits and underscores, not starting with a digit."},
    )
    url = forms.CharField(
        max_length=URL_MAX_LENGTH,
        label="OpenAPI document URL",
        help_text="http(s) address of the service's OpenAPI document, e.g. https://crm.example/openapi.json",
        widget=forms.URLInput(attrs={"placeholder": "https://", "maxlength": URL_MAX_LENGTH}),
    )
    timeout_seconds = forms.FloatField(min_value=0.1, max_value=300.0, initial=5.0, label="Timeout (seconds)")

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            raise forms.ValidationError("Use an http:// or https:// address.")
        if not parts.hostname:
            raise forms.ValidationError("The address needs a host name.")
        forms.URLField(max_length=URL_MAX_LENGTH, assume_scheme="https").clean(
            url
        )  # the model's own URL rule, checked here first
        return url

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)
