"""The studio's versions pages: the history with the publish form and the compare picker, one version, the
diff between any two versions or a version and the draft, rolling back, exporting a document and importing one
(replacing an agent's draft, or creating a new agent)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods

from agents.models import Agent
from behavior.forms.versions import (
    DRAFT,
    EMPTY,
    PUBLISHED,
    CompareForm,
    ExportForm,
    ImportForm,
    PublishForm,
    RollbackForm,
)
from behavior.selectors import agent_draft_changes, version_get, version_list
from behavior.selectors.versions import version_counts, version_summaries
from behavior.services.audit import Actor
from behavior.services.diffing import version_diff
from behavior.services.documents import document_dump, document_load
from behavior.services.exporting import agent_export_document
from behavior.services.importing import agent_import_document
from behavior.services.lint import agent_lint_summary, lint_errors
from behavior.services.text_diff import diff_count, diff_for_display
from behavior.services.versions import version_publish, version_rollback
from behavior.views.access import require_editor, studio_agent, studio_view
from behavior.views.eval_runs.display import publish_check_state
from config.api_schemas import text_problem
from config.errors import ValidationFailed
from config.html_errors import form_call, form_status
from config.htmx import HtmxHttpRequest

VERSIONS_PER_PAGE = 20
DOCUMENT_SHOWN_MAX_CHARS = 200_000


def _document_for(agent: Agent, ref: str) -> dict[str, Any]:
    """The document `ref` names: a version number, the draft, the published version, or nothing (empty)."""
    if ref == DRAFT:
        return agent_export_document(agent)
    if ref == EMPTY:
        return {}
    if ref == PUBLISHED:
        return dict(agent.published_version.document) if agent.published_version is not None else {}
    return dict(version_get(agent, int(ref)).document)


def _ref_label(agent: Agent, ref: str) -> str:
    if ref == DRAFT:
        return "the draft"
    if ref == EMPTY:
        return "nothing (an empty agent)"
    if ref == PUBLISHED:
        version = agent.published_version
        return f"the published version (v{version.number})" if version is not None else "nothing (never published)"
    return f"v{ref}"


def publish_state(agent: Agent) -> dict[str, Any]:
    """What the publish form needs: the draft's changes, the lint summary and errors, and why it is disabled."""
    changes = agent_draft_changes(agent)
    errors = lint_errors(agent)
    reasons = []
    if not changes["count"]:
        reasons.append("The draft equals the published version: there is nothing to publish.")
    if errors:
        reasons.append(f"The draft has {len(errors)} lint error{'s' if len(errors) != 1 else ''}; fix them first.")
    return {
        "changes": changes,
        "changes_shown": diff_for_display(changes["diff"]),
        "lint": agent_lint_summary(agent),
        "lint_errors": errors,
        "blocked": reasons,
    }


def _version_list_context(request: HtmxHttpRequest, agent: Agent) -> dict[str, Any]:
    page = Paginator(version_list(agent), VERSIONS_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "agent": agent,
        "family": "versions",
        "page": page,
        "rows": version_summaries(agent, list(page.object_list)),
        "query": "",
        "all_versions": list(version_list(agent).values_list("number", flat=True)[:500]),
    }


@require_GET
@studio_view
def version_list_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    context = _version_list_context(request, agent)
    if request.htmx:
        return render(request, "studio/versions/list.html#version-table", context)
    context.update(publish_state(agent), form=PublishForm(), **publish_check_state(agent, request.user))
    return render(request, "studio/versions/list.html", context)


@require_http_methods(["GET", "POST"])
@studio_view
def version_publish_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """POST publishes the draft with a note; GET (a link from the overview) goes to the publish form."""
    agent = studio_agent(request, agent_id)
    if request.method == "GET":
        return redirect(reverse("studio:version-list", args=[agent.pk]) + "#publish")
    actor = require_editor(request)
    form = PublishForm(request.POST)
    state = publish_state(agent)
    if form.is_valid():
        if state["blocked"]:
            for reason in state["blocked"]:
                form.add_error(None, reason)
        else:
            note = form.cleaned_data["note"]
            version = form_call(form, lambda: version_publish(agent, actor=actor, note=note))
            if version is not None:
                messages.success(request, f"Published v{version.number}. Customers and the API now use it.")
                return redirect("studio:version-detail", agent_id=agent.pk, number=version.number)
    context = {
        **_version_list_context(request, agent),
        **state,
        **publish_check_state(agent, request.user),
        "form": form,
    }
    return render(request, "studio/versions/list.html", context, status=form_status(form))


