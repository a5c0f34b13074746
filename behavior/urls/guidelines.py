"""Studio URLs of one page family (see behavior/urls/__init__.py)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
