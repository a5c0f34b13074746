"""Context variable pages of an agent: the variables, a new one, one variable with its values, editing and
deleting it, and adding, changing and removing its values."""

from __future__ import annotations

from django.urls import path

from behavior.views import variables

BASE = "agents/<int:agent_id>/variables/"
ONE = f"{BASE}<int:variable_id>/"

urlpatterns = [
    path(BASE, variables.variable_list, name="variable-list"),
    path(f"{BASE}new/", variables.variable_create, name="variable-create"),
    path(ONE, variables.variable_detail, name="variable-detail"),
    path(f"{ONE}edit/", variables.variable_update, name="variable-update"),
    path(f"{ONE}delete/", variables.variable_delete, name="variable-delete"),
    path(f"{ONE}values/new/", variables.variable_value_create, name="variable-value-create"),
    path(f"{ONE}values/<int:value_id>/edit/", variables.variable_value_update, name="variable-value-update"),
    path(f"{ONE}values/<int:value_id>/delete/", variables.variable_value_delete, name="variable-value-delete"),
]
