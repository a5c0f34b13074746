"""The linter wired to the database: one agent's findings (cached per draft revision), the summary the overview
and the publish form show, the findings of one entity, and publishing's gate (errors block it)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from agents.models import Agent
from behavior.services.exporting import agent_export_document

LINT_CACHE_SECONDS = 24 * 3600
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
    errors first. Computed once per draft revision."""
    revision = Agent.objects.filter(pk=agent.pk).values_list("draft_revision", flat=True).first()
    key = f"lint:{agent.pk}:{revision}"
    cached = cache.get(key)
    if cached is not None:
        return list(cached)
    from behavior.lint import document_lint_sync

    findings = [finding.to_dict() for finding in document_lint_sync(agent_export_document(agent), embedder=_embedder())]
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
