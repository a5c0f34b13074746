"""Test cases (CRUD, suite export/import, saving a conversation as a case) and evaluation runs (start, follow,
read results, cancel, compare) of an agent. Testers and editors (and admins) only."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.text import slugify
from ninja import Query, Router, Status

from agents.models import Agent
from behavior.api.common import Id, agent_get
from behavior.api.evaluation_schemas import (
    CaseFilter,
    CaseFromSessionIn,
    CaseIn,
    CaseOut,
    CasePatch,
    CompareOut,
    CompareQuery,
    ResultFilter,
    ResultOut,
    RunDetailOut,
    RunIn,
    RunOut,
    SuiteExportQuery,
    SuiteImportOut,
    SuiteImportQuery,
)
from behavior.api.versions import YAML_CONTENT_TYPES
from behavior.evaluations.cases import (
    case_create,
    case_delete,
    case_from_session,
    case_proposal_from_session,
    case_update,
    suite_export,
    suite_import,
)
from behavior.evaluations.metrics import runs_compare
from behavior.evaluations.models import EvalCase, EvalResult, EvalRun, ResultStatus, RunPurpose
from behavior.evaluations.runs import result_attempt, run_cancel, run_create
from behavior.services import MAX_DOCUMENT_BYTES, document_dump, document_load
from behavior.services.rows import invalid, row_get
from config.api_auth import EVALUATION, api_actor, api_require_role
from config.api_schemas import Page, QuerySchema, page_of, patch_of, responses, text_problem
from config.errors import Conflict, DomainError, NotFound, ValidationFailed
from sessions.selectors import session_get_for_user, version_for_choice

router = Router()
CASES = ["test cases"]
RUNS = ["evaluation runs"]
FAILED = (ResultStatus.FAILED, ResultStatus.ERROR)


def _agent(request: HttpRequest, agent_id: int) -> Agent:
    """The agent, once the key is known to hold a role that works with test cases (403 first, then 404)."""
    api_require_role(request, EVALUATION)
    return agent_get(agent_id)


# --------------------------------------------------------------------------------------- reads of this family


def _cases(agent: Agent) -> QuerySet[EvalCase]:
    return EvalCase.objects.filter(agent=agent).select_related("created_by", "source_session").order_by("key", "id")


def _case_get(agent: Agent, case_id: int) -> EvalCase:
    """The agent's case; another agent's case looks nonexistent (404)."""
    return row_get(_cases(agent), case_id, what="test case")


def _cases_filtered(agent: Agent, *, tag: str | None, kind: str | None, q: str | None) -> QuerySet[EvalCase]:
    cases = _cases(agent)
    if kind:
        cases = cases.filter(kind=kind)
    if q:
        cases = cases.filter(Q(key__icontains=q) | Q(name__icontains=q))
    if tag:
        # Tags are a JSON list, and SQLite has no JSON containment: match in Python (an agent has <= 2000 cases).
        tagged = [pk for pk, tags in cases.values_list("pk", "tags") if tag in (tags or [])]
        cases = cases.filter(pk__in=tagged)
    return cases


def _runs(agent: Agent) -> QuerySet[EvalRun]:
    return EvalRun.objects.filter(agent=agent).select_related("version", "created_by")


def _run_get(agent: Agent, run_id: int) -> EvalRun:
    """The agent's run; another agent's run looks nonexistent (404)."""
    return row_get(_runs(agent), run_id, what="evaluation run")


def _trace_url(request: HttpRequest, session_uid: Any, turn_id: Any) -> str | None:
    if session_uid is None or not turn_id:
        return None
    return request.build_absolute_uri(reverse("sandbox:trace", kwargs={"uid": session_uid, "turn_id": turn_id}))


def _result_out(request: HttpRequest, result: EvalResult) -> dict[str, Any]:
    """One attempt with links: the evaluation conversation, and each turn's (and each failure's) trace."""
    uid = result.session.uid if result.session_id and result.session else None
    turns = [{**turn, "trace_url": _trace_url(request, uid, turn.get("turn_id"))} for turn in result.turns or []]
    assertions = []
    for item in result.assertions or []:
        index = item.get("turn")
        turn = turns[index] if isinstance(index, int) and 0 <= index < len(turns) else None
        assertions.append({**item, "trace_url": turn["trace_url"] if turn else None})
    return {
        "id": result.pk,
        "case_id": result.case_id,
        "case_key": result.case_key,
        "repeat": result.repeat,
        "status": result.status,
        "error": result.error,
        "assertions": assertions,
        "turns": turns,
        "metrics": result.metrics or {},
        "session": uid,
        "session_url": request.build_absolute_uri(reverse("sandbox:session", kwargs={"uid": uid})) if uid else None,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
    }


# ------------------------------------------------------------------------------------------------ test cases


@router.get("/agents/{int:agent_id}/test-cases", response=responses({200: Page[CaseOut]}), tags=CASES)
def cases_list(request: HttpRequest, agent_id: Id, filters: Query[CaseFilter]) -> Any:
    """The agent's test cases by key, filterable by tag, kind and text (key, name)."""
    agent = _agent(request, agent_id)
    return page_of(_cases_filtered(agent, tag=filters.tag, kind=filters.kind, q=filters.q), filters)


