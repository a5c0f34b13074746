"""The linter wired to the database: one agent's findings (cached per draft revision), the summary the overview
and the publish form show, the findings of one entity, and publishing's gate (errors block it)."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, transaction
from django.utils import timezone

from agents.models import Agent
from behavior.models import LintRun, LintRunStatus
from behavior.services.audit import Actor
from behavior.services.exporting import agent_export_document
from config.errors import NotFound

logger = logging.getLogger(__name__)

LINT_CACHE_SECONDS = 24 * 3600
CONTRADICTIONS = "contradictions"
SEVERITIES = ("error", "warning", "info")


def _embedder() -> Any:
    """The engine's embedder (its vectors are cached by content, so linting again costs lookups only), or None
    when it cannot be built here (then the near-duplicate check is skipped)."""
    try:
        from agents.embeddings import embedder_from_settings

        return embedder_from_settings()
    except Exception:  # an embedder that cannot load must not break the studio's pages
        return None


def agent_lint(agent: Agent) -> list[dict[str, Any]]:
    """Every finding for the agent's draft as dicts (severity, code, message, entity, ref, path, related),
    errors first: the checks of the draft document, plus the findings of the last LLM contradiction check when
    it ran on this very draft. Computed once per draft revision (and contradiction run)."""
    revision = Agent.objects.filter(pk=agent.pk).values_list("draft_revision", flat=True).first() or 0
    run = (
        LintRun.objects.filter(agent=agent, kind=CONTRADICTIONS, status=LintRunStatus.DONE, draft_revision=revision)
        .order_by("-created_at", "-id")
        .values_list("pk", "findings")
        .first()
    )
    key = f"lint:{agent.pk}:{revision}:{run[0] if run else 0}"
    cached = cache.get(key)
    if cached is not None:
        return list(cached)
    from behavior.lint import document_lint_sync
    from behavior.lint.findings import Finding, sorted_findings

    found = list(document_lint_sync(agent_export_document(agent), embedder=_embedder()))
    found += [Finding.from_dict(item) for item in (run[1] if run else []) if isinstance(item, dict)]
    findings = [finding.to_dict() for finding in sorted_findings(found)]
    cache.set(key, findings, LINT_CACHE_SECONDS)
    return findings


def agent_lint_summary(agent: Agent, *, top: int = 5) -> dict[str, Any]:
    """Counts by severity and the first few findings (errors first)."""
    findings = agent_lint(agent)
    counts = {severity: sum(1 for finding in findings if finding["severity"] == severity) for severity in SEVERITIES}
    return {"counts": counts, "top": findings[:top], "total": len(findings), "blocks_publish": counts["error"] > 0}


def entity_lint(agent: Agent, *, entity: str, ref: str) -> list[dict[str, Any]]:
    """The findings about one entity (as the subject or as a related entity)."""
    return [
        finding
        for finding in agent_lint(agent)
        if (finding["entity"] == entity and finding["ref"] == ref)
        or any(
            related_entity == entity and related_ref == ref
            for related_entity, related_ref in finding.get("related", [])
        )
    ]


def lint_errors(agent: Agent) -> list[dict[str, Any]]:
    return [finding for finding in agent_lint(agent) if finding["severity"] == "error"]


# ---------------------------------------------------------------- the LLM check for contradictions

# A run still pending or running after this long lost its worker: a new start replaces it.
LINT_RUN_STALE_SECONDS = 15 * 60
LINT_RUN_ERROR_MAX_CHARS = 1000
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def lint_llm_for(agent: Agent) -> Any:
    """The agent's model, through the engine's LLM port. Tests replace this function to script the model."""
    from agents.llm.factory import llm_for_agent

    return llm_for_agent(model=agent.model, profile=agent.llm_profile)


def lint_run_latest(agent: Agent, *, kind: str = CONTRADICTIONS) -> LintRun | None:
    return LintRun.objects.filter(agent=agent, kind=kind).select_related("created_by").first()


def lint_run_get(agent: Agent, run_id: int) -> LintRun:
    """One run of this agent (a run of another agent is a 404 like a missing one)."""
    run = LintRun.objects.filter(agent=agent, pk=run_id).select_related("created_by").first()
    if run is None:
        raise NotFound("There is no such lint run for this agent.")
    return run


def lint_run_is_active(run: LintRun) -> bool:
    return run.status in (LintRunStatus.PENDING, LintRunStatus.RUNNING)


def lint_run_start(agent: Agent, *, actor: Actor) -> LintRun:
    """Start the LLM check for contradictory guidelines on the current draft, or return the run already under
    way for this agent. The run is enqueued after commit."""
    stale_before = timezone.now() - timedelta(seconds=LINT_RUN_STALE_SECONDS)
    with transaction.atomic():
        Agent.objects.select_for_update().filter(pk=agent.pk).first()  # one start at a time per agent
        active = LintRun.objects.filter(
            agent=agent, kind=CONTRADICTIONS, status__in=[LintRunStatus.PENDING, LintRunStatus.RUNNING]
        )
        active.filter(created_at__lt=stale_before).update(
            status=LintRunStatus.FAILED, error="The check stopped before finishing.", finished_at=timezone.now()
        )
        current = active.first()
        if current is not None:
            return current
        revision = Agent.objects.filter(pk=agent.pk).values_list("draft_revision", flat=True).first() or 0
        run = LintRun.objects.create(
            agent=agent,
            kind=CONTRADICTIONS,
            draft_revision=revision,
            created_by=actor.user if actor.user_id is not None else None,
        )
        transaction.on_commit(lambda: lint_run_enqueue(run.pk))
    return run


def lint_run_enqueue(run_id: int) -> None:
    """Like turns: inline (tests: TURNS_RUN_INLINE), in this process's thread (TURNS_IN_PROCESS, the embedded
    default) or as a Celery task."""
    if getattr(settings, "TURNS_RUN_INLINE", False):
        lint_run_execute(run_id)
    elif settings.TURNS_IN_PROCESS:
        _lint_executor().submit(_lint_run_in_thread, run_id)
    else:
        from behavior.tasks import lint_contradictions_task

        lint_contradictions_task.delay(run_id)


def _lint_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lint")
        return _executor


def _lint_run_in_thread(run_id: int) -> None:
    close_old_connections()
    try:
        lint_run_execute(run_id)
    except Exception:
        logger.exception("Lint run %s crashed in its thread", run_id)
    finally:
        close_old_connections()


def lint_run_execute(run_id: int) -> str:
    """Run one pending run: claim it (a second delivery exits quietly), pick the guideline pairs, ask the LLM
    batch by batch saving the progress after each, store the findings. Returns the final status."""
    from behavior.lint.contradictions import PAIRS_PER_CALL, contradiction_check, contradiction_pairs

    now = timezone.now()
    claimed = LintRun.objects.filter(pk=run_id, status=LintRunStatus.PENDING).update(
        status=LintRunStatus.RUNNING, started_at=now
    )
    if not claimed:
        return "skipped"
    run = LintRun.objects.select_related("agent").get(pk=run_id)
    try:
        document = agent_export_document(run.agent)
        pairs = contradiction_pairs(document, embedder=_embedder())
        LintRun.objects.filter(pk=run_id).update(progress_total=len(pairs), progress_done=0)
        llm = lint_llm_for(run.agent)
        findings: list[dict[str, Any]] = []
        # One event loop for every batch (an async client stays on its loop); the database is written between
        # batches, outside the loop.
        loop = asyncio.new_event_loop()
        try:
            for start in range(0, len(pairs), PAIRS_PER_CALL):
                batch = pairs[start : start + PAIRS_PER_CALL]
                batch_findings = loop.run_until_complete(contradiction_check(batch, llm=llm, model=run.agent.model))
                findings.extend(finding.to_dict() for finding in batch_findings)
                LintRun.objects.filter(pk=run_id).update(progress_done=start + len(batch), findings=findings)
        finally:
            loop.close()
    except Exception as error:
        logger.warning("Lint run %s failed", run_id, exc_info=True)
        message = str(error) or error.__class__.__name__
        LintRun.objects.filter(pk=run_id).update(
            status=LintRunStatus.FAILED,
            error=f"The check failed: {message}"[:LINT_RUN_ERROR_MAX_CHARS],
            finished_at=timezone.now(),
        )
        return LintRunStatus.FAILED
    LintRun.objects.filter(pk=run_id).update(
        status=LintRunStatus.DONE, findings=findings, progress_done=len(pairs), finished_at=timezone.now()
    )
    return LintRunStatus.DONE
