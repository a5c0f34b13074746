"""Evaluation pages: runs of the test suite (start, follow, cancel), one attempt, comparing two runs, and the check
of the draft before publishing."""

from __future__ import annotations

from django.urls import path

from behavior.views import eval_runs

BASE = "agents/<int:agent_id>/evaluations/"
RUN = f"{BASE}<int:eval_run_id>/"

urlpatterns = [
    path(BASE, eval_runs.eval_run_list, name="eval-run-list"),
    path(f"{BASE}new/", eval_runs.eval_run_create, name="eval-run-create"),
    path(f"{BASE}publish-check/", eval_runs.eval_publish_check_create, name="eval-publish-check-create"),
    path(RUN, eval_runs.eval_run_detail, name="eval-run-detail"),
    path(f"{RUN}progress/", eval_runs.eval_run_progress, name="eval-run-progress"),
    path(f"{RUN}cancel/", eval_runs.eval_run_cancel, name="eval-run-cancel"),
    path(f"{RUN}compare/", eval_runs.eval_run_compare, name="eval-run-compare"),
    path(f"{RUN}publish-check/", eval_runs.eval_publish_check, name="eval-publish-check"),
    path(f"{RUN}results/<int:result_id>/", eval_runs.eval_result_detail, name="eval-result-detail"),
]
