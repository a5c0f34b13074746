"""The studio's Lint page: the draft's findings grouped by severity, each linked to its entity's page, and the
optional LLM check for contradictory guidelines (an editor starts it; its progress fragment is polled)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from agents.models import Agent, Tool
from behavior.models import CannedResponse, ContextVariable, GlossaryTerm, Guideline, Journey, LintRun
from behavior.services.lint import (
    SEVERITIES,
    agent_lint,
    lint_run_get,
    lint_run_is_active,
    lint_run_latest,
    lint_run_start,
)
from behavior.views.access import require_editor, studio_agent, studio_view
from config.htmx import HtmxHttpRequest

# entity -> (URL name, its id argument's model, the model's ref field)
_ENTITY_PAGES: dict[str, tuple[str, Any, str]] = {
    "guideline": ("studio:guideline-detail", Guideline, "key"),
    "journey": ("studio:journey-detail", Journey, "key"),
    "canned_response": ("studio:canned-response-detail", CannedResponse, "key"),
    "glossary_term": ("studio:glossary-detail", GlossaryTerm, "name"),
    "context_variable": ("studio:variable-detail", ContextVariable, "name"),
    "tool": ("studio:tool-detail", Tool, "name"),
}
SEVERITY_TITLES = {"error": "Errors", "warning": "Warnings", "info": "Notes"}


def _linked(agent: Agent, findings: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings with `url` (the entity's studio page, when that page exists) and `related_links`."""
    findings = list(findings)
    wanted: dict[str, set[str]] = {}
    for finding in findings:
        for entity, ref in [(finding["entity"], finding["ref"]), *[tuple(pair) for pair in finding.get("related", [])]]:
            if entity == "journey_state":
                entity, ref = "journey", str(ref).partition("/")[0]
            if entity in _ENTITY_PAGES:
                wanted.setdefault(entity, set()).add(str(ref))
    urls: dict[tuple[str, str], str] = {}
    for entity, refs in wanted.items():
        url_name, model, field = _ENTITY_PAGES[entity]
        rows = model.objects.filter(agent=agent, **{f"{field}__in": refs}).values_list(field, "pk")
        for ref, pk in rows:
            try:
                urls[(entity, ref)] = reverse(url_name, args=[agent.pk, pk])
            except NoReverseMatch:  # that family's pages are not built (yet)
                break

    def url_of(entity: str, ref: str) -> str | None:
        if entity == "journey_state":
            entity, ref = "journey", ref.partition("/")[0]
        return urls.get((entity, str(ref)))

    linked = []
    for finding in findings:
        related = [
            {"entity": entity, "ref": ref, "url": url_of(entity, ref)} for entity, ref in finding.get("related", [])
        ]
        linked.append({**finding, "url": url_of(finding["entity"], finding["ref"]), "related_links": related})
    return linked


def _grouped(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"severity": severity, "title": SEVERITY_TITLES[severity], "findings": items}
        for severity in SEVERITIES
        if (items := [finding for finding in findings if finding["severity"] == severity])
    ]


def _run_context(agent: Agent, run: LintRun | None) -> dict[str, Any]:
    if run is None:
        return {"run": None}
    revision = Agent.objects.filter(pk=agent.pk).values_list("draft_revision", flat=True).first()
    return {
        "run": run,
        "run_active": lint_run_is_active(run),
        "run_findings": _linked(agent, run.findings or []),
        "run_outdated": revision != run.draft_revision,
        "run_percent": int(100 * run.progress_done / run.progress_total) if run.progress_total else 0,
    }


@require_GET
@studio_view
def lint_page(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    # The contradiction check's findings have their own section below (with when it ran and on which draft).
    findings = _linked(agent, (finding for finding in agent_lint(agent) if finding["code"] != "contradiction"))
    context = {
        "agent": agent,
        "family": "lint",
        "groups": _grouped(findings),
        "counts": {severity: sum(1 for f in findings if f["severity"] == severity) for severity in SEVERITIES},
        "total": len(findings),
        **_run_context(agent, lint_run_latest(agent)),
    }
    template = "studio/lint/page.html#lint-findings" if request.htmx else "studio/lint/page.html"
    return render(request, template, context)


@require_POST
@studio_view
def lint_run_create_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id, edit=True)
    actor = require_editor(request)
    run = lint_run_start(agent, actor=actor)
    if request.htmx:
        run.refresh_from_db()
        return render(request, "studio/lint/_run.html", {"agent": agent, **_run_context(agent, run)})
    messages.success(request, "The check for contradictions has started.")
    return redirect("studio:lint-run-detail", agent_id=agent.pk, run_id=run.pk)


@require_GET
@studio_view
def lint_run_detail(request: HtmxHttpRequest, agent_id: int, run_id: int) -> HttpResponse:
    agent = studio_agent(request, agent_id)
    run = lint_run_get(agent, run_id)
    context = {"agent": agent, "family": "lint", **_run_context(agent, run)}
    template = "studio/lint/_run.html" if request.htmx else "studio/lint/run.html"
    return render(request, template, context)