@require_GET
@studio_view
def version_detail(request: HtmxHttpRequest, agent_id: int, number: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    version = version_get(agent, number)
    text = document_dump(version.document, "yaml")
    context = {
        "agent": agent,
        "family": "versions",
        "version": version,
        "counts": version_counts(version.document),
        "is_published": agent.published_version_id == version.pk,
        "document_text": text[:DOCUMENT_SHOWN_MAX_CHARS],
        "document_cut": len(text) > DOCUMENT_SHOWN_MAX_CHARS,
        "previous": version_list(agent).filter(number__lt=number).defer("document").first(),
    }
    return render(request, "studio/versions/detail.html", context)


@require_GET
@studio_view
def version_diff_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    form = CompareForm(request.GET)
    if not form.is_valid():
        raise ValidationFailed("Compare a version number, draft, published or empty (base) with a number or draft.")
    base, other = form.refs()
    diff = version_diff(_document_for(agent, base), _document_for(agent, other))
    context = {
        "agent": agent,
        "family": "versions",
        "base": base,
        "other": other,
        "base_label": _ref_label(agent, base),
        "other_label": _ref_label(agent, other),
        "diff": diff_for_display(diff),
        "count": diff_count(diff),
        "all_versions": list(version_list(agent).values_list("number", flat=True)[:500]),
    }
    template = "studio/versions/diff.html#version-diff" if request.htmx else "studio/versions/diff.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@studio_view
def version_rollback_view(request: HtmxHttpRequest, agent_id: int, number: int) -> HttpResponse:
    """GET asks for confirmation (showing what the draft would become); POST rolls back."""
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    version = version_get(agent, number)
    form = RollbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        note = form.cleaned_data["note"]
        restored = form_call(form, lambda: version_rollback(agent, number=number, actor=actor, note=note))
        if restored is not None:
            messages.success(request, f"Rolled back: v{restored.number} is published with v{number}'s content.")
            return redirect("studio:version-detail", agent_id=agent.pk, number=restored.number)
    diff = version_diff(agent_export_document(agent), dict(version.document))
    context = {
        "agent": agent,
        "family": "versions",
        "version": version,
        "form": form,
        "diff": diff_for_display(diff),
        "count": diff_count(diff),
        "draft_changes": agent_draft_changes(agent)["count"],
    }
    status = form_status(form) if request.method == "POST" else 200
    return render(request, "studio/versions/rollback.html", context, status=status)


@require_GET
@studio_view
def version_export(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """The draft or a version as a YAML or JSON file to download."""
    agent = studio_agent(request, agent_id)
    form = ExportForm(request.GET)
    if not form.is_valid():
        raise ValidationFailed("Export as format=yaml or json, number=draft or a version number.")
    fmt, ref = form.choice()
    document = _document_for(agent, ref)
    content_type = "application/json" if fmt == "json" else "application/yaml"
    response = HttpResponse(document_dump(document, fmt), content_type=f"{content_type}; charset=utf-8")
    suffix = "draft" if ref == DRAFT else f"v{ref}"
    response["Content-Disposition"] = f'attachment; filename="{slugify(agent.name) or "agent"}-{suffix}.{fmt}"'
    return response


def _import_upload(form: ImportForm, *, actor: Actor, replace_agent: Agent | None) -> Agent:
    """Parse the uploaded file and import it (every problem raised as ValidationFailed with its path)."""
    upload = form.cleaned_data["file"]
    try:
        document = document_load(upload.read(), form.document_format)
    except ValidationFailed as error:  # a file that does not parse: say so beside the file field
        raise ValidationFailed(error.message, details=[{"path": "file", "message": error.message}]) from None
    problem = text_problem(document)
    if problem is not None:
        raise ValidationFailed(f"{problem[0]}: {problem[1]}", details=[{"path": problem[0], "message": problem[1]}])
    if not isinstance(document, dict):
        raise ValidationFailed(
            "The file does not hold a behavior document.",
            details=[{"path": "", "message": "the document must be a mapping (format, agent, guidelines…)"}],
        )
    return agent_import_document(document, actor=actor, replace_agent=replace_agent)


def _import_page(request: HtmxHttpRequest, agent: Agent | None) -> HttpResponse:
    actor = require_editor(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        imported = form_call(form, lambda: _import_upload(form, actor=actor, replace_agent=agent))
        if imported is not None:
            if agent is None:
                messages.success(request, f"Agent {imported.name} imported. Review it, then publish.")
            else:
                messages.success(request, "The draft was replaced by the imported document. Review it, then publish.")
            return redirect("studio:agent-detail", agent_id=imported.pk)
    status = form_status(form) if request.method == "POST" else 200
    context = {
        "agent": agent,
        "family": "versions",
        "form": form,
        "base_template": "studio/base.html" if agent is not None else "base.html",
    }
    return render(request, "studio/versions/import.html", context, status=status)


@require_http_methods(["GET", "POST"])
@studio_view
def agent_import(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """Replace this agent's draft by an uploaded document; on any error nothing changes."""
    return _import_page(request, studio_agent(request, agent_id, edit=True))


@require_http_methods(["GET", "POST"])
@studio_view
def agent_import_new(request: HtmxHttpRequest) -> HttpResponse:
    """Create a new agent from an uploaded document."""
    return _import_page(request, None)
