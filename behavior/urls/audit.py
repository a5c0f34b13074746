"""History pages: the audit trail of one agent, filterable by user and entity, and one entry."""

from __future__ import annotations

from django.urls import path

from behavior.views import audit

urlpatterns = [
    path("agents/<int:agent_id>/history/", audit.audit_list, name="audit-list"),
    path("agents/<int:agent_id>/history/<int:entry_id>/", audit.audit_detail, name="audit-detail"),
]
