"""Studio URLs, mounted under /studio/: one module per page family, names `studio:<entity>-<action>`, paths
nested under the agent (`agents/<agent_id>/guidelines/<guideline_id>/`)."""

from __future__ import annotations

from behavior.urls import (
    admin,
    agents,
    audit,
    canned_responses,
    eval_cases,
    eval_runs,
    glossary,
    guidelines,
    journeys,
    lint,
    relationships,
    tags,
    tools,
    variables,
    versions,
    webhooks,
    widget,
)

app_name = "studio"

urlpatterns = [
    *agents.urlpatterns,
    *guidelines.urlpatterns,
    *relationships.urlpatterns,
    *journeys.urlpatterns,
    *glossary.urlpatterns,
    *canned_responses.urlpatterns,
    *variables.urlpatterns,
    *tags.urlpatterns,
    *tools.urlpatterns,
    *versions.urlpatterns,
    *eval_cases.urlpatterns,
    *eval_runs.urlpatterns,
    *widget.urlpatterns,
    *webhooks.urlpatterns,
    *lint.urlpatterns,
    *audit.urlpatterns,
    *admin.urlpatterns,
]
