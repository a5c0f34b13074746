"""The studio's test case pages: the list (search, tag and kind filters, 50 per page, each case's last result),
one case (read in words, its recent results), the editor (new, edit, and "Save as test case" from a sandbox
session with assertions proposed from its traces), deleting, and the suite's export and import.

Test cases are for testers, editors and admins (the roles that open the sandbox); operators are refused."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods

from agents.models import Agent
from agents.permissions import Area, user_may_open
from agents.selectors import agent_get
from behavior.evaluations.assertions import assertion_label
from behavior.evaluations.cases import (
    case_create,
    case_definition,
    case_delete,
    case_proposal_from_session,
    case_update,
    suite_export,
    suite_import,
)
from behavior.evaluations.format import case_parse
from behavior.evaluations.models import RESULT_FINISHED, EvalCase, EvalResult
from behavior.forms.eval_cases import (
    ASSERTION_GROUPS,
    ASSERTION_LABELS,
    KINDS,
    MATCHER_OPS,
    YAML_MAX,
    CaseFilterForm,
    SuiteExportForm,
    SuiteImportForm,
    anchors,
    draft_apply,
    draft_data,
    draft_from_data,
    draft_from_post,
    draft_yaml,
    editor_choices,
    editor_rows,
    empty_draft,
    humane_details,
    nearest_anchor,
    placed_errors,
    yaml_case,
)
from behavior.services.audit import Actor, StaleRevision, studio_actor
from behavior.services.documents import document_dump, document_load
from behavior.views.access import studio_view
from config.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from config.htmx import HtmxHttpRequest

CASES_PER_PAGE = 50
RECENT_RESULTS = 10
SESSIONS_OFFERED = 20
LIST = "studio/eval_cases/list.html"
DETAIL = "studio/eval_cases/detail.html"
EDITOR = "studio/eval_cases/form.html"
DELETE = "studio/eval_cases/delete.html"
IMPORT = "studio/eval_cases/import.html"
FROM_SESSION_PICK = "studio/eval_cases/from_session_pick.html"


# ---------------------------------------------------------------- access


def require_tester(request: HttpRequest) -> Actor:
    """The actor for test case pages, or PermissionDenied for users without the tester, editor or admin role."""
    if not user_may_open(request.user, Area.SANDBOX):
        raise PermissionDenied(
            "Test cases need the tester, editor or admin role: they replay conversations like the sandbox does."
        )
    return studio_actor(request.user)


def cases_agent(request: HttpRequest, agent_id: int) -> tuple[Agent, Actor]:
    actor = require_tester(request)
    return agent_get(agent_id), actor


def case_get(agent: Agent, case_id: int) -> EvalCase:
    """The agent's case (another agent's case is a 404 like a missing one)."""
    case = EvalCase.objects.filter(agent_id=agent.pk, pk=case_id).select_related("source_session").first()
    if case is None:
        raise NotFound("No such test case.")
    return case


def _url_or_empty(name: str, *args: Any) -> str:
    """A URL of another page family that may not exist yet (runs are built separately)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _run_url(agent: Agent, run_id: int | None) -> str:
    return _url_or_empty("studio:eval-run-detail", agent.pk, run_id) if run_id else ""


# ---------------------------------------------------------------- the list


def _case_rows(agent: Agent, filters: dict[str, str]) -> QuerySet[EvalCase]:
    rows = EvalCase.objects.filter(agent_id=agent.pk)
    if filters.get("q"):
        rows = rows.filter(Q(key__icontains=filters["q"]) | Q(name__icontains=filters["q"]))
    if filters.get("kind"):
        rows = rows.filter(kind=filters["kind"])
    if filters.get("tag"):  # tags are a JSON list: matched here, portably across databases
        tagged = [pk for pk, tags in rows.values_list("pk", "tags") if filters["tag"] in (tags or [])]
        rows = rows.filter(pk__in=tagged)
    latest = EvalResult.objects.filter(case_id=OuterRef("pk"), status__in=RESULT_FINISHED).order_by("-id")
    return rows.annotate(
        last_status=Subquery(latest.values("status")[:1]), last_run_id=Subquery(latest.values("run_id")[:1])
    ).order_by("key", "id")


def _counts(case: EvalCase) -> dict[str, int]:
    definition = case.definition or {}
    turns = definition.get("turns") or []
    in_turns = sum(len(turn.get("assertions") or []) for turn in turns)
    return {"turns": len(turns), "assertions": in_turns + len(definition.get("assertions") or [])}