@router.post("/agents/{int:agent_id}/test-cases", response=responses({201: CaseOut}), tags=CASES)
def cases_create(request: HttpRequest, agent_id: Id, payload: CaseIn) -> Any:
    """Create a test case (the suite format's CASE); a taken key is a 409, an invalid part a 422 naming it."""
    agent = _agent(request, agent_id)
    case = case_create(agent=agent, data=payload.model_dump(exclude_unset=True), actor=api_actor(request))
    return Status(201, _case_get(agent, case.pk))


@router.get(
    "/agents/{int:agent_id}/test-cases/export",
    response=responses({200: dict[str, Any]}),
    tags=CASES,
    openapi_extra={
        "responses": {
            200: {
                "description": "The test suite",
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "text/yaml": {"schema": {"type": "string"}},
                },
            }
        }
    },
)
def cases_export(request: HttpRequest, agent_id: Id, query: Query[SuiteExportQuery]) -> HttpResponse:
    """The agent's test suite (or the cases with `tag`) in the suite format, as JSON or YAML (text/yaml)."""
    agent = _agent(request, agent_id)
    cases = _cases_filtered(agent, tag=query.tag, kind=None, q=None) if query.tag else None
    suite = suite_export(agent, cases=cases)
    content_type = "application/json" if query.format == "json" else "text/yaml"
    response = HttpResponse(document_dump(suite, query.format), content_type=f"{content_type}; charset=utf-8")
    filename = f"{slugify(agent.name) or 'agent'}-tests.{query.format}"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@router.post(
    "/agents/{int:agent_id}/test-cases/import",
    response=responses({200: SuiteImportOut}),
    tags=CASES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": f"A test suite (docs/evaluations.md), at most {MAX_DOCUMENT_BYTES} bytes.",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/yaml": {"schema": {"type": "string"}},
            },
        }
    },
)
def cases_import(request: HttpRequest, agent_id: Id, query: Query[SuiteImportQuery]) -> Any:
    """Import a test suite: JSON, or YAML with Content-Type application/yaml. Cases with a new key are created,
    those with an existing key updated; with `?replace=true` the agent's other cases are deleted. All or nothing:
    on any error nothing changes and every problem is listed with its path."""
    agent = _agent(request, agent_id)
    fmt = query.format or ("yaml" if request.content_type in YAML_CONTENT_TYPES else "json")
    try:
        data = document_load(request.body, fmt)
    except ValidationFailed as error:
        # A body that does not even parse is a malformed request, not an invalid suite.
        raise DomainError(error.message, details=error.details, code=f"invalid_{fmt}") from None
    problem = text_problem(data)
    if problem is not None:
        raise ValidationFailed(f"{problem[0]}: {problem[1]}", details=[{"path": problem[0], "message": problem[1]}])
    return suite_import(agent, data, actor=api_actor(request), replace=query.replace)


@router.post(
    "/agents/{int:agent_id}/test-cases/from-session",
    response=responses({200: dict[str, Any], 201: CaseOut}),
    tags=CASES,
)
def cases_from_session(request: HttpRequest, agent_id: Id, payload: CaseFromSessionIn) -> Any:
    """A conversation of this agent as a test case: its customer messages (up to `offset`) with assertions
    proposed from each turn's trace. Without `save`, the proposal (suite-format data to edit and POST to
    /test-cases); with `save`, the created case (201)."""
    agent = _agent(request, agent_id)
    session, _access = session_get_for_user(request.user, str(payload.session), need="view")
    if session.agent_id != agent.pk:
        raise NotFound("No such session.")
    if payload.save:
        case = case_from_session(
            session, actor=api_actor(request), up_to_offset=payload.offset, overrides=payload.overrides
        )
        return Status(201, _case_get(agent, case.pk))
    return case_proposal_from_session(session, up_to_offset=payload.offset)


@router.get("/agents/{int:agent_id}/test-cases/{int:case_id}", response=responses({200: CaseOut}), tags=CASES)
def cases_get(request: HttpRequest, agent_id: Id, case_id: Id) -> Any:
    return _case_get(_agent(request, agent_id), case_id)


@router.patch("/agents/{int:agent_id}/test-cases/{int:case_id}", response=responses({200: CaseOut}), tags=CASES)
def cases_update(request: HttpRequest, agent_id: Id, case_id: Id, payload: CasePatch) -> Any:  # type: ignore[valid-type]
    """Change a case: the fields sent replace the case's (a list, such as turns, is replaced whole; null removes
    the simulation). With `revision`, refused (409 stale_revision) when someone changed the case since."""
    agent = _agent(request, agent_id)
    case = _case_get(agent, case_id)
    patch = patch_of(payload)
    merged = {**case.definition, **patch.changes()}
    data = {name: value for name, value in merged.items() if value is not None}
    case = case_update(case, data=data, actor=api_actor(request), revision=patch.expected_revision())
    return _case_get(agent, case.pk)


