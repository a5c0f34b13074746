"""Test case pages (list, new, from a sandbox session, one case, edit, delete) and the suite's export and import."""

from __future__ import annotations

from django.urls import path

from behavior.views import eval_cases

BASE = "agents/<int:agent_id>/tests/"
ONE = BASE + "<int:case_id>/"

urlpatterns = [
    path(BASE, eval_cases.eval_case_list_view, name="eval-case-list"),
    path(BASE + "new/", eval_cases.eval_case_create_view, name="eval-case-create"),
    path(BASE + "from-session/", eval_cases.eval_case_from_session_view, name="eval-case-from-session"),
    path(BASE + "export/", eval_cases.eval_suite_export_view, name="eval-suite-export"),
    path(BASE + "import/", eval_cases.eval_suite_import_view, name="eval-suite-import"),
    path(ONE, eval_cases.eval_case_detail_view, name="eval-case-detail"),
    path(ONE + "edit/", eval_cases.eval_case_update_view, name="eval-case-update"),
    path(ONE + "delete/", eval_cases.eval_case_delete_view, name="eval-case-delete"),
]
