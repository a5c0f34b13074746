"""The form of a webhook endpoint in the studio (the services validate the URL and the event types)."""

from __future__ import annotations

from django import forms

from sessions.models import WebhookEventType


class EndpointForm(forms.Form):
    url = forms.CharField(max_length=2000, label="Receiver URL")
    description = forms.CharField(max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        choices=WebhookEventType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked sends every type.",
    )
    enabled = forms.BooleanField(required=False, initial=True)