@router.delete("/agents/{int:agent_id}/test-cases/{int:case_id}", response=responses({204: None}), tags=CASES)
def cases_delete(request: HttpRequest, agent_id: Id, case_id: Id) -> Any:
    """Delete a case; the results of past runs keep their copy of it."""
    agent = _agent(request, agent_id)
    case_delete(_case_get(agent, case_id), actor=api_actor(request))
    return Status(204, None)


# ------------------------------------------------------------------------------------------------------ runs


@router.post("/agents/{int:agent_id}/test-runs", response=responses({201: RunDetailOut}), tags=RUNS)
def runs_create(request: HttpRequest, agent_id: Id, payload: RunIn) -> Any:
    """Run the chosen cases (keys, tags; all when both are empty) x `repeats` on the draft, the published version
    or a version number. Attempts run in the background, `concurrency` at a time: follow the run's status and
    progress_done/progress_total until it is passed, failed, cancelled or error."""
    agent = _agent(request, agent_id)
    version = version_for_choice(agent, payload.version, default="draft")
    baseline = None
    if payload.baseline is not None:
        baseline = _runs(agent).filter(pk=payload.baseline).first()
        if baseline is None:
            raise invalid("baseline", f"agent {agent.name!r} has no evaluation run {payload.baseline}")
    run = run_create(
        agent=agent,
        version=version,
        actor=api_actor(request),
        keys=payload.keys,
        tags=payload.tags,
        repeats=payload.repeats,
        concurrency=payload.concurrency,
        min_pass_rate=payload.min_pass_rate,
        purpose=RunPurpose.API,
        baseline=baseline,
    )
    return Status(201, _run_get(agent, run.pk))


@router.get("/agents/{int:agent_id}/test-runs", response=responses({200: Page[RunOut]}), tags=RUNS)
def runs_list(request: HttpRequest, agent_id: Id, filters: Query[QuerySchema]) -> Any:
    """The agent's runs, newest first (without their coverage)."""
    agent = _agent(request, agent_id)
    return page_of(_runs(agent).defer("coverage", "inventory"), filters)


@router.get("/agents/{int:agent_id}/test-runs/{int:run_id}", response=responses({200: RunDetailOut}), tags=RUNS)
def runs_get(request: HttpRequest, agent_id: Id, run_id: Id) -> Any:
    """One run: status, progress, and once finished its summary and coverage."""
    return _run_get(_agent(request, agent_id), run_id)


@router.get(
    "/agents/{int:agent_id}/test-runs/{int:run_id}/results", response=responses({200: Page[ResultOut]}), tags=RUNS
)
def runs_results(request: HttpRequest, agent_id: Id, run_id: Id, filters: Query[ResultFilter]) -> Any:
    """The run's attempts by case key and repeat: each assertion with the cause of its failure, the turns in
    short (guidelines, tools, journeys, reply) with a link to each turn's trace, and the attempt's figures."""
    run = _run_get(_agent(request, agent_id), run_id)
    results = run.results.select_related("session").order_by("case_key", "repeat", "id")
    if filters.case:
        results = results.filter(case_key=filters.case)
    if filters.status:
        results = results.filter(status=filters.status)
    if filters.failed is not None:
        results = results.filter(status__in=FAILED) if filters.failed else results.exclude(status__in=FAILED)
    page = page_of(results, filters)
    page["items"] = [_result_out(request, result) for result in page["items"]]
    return page


@router.post("/agents/{int:agent_id}/test-runs/{int:run_id}/cancel", response=responses({200: RunDetailOut}), tags=RUNS)
def runs_cancel(request: HttpRequest, agent_id: Id, run_id: Id) -> Any:
    """Stop a run: attempts not started are cancelled at once, running ones before their next turn. A finished
    run cannot be cancelled (409 run_finished)."""
    agent = _agent(request, agent_id)
    run = _run_get(agent, run_id)
    if run.finished:
        raise Conflict(
            f"Run {run.pk} has already finished ({run.get_status_display().lower()}); only a queued or running "
            "run can be cancelled.",
            code="run_finished",
            details={"status": run.status},
        )
    run_cancel(run, actor=api_actor(request))
    return _run_get(agent, run.pk)


@router.get("/agents/{int:agent_id}/test-runs/{int:run_id}/compare", response=responses({200: CompareOut}), tags=RUNS)
def runs_compare_with(request: HttpRequest, agent_id: Id, run_id: Id, query: Query[CompareQuery]) -> Any:
    """This run (the candidate) against `baseline` (default: the run's own baseline): per case, regressions and
    improvements first, and what each turn did differently (guidelines, tools and arguments, journeys, reply)."""
    agent = _agent(request, agent_id)
    candidate = _run_get(agent, run_id)
    baseline_id = query.baseline if query.baseline is not None else candidate.baseline_id
    if baseline_id is None:
        raise invalid("baseline", "name the run to compare with (?baseline=RUN_ID); this run has no baseline")
    baseline = _run_get(agent, baseline_id)
    comparison = runs_compare(
        [result_attempt(result) for result in baseline.results.all()],
        [result_attempt(result) for result in candidate.results.all()],
        k=min(baseline.repeats, candidate.repeats),
    )
    return {"baseline": baseline, "candidate": candidate, **comparison}