@require_GET
@studio_view
def eval_case_list_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent, _ = cases_agent(request, agent_id)
    filters = CaseFilterForm(request.GET)
    active = filters.active()
    page = Paginator(_case_rows(agent, active), CASES_PER_PAGE).get_page(request.GET.get("page"))
    for case in page.object_list:
        case.counts = _counts(case)  # type: ignore[attr-defined]
        case.last_run_url = _run_url(agent, case.last_run_id)  # type: ignore[attr-defined]
    all_tags = sorted({tag for tags in agent.eval_cases.values_list("tags", flat=True) for tag in tags or []})
    context = {
        "agent": agent,
        "family": "eval_cases",
        "page": page,
        "cases": page.object_list,
        "filters": filters,
        "active": active,
        "filtered": bool(active),
        "query": urlencode(active),
        "tags": all_tags,
        "kinds": KINDS,
        "runs_url": _url_or_empty("studio:eval-run-list", agent.pk),
    }
    template = f"{LIST}#case-results" if request.htmx else LIST
    return render(request, template, context)


# ---------------------------------------------------------------- one case


def _assertions_in_words(items: list[Any]) -> list[dict[str, str]]:
    return [{"label": assertion_label(item), "note": item.note, "type": item.type} for item in items]


@require_GET
@studio_view
def eval_case_detail_view(request: HtmxHttpRequest, agent_id: int, case_id: int) -> HttpResponse:
    agent, _ = cases_agent(request, agent_id)
    case = case_get(agent, case_id)
    definition = case_definition(case)
    results = list(EvalResult.objects.filter(case_id=case.pk).select_related("run").order_by("-id")[:RECENT_RESULTS])
    for result in results:
        result.run_url = _run_url(agent, result.run_id)  # type: ignore[attr-defined]
    context = {
        "agent": agent,
        "family": "eval_cases",
        "case": case,
        "definition": definition,
        "turns": [
            {"message": turn.message, "assertions": _assertions_in_words(list(turn.assertions))}
            for turn in definition.turns
        ],
        "conversation_assertions": _assertions_in_words(list(definition.assertions)),
        "mocks": [
            {
                "tool": mock.tool,
                "arguments": ", ".join(f"{name} {matcher.describe()}" for name, matcher in mock.arguments.items()),
                "result": mock.result,
                "error": mock.error,
            }
            for mock in definition.mocks
        ],
        "results": results,
        "run_create_url": _url_or_empty("studio:eval-run-create", agent.pk),
        "run_concurrency": int(getattr(settings, "EVAL_DEFAULT_CONCURRENCY", 1)),
    }
    return render(request, DETAIL, context)


# ---------------------------------------------------------------- the editor


