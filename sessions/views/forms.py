"""Input parsing for the sandbox views (Django forms; the services validate again)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from agents.models import Agent
from behavior.models import ContextVariable
from sessions.models import Customer, SessionMode
from sessions.services.customers import CUSTOMER_NAME_MAX_CHARS, VARIABLE_VALUE_MAX_CHARS
from sessions.services.sandbox import FLAG_REASON_MAX_CHARS

VARIABLE_PREFIX = "var_"
TAGS_MAX_CHARS = 1000


class CustomerForm(forms.Form):
    name = forms.CharField(max_length=CUSTOMER_NAME_MAX_CHARS)
    tags = forms.CharField(
        required=False, max_length=TAGS_MAX_CHARS, help_text="Comma-separated, e.g. vip, frequent-flyer"
    )

    def __init__(self, *args: Any, agent: Agent, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agent = agent
        self.variables = list(ContextVariable.objects.filter(agent=agent).order_by("name"))
        for variable in self.variables:
            self.fields[VARIABLE_PREFIX + variable.name] = forms.CharField(
                required=False,
                max_length=VARIABLE_VALUE_MAX_CHARS,
                label=variable.name,
                help_text=variable.description,
            )

    def tag_names(self) -> list[str]:
        return [part.strip() for part in self.cleaned_data.get("tags", "").split(",") if part.strip()]

    def variable_values(self) -> dict[str, str]:
        return {
            variable.name: self.cleaned_data.get(VARIABLE_PREFIX + variable.name, "") for variable in self.variables
        }

    def variable_fields(self) -> list[forms.BoundField]:
        return [self[VARIABLE_PREFIX + variable.name] for variable in self.variables]


class SessionStartForm(forms.Form):
    agent = forms.ModelChoiceField(queryset=Agent.objects.all())
    version = forms.CharField(max_length=20, initial="draft")
    customer = forms.ModelChoiceField(queryset=Customer.objects.none())

    def __init__(self, *args: Any, customers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers  # type: ignore[attr-defined]


class MessageForm(forms.Form):
    text = forms.CharField(
        max_length=settings.MAX_CUSTOMER_MESSAGE_CHARS,
        strip=True,
        error_messages={
            "required": "Nothing was sent: the message is empty or only spaces and line breaks.",
            "max_length": (
                "Nothing was sent: the message has %(show_value)d characters; a message has at most "
                "%(limit_value)d characters. Shorten it to send it."
            ),
        },
    )


class FlagForm(forms.Form):
    reason = forms.CharField(
        max_length=FLAG_REASON_MAX_CHARS, strip=True, error_messages={"required": "Say why you flag this message."}
    )


class ModeForm(forms.Form):
    mode = forms.ChoiceField(choices=SessionMode.choices)
