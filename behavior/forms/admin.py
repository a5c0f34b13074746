"""Forms of the admin area: a new user, a user's roles and status, a new API key for a chosen owner."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator

from agents.models import ApiKeyRole
from agents.permissions import Role, user_roles

ROLE_CHOICES = [
    (Role.ADMIN, "Admin: everything, including users and API keys"),
    (Role.EDITOR, "Editor: changes the behavior model, uses the sandbox"),
    (Role.TESTER, "Tester: reads the behavior model, tests in the sandbox"),
    (Role.OPERATOR, "Operator: takes over conversations in the inbox"),
]


class RolesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("choices", ROLE_CHOICES)
        super().__init__(**kwargs)


class UserCreateForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and @ . + - _ only.",
    )
    email = forms.EmailField(required=False, max_length=254)
    password = forms.CharField(
        max_length=128, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    roles = RolesField()

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class UserUpdateForm(forms.Form):
    roles = RolesField()
    is_active = forms.BooleanField(
        required=False, label="Active", help_text="An inactive user cannot log in and their API keys stop working."
    )


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the key is for, e.g. CI pipeline.")
    user = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        label="Owner",
        help_text="The key acts as this user, with their object rights.",
    )
    role = forms.ChoiceField(
        choices=ApiKeyRole.choices,
        help_text="At most the owner's roles; the key stops working when the owner loses it.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        owner, role = data.get("user"), data.get("role")
        if owner is not None and role and role not in user_roles(owner):
            self.add_error("role", f"{owner.get_username()} does not hold the {role} role.")
        return data
