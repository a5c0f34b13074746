"""Lint pages: every finding of the draft, and the LLM check for contradictions (start it, follow its progress)."""

from __future__ import annotations

from django.urls import path

from behavior.views import lint

urlpatterns = [
    path("agents/<int:agent_id>/lint/", lint.lint_page, name="lint"),
    path("agents/<int:agent_id>/lint/runs/", lint.lint_run_create_view, name="lint-run-create"),
    path("agents/<int:agent_id>/lint/runs/<int:run_id>/", lint.lint_run_detail, name="lint-run-detail"),
]
