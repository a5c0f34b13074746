"""The studio's evaluation pages: the runs of an agent's test suite (start one, follow its live progress, cancel it),
a finished run's figures, failed assertions with their causes and coverage, one attempt's conversation, the
comparison of two runs, and the publish check (the suite on the draft and on the published version, compared,
with the publish form beside it). Testers, editors and admins run and read evaluations; operators may not.
What the pages show is shaped in `display.py`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from agents.models import Agent
from behavior.evaluations.models import RUN_FINISHED, EvalResult, EvalRun, RunPurpose
from behavior.evaluations.runs import run_cancel, run_create
from behavior.forms.eval_runs import CompareForm, RunForm
from behavior.forms.versions import PublishForm
from behavior.views.access import studio_agent, studio_view
from behavior.views.eval_cases import require_tester
from behavior.views.eval_runs.display import (
    RUNS_OFFERED_FOR_COMPARISON,
    assertion_rows,
    comparison,
    json_shown,
    milliseconds,
    run_context,
    run_progress,
    run_row,
    trace_url,
    url_if_built,
)
from config.errors import NotFound
from config.html_errors import form_call, form_status
from config.htmx import HtmxHttpRequest

RUNS_PER_PAGE = 20
View = Callable[..., HttpResponse]


# ---------------------------------------------------------------------------------------------- access


def evaluations_view(view: View) -> View:
    """Login and the studio's gate, then the evaluators' roles (operators read the behavior, not the runs)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require_tester(request)
        return view(request, *args, **kwargs)

    return studio_view(wrapper)


def _run_get(agent: Agent, run_id: int) -> EvalRun:
    """One run of the agent (NotFound for a missing run and for another agent's one alike)."""
    run = (
        EvalRun.objects.select_related("version", "created_by", "baseline", "baseline__version")
        .defer("version__document", "baseline__version__document")
        .filter(agent=agent, pk=run_id)
        .first()
    )
    if run is None:
        raise NotFound("This agent has no such evaluation run.")
    return run


def _result_get(run: EvalRun, result_id: int) -> EvalResult:
    result = EvalResult.objects.select_related("session", "case").filter(run=run, pk=result_id).first()
    if result is None:
        raise NotFound("This run has no such attempt.")
    return result


# ---------------------------------------------------------------------------------------------- views


def _list_context(request: HtmxHttpRequest, agent: Agent) -> dict[str, Any]:
    runs = (
        agent.eval_runs.select_related("version", "created_by")
        .defer("version__document", "coverage", "inventory")
        .order_by("-created_at", "-id")
    )
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "agent": agent,
        "family": "evaluations",
        "page": page,
        "rows": [run_row(run) for run in page.object_list],
        "query": "",
        "case_count": agent.eval_cases.count(),
        "cases_url": url_if_built("studio:eval-case-list", agent.pk),
    }