def _editor_context(
    request: HtmxHttpRequest,
    agent: Agent,
    draft: dict[str, Any],
    *,
    details: list[dict[str, str]] | None = None,
    yaml_text: str | None = None,
    yaml_open: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    known = anchors(draft)
    details = [
        {**item, "href": _href(nearest_anchor(item.get("path", ""), known))} for item in humane_details(details or [])
    ]
    errors = placed_errors(details, known)
    return {
        "agent": agent,
        "family": "eval_cases",
        "draft": draft,
        "rows": editor_rows(draft, errors),
        "errors": errors,
        "details": details,
        "choices": editor_choices(agent),
        "assertion_groups": [
            (group, [(kind, ASSERTION_LABELS[kind]) for kind in kinds]) for group, kinds in ASSERTION_GROUPS
        ],
        "matcher_ops": MATCHER_OPS,
        "kinds": KINDS,
        "yaml_text": draft_yaml(draft) if yaml_text is None else yaml_text,
        "yaml_open": yaml_open,
        **extra,
    }


def _href(anchor: str) -> str:
    return "#f-" + anchor.replace(".", "-") if anchor else "#case-editor"


def _error_details(error: ValidationFailed | Conflict) -> list[dict[str, str]]:
    details = error.details if isinstance(error.details, list) else []
    shown = [item for item in details if isinstance(item, dict) and item.get("path") != "revision"]
    return shown or [{"path": "", "message": error.message}]


def _editor(
    request: HtmxHttpRequest,
    agent: Agent,
    *,
    initial: dict[str, Any],
    save: Any,
    extra: dict[str, Any],
) -> HttpResponse | EvalCase:
    """GET shows `initial`; a POST with `op` adds, removes or moves a row (or loads the YAML into the form) and
    shows the form again; any other POST saves through `save(data, revision)`. Whatever was typed stays."""
    if request.method != "POST":
        return _editor_render(request, _editor_context(request, agent, initial, **extra))
    post = request.POST
    draft = draft_from_post(post)
    op = str(post.get("op") or "")
    yaml_text = str(post.get("yaml") or "")[:YAML_MAX]
    revision = post.get("revision") or ""
    extra = {**extra, "revision": revision}
    if op == "yaml-to-form":
        try:
            draft = draft_from_data(yaml_case(yaml_text))
        except ValidationFailed as error:
            context = _editor_context(
                request,
                agent,
                draft,
                yaml_text=yaml_text,
                yaml_open=True,
                yaml_details=humane_details(_error_details(error)),
                **extra,
            )
            return _editor_render(request, context, status=422)
        return _editor_render(request, _editor_context(request, agent, draft, yaml_open=True, **extra))
    if op:
        draft_apply(draft, op)
        return _editor_render(request, _editor_context(request, agent, draft, **extra))
    from_yaml = post.get("source") == "yaml"
    try:
        if from_yaml:
            data = yaml_case(yaml_text)
        else:
            data, problems = draft_data(draft)
            if problems:  # gather the format's messages too, then refuse with all of them
                try:
                    case_parse(data)
                except ValidationFailed as error:
                    problems += _error_details(error)
                raise ValidationFailed("The test case is not valid.", details=problems)
        saved = save(data, int(revision) if str(revision).isdigit() else None)
    except StaleRevision as error:
        current = EvalCase.objects.filter(pk=extra["case"].pk).values_list("revision", flat=True).first()
        extra["revision"] = str(current or revision)
        context = _editor_context(
            request,
            agent,
            draft,
            yaml_text=yaml_text if from_yaml else None,
            yaml_open=from_yaml,
            stale=error.message,
            **extra,
        )
        return _editor_render(request, context, status=409)
    except (ValidationFailed, Conflict) as error:
        details = _error_details(error)
        status = 409 if isinstance(error, Conflict) else 422
        if from_yaml:
            context = _editor_context(
                request,
                agent,
                draft,
                yaml_text=yaml_text,
                yaml_open=True,
                yaml_details=humane_details(details),
                **extra,
            )
        else:
            context = _editor_context(request, agent, draft, details=details, **extra)
        return _editor_render(request, context, status=status)
    return saved


def _editor_render(request: HtmxHttpRequest, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    template = f"{EDITOR}#case-editor" if request.htmx else EDITOR
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@studio_view
def eval_case_create_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent, actor = cases_agent(request, agent_id)
    kind = "simulated" if request.GET.get("kind") == "simulated" else "scripted"
    initial = empty_draft()
    initial["kind"] = kind
    extra = {"mode": "create", "action_url": reverse("studio:eval-case-create", args=[agent.pk])}
    outcome = _editor(
        request,
        agent,
        initial=initial,
        save=lambda data, _revision: case_create(agent=agent, data=data, actor=actor),
        extra=extra,
    )
    if isinstance(outcome, HttpResponse):
        return outcome
    case = outcome
    messages.success(request, f"Test case {case.key} created.")
    return redirect("studio:eval-case-detail", agent_id=agent.pk, case_id=case.pk)


@require_http_methods(["GET", "POST"])
@studio_view
def eval_case_update_view(request: HtmxHttpRequest, agent_id: int, case_id: int) -> HttpResponse:
    agent, actor = cases_agent(request, agent_id)
    case = case_get(agent, case_id)
    extra = {
        "mode": "update",
        "case": case,
        "revision": str(case.revision),
        "action_url": reverse("studio:eval-case-update", args=[agent.pk, case.pk]),
    }
    outcome = _editor(
        request,
        agent,
        initial=draft_from_data(case.definition),
        save=lambda data, revision: case_update(case, data=data, actor=actor, revision=revision),
        extra=extra,
    )
    if isinstance(outcome, HttpResponse):
        return outcome
    messages.success(request, f"Test case {outcome.key} saved (revision {outcome.revision}).")
    return redirect("studio:eval-case-detail", agent_id=agent.pk, case_id=case.pk)


def _offset(request: HttpRequest) -> int | None:
    text = str(request.GET.get("offset") or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise ValidationFailed("The message offset is a whole number, e.g. ?offset=4.")
    return int(text)


@require_http_methods(["GET", "POST"])
@studio_view
def eval_case_from_session_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """ "Save as test case" from a sandbox session (?session=<uid>, and ?offset=<n> for a flagged agent message:
    the conversation up to it): the proposal in the editor; saving keeps the link to the session."""
    from sessions.models import SessionSource
    from sessions.selectors import session_get_for_user, sessions_visible_to

    agent, actor = cases_agent(request, agent_id)
    uid = str(request.GET.get("session") or "").strip()[:64]
    if not uid:  # no session chosen: offer the user's recent sandbox sessions of this agent
        sessions = (
            sessions_visible_to(request.user)
            .filter(agent_id=agent.pk)
            .exclude(source=SessionSource.EVALUATION)
            .select_related("customer")
            .order_by("-updated_at", "-id")[:SESSIONS_OFFERED]
        )
        return render(request, FROM_SESSION_PICK, {"agent": agent, "family": "eval_cases", "sessions": sessions})
    session, _ = session_get_for_user(request.user, uid)
    if session.agent_id != agent.pk:
        raise NotFound("No such session.")
    offset = _offset(request)
    query = urlencode({"session": session.uid, **({"offset": offset} if offset is not None else {})})
    extra = {
        "mode": "from_session",
        "session": session,
        "offset": offset,
        "action_url": reverse("studio:eval-case-from-session", args=[agent.pk]) + f"?{query}",
    }
    initial = (
        draft_from_data(case_proposal_from_session(session, up_to_offset=offset)) if request.method == "GET" else {}
    )
    outcome = _editor(
        request,
        agent,
        initial=initial,
        save=lambda data, _revision: case_create(agent=agent, data=data, actor=actor, source_session=session),
        extra=extra,
    )
    if isinstance(outcome, HttpResponse):
        return outcome
    messages.success(request, f"Test case {outcome.key} saved from the sandbox conversation.")
    return redirect("studio:eval-case-detail", agent_id=agent.pk, case_id=outcome.pk)


@require_http_methods(["GET", "POST"])
@studio_view
def eval_case_delete_view(request: HtmxHttpRequest, agent_id: int, case_id: int) -> HttpResponse:
    """GET asks to confirm (the page works without JavaScript); POST deletes (past results keep their copy)."""
    agent, actor = cases_agent(request, agent_id)
    case = case_get(agent, case_id)
    if request.method != "POST":
        return render(request, DELETE, {"agent": agent, "family": "eval_cases", "case": case})
    key = case.key
    case_delete(case, actor=actor)
    messages.success(request, f"Test case {key} deleted. Past run results keep their copy of it.")
    return redirect("studio:eval-case-list", agent_id=agent.pk)


# ---------------------------------------------------------------- the suite


@require_GET
@studio_view
def eval_suite_export_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """The agent's whole suite as a YAML (default) or JSON file to download."""
    agent, _ = cases_agent(request, agent_id)
    fmt = SuiteExportForm(request.GET).fmt()
    content_type = "application/json" if fmt == "json" else "application/yaml"
    text = document_dump(suite_export(agent), "json" if fmt == "json" else "yaml")
    response = HttpResponse(text, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(agent.name) or "agent"}-tests.{fmt}"'
    return response


def _import_details(error: ValidationFailed, data: Any) -> list[dict[str, str]]:
    """The import's messages, each path starting `cases.3` also naming that case's key."""
    shown = []
    cases = data.get("cases") if isinstance(data, dict) else None
    for item in _error_details(error):
        path = str(item.get("path") or "")
        parts = path.split(".")
        if len(parts) >= 2 and parts[0] == "cases" and parts[1].isdigit() and isinstance(cases, list):
            index = int(parts[1])
            if index < len(cases) and isinstance(cases[index], dict) and cases[index].get("key"):
                path = f"{path} (case {str(cases[index]['key'])[:80]})"
        shown.append({"path": path, "message": str(item.get("message") or "")})
    return shown


@require_http_methods(["GET", "POST"])
@studio_view
def eval_suite_import_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """Upload or paste a suite: new keys are created, known keys updated, with "replace" the others deleted;
    nothing changes when anything is wrong."""
    agent, actor = cases_agent(request, agent_id)
    form = SuiteImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"agent": agent, "family": "eval_cases", "form": form, "details": []}
    if request.method != "POST":
        return render(request, IMPORT, context)
    if not form.is_valid():
        return render(request, IMPORT, context, status=422)
    data: Any = None
    try:
        text, fmt = form.source()
        data = document_load(text, "json" if fmt == "json" else "yaml")
        counts = suite_import(agent, data, actor=actor, replace=form.cleaned_data["replace"])
    except ValidationFailed as error:
        context.update(problem=error.message, details=_import_details(error, data))
        return render(request, IMPORT, context, status=422)
    done = f"{counts['created']} created, {counts['updated']} updated, {counts['deleted']} deleted"
    messages.success(request, f"Suite imported: {done}.")
    return redirect("studio:eval-case-list", agent_id=agent.pk)
