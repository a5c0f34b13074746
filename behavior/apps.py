from __future__ import annotations

from django.apps import AppConfig


class BehaviorConfig(AppConfig):
    name = "behavior"
    default_auto_field = "django.db.models.BigAutoField"