@require_GET
@evaluations_view
def eval_run_list(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    context = _list_context(request, agent)
    if request.htmx:
        return render(request, "studio/eval_runs/list.html#eval-run-table", context)
    context["form"] = RunForm(agent=agent)
    return render(request, "studio/eval_runs/list.html", context)


@require_POST
@evaluations_view
def eval_run_create(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """Start a run of the suite (or of the cases with the posted keys or tags) and go to its page."""
    actor = require_tester(request)
    agent = studio_agent(request, agent_id)
    form = RunForm(request.POST, agent=agent)
    if form.is_valid():
        run = form_call(
            form, lambda: run_create(agent=agent, actor=actor, purpose=RunPurpose.MANUAL, **form.run_arguments())
        )
        if run is not None:
            messages.success(request, f"Run {run.pk} started: {run.progress_total} attempts on {run.version_label}.")
            return redirect("studio:eval-run-detail", agent_id=agent.pk, eval_run_id=run.pk)
    context = {**_list_context(request, agent), "form": form}
    return render(request, "studio/eval_runs/list.html", context, status=form_status(form))


@require_GET
@evaluations_view
def eval_run_detail(request: HtmxHttpRequest, agent_id: int, eval_run_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    run = _run_get(agent, eval_run_id)
    context = run_context(request, agent, run)
    template = "studio/eval_runs/detail.html#eval-run-live" if request.htmx else "studio/eval_runs/detail.html"
    return render(request, template, context)


@require_GET
@evaluations_view
def eval_run_progress(request: HtmxHttpRequest, agent_id: int, eval_run_id: int) -> HttpResponse:
    """The live region polled every second while the run goes; once finished it answers the results (without the
    polling trigger, so the polling stops)."""
    agent = studio_agent(request, agent_id)
    run = _run_get(agent, eval_run_id)
    context = run_context(request, agent, run)
    template = "studio/eval_runs/detail.html#eval-run-live" if request.htmx else "studio/eval_runs/detail.html"
    return render(request, template, context)


@require_POST
@evaluations_view
def eval_run_cancel(request: HtmxHttpRequest, agent_id: int, eval_run_id: int) -> HttpResponse:
    actor = require_tester(request)
    agent = studio_agent(request, agent_id)
    run = _run_get(agent, eval_run_id)
    if run.finished:
        notice = f"Run {run.pk} had already finished ({run.get_status_display().lower()})."
    else:
        run_cancel(run, actor=actor)
        notice = f"Run {run.pk} is cancelled: attempts not started yet will not run."
    if request.htmx:  # the live region shows the new state; a flash message would surface on a later page
        run = _run_get(agent, run.pk)
        return render(request, "studio/eval_runs/detail.html#eval-run-live", run_context(request, agent, run))
    messages.info(request, notice)
    return redirect("studio:eval-run-detail", agent_id=agent.pk, eval_run_id=run.pk)


@require_GET
@evaluations_view
def eval_result_detail(request: HtmxHttpRequest, agent_id: int, eval_run_id: int, result_id: int) -> HttpResponse:
    """One attempt: the conversation turn by turn (what the agent did and why), every assertion, the simulated
    customer's outcome and errors."""
    agent = studio_agent(request, agent_id)
    run = _run_get(agent, eval_run_id)
    result = _result_get(run, result_id)
    assertions = assertion_rows(result, result.assertions or [])
    session_url = reverse("sandbox:session", args=[result.session.uid]) if result.session else None
    turns = []
    for turn in result.turns or []:
        index = turn.get("index")
        turns.append(
            {
                **turn,
                "number": int(index or 0) + 1,
                "trace_url": trace_url(result, turn),
                "conversation_url": f"{session_url}#event-{turn.get('customer_offset')}" if session_url else None,
                "tool_rows": [
                    {**call, "arguments_json": json_shown(call.get("arguments") or {})}
                    for call in turn.get("tools") or []
                ],
                "assertions": [item for item in assertions if item.get("scope") == index],
            }
        )
    metrics = result.metrics or {}
    context = {
        "agent": agent,
        "family": "evaluations",
        "run": run,
        "result": result,
        "case_name": str((result.definition or {}).get("name") or result.case_key),
        "case_url": url_if_built("studio:eval-case-detail", agent.pk, result.case_id) if result.case_id else None,
        "turns": turns,
        "conversation_assertions": [item for item in assertions if item.get("scope") == "conversation"],
        "passed_count": sum(1 for item in assertions if item.get("passed")),
        "assertion_count": len(assertions),
        "metrics": metrics,
        "tokens": f"{int(metrics.get('tokens') or 0):,}",
        "wall_time": milliseconds(metrics.get("wall_ms")),
        "engine_time": milliseconds(metrics.get("engine_ms")),
        "simulation": (result.definition or {}).get("simulation") if metrics.get("simulated") else None,
        "session_url": session_url,
        "siblings": list(
            run.results.filter(case_key=result.case_key).order_by("repeat").values_list("pk", "repeat", "status")
        ),
    }
    return render(request, "studio/eval_runs/result.html", context)


def _baseline_for(agent: Agent, run: EvalRun, form: CompareForm) -> EvalRun | None:
    baseline_id = form.cleaned_data.get("baseline") if form.is_valid() else None
    if baseline_id:
        return _run_get(agent, baseline_id)
    return _run_get(agent, run.baseline_id) if run.baseline_id else None


@require_GET
@evaluations_view
def eval_run_compare(request: HtmxHttpRequest, agent_id: int, eval_run_id: int) -> HttpResponse:
    """This run against a baseline run (?baseline=<id>, or the run's own baseline): regressions first."""
    agent = studio_agent(request, agent_id)
    run = _run_get(agent, eval_run_id)
    form = CompareForm(request.GET)
    baseline = _baseline_for(agent, run, form)
    context: dict[str, Any] = {
        "agent": agent,
        "family": "evaluations",
        "run": run,
        "baseline": baseline,
        "form": form,
        "comparable": list(
            agent.eval_runs.filter(status__in=RUN_FINISHED)
            .exclude(pk=run.pk)
            .select_related("version")
            .defer("version__document", "summary", "coverage", "inventory")[:RUNS_OFFERED_FOR_COMPARISON]
        ),
        "comparison": None,
    }
    if baseline is not None and baseline.pk != run.pk and run.finished and baseline.finished:
        context["comparison"] = comparison(agent, baseline, run)
    return render(request, "studio/eval_runs/compare.html", context)


@require_POST
@evaluations_view
def eval_publish_check_create(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """Run the suite on the draft and on the published version (its baseline), then show the comparison with
    the publish form."""
    actor = require_tester(request)
    agent = studio_agent(request, agent_id)
    if not agent.eval_cases.exists():
        messages.error(request, "There are no test cases to run yet: add some first, then check the draft.")
        return redirect(reverse("studio:version-list", args=[agent.pk]) + "#publish")
    with transaction.atomic():  # both runs or neither; their attempts start after commit
        baseline = None
        if agent.published_version_id is not None:
            baseline = run_create(
                agent=agent, version=agent.published_version, actor=actor, purpose=RunPurpose.PUBLISH_CHECK
            )
        run = run_create(agent=agent, version=None, actor=actor, purpose=RunPurpose.PUBLISH_CHECK, baseline=baseline)
    return redirect("studio:eval-publish-check", agent_id=agent.pk, eval_run_id=run.pk)


@require_GET
@evaluations_view
def eval_publish_check(request: HtmxHttpRequest, agent_id: int, eval_run_id: int) -> HttpResponse:
    """Both runs' progress while they go (polled), then the comparison, and the publish form for editors."""
    from behavior.views.versions import publish_state  # the versions page owns what publishing needs

    agent = studio_agent(request, agent_id)
    run = _run_get(agent, eval_run_id)
    baseline = run.baseline
    finished = run.finished and (baseline is None or baseline.finished)
    context: dict[str, Any] = {
        "agent": agent,
        "family": "versions",
        "run": run,
        "baseline": baseline,
        "finished": finished,
        "run_row": run_row(run),
        "baseline_row": run_row(baseline) if baseline is not None else None,
        "run_progress": run_progress(run) if not run.finished else None,
        "baseline_progress": run_progress(baseline) if baseline is not None and not baseline.finished else None,
        "comparison": comparison(agent, baseline, run) if finished and baseline is not None else None,
        "draft_changed": run.version_id is None and agent.draft_revision != run.draft_revision,
        "draft_failing": sum(
            1 for figures in ((run.summary or {}).get("by_case") or {}).values() if figures["pass_rate"] < 1
        ),
    }
    if finished and run.version_id is None:
        context.update(publish_state(agent), form=PublishForm())
    template = "studio/eval_runs/publish_check.html"
    return render(request, f"{template}#publish-check-live" if request.htmx else template, context)
