"""The linter of the behavior model: pure Python over an exported behavior document (no ORM).

`document_lint_sync(document, embedder=...)` returns every finding (error / warning / info), errors first.
Every validation error of the document is an error finding, so a draft lints clean of errors exactly when it
would publish. The optional LLM check for contradictory guidelines is in `behavior.lint.contradictions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from behavior.lint.canned import canned_findings
from behavior.lint.findings import Finding, sorted_findings
from behavior.lint.guidelines import dependency_findings, duplicate_findings, journey_scope_findings, shadow_findings
from behavior.lint.journeys import journey_findings
from behavior.lint.relationships import cycle_findings
from behavior.lint.tools import tool_findings
from behavior.lint.validation import document_runnable, validation_findings


def document_lint_sync(document: Mapping[str, Any], *, embedder: Any = None) -> list[Finding]:
    """Every finding about `document`, errors first. `embedder` (the engine's Embedder port, or None to skip
    the similarity checks) finds near-duplicate guidelines and shadowed conditions."""
    specific = [
        *journey_findings(document),
        *canned_findings(document),
        *cycle_findings(document),
        *dependency_findings(document),
        *journey_scope_findings(document),
        *tool_findings(document),
        *duplicate_findings(document, embedder=embedder),
        *shadow_findings(document, embedder=embedder),
    ]
    findings = list(specific)
    for finding in validation_findings(document):
        explained = any(
            other.covers and other.path == finding.path and other.covers in finding.message for other in specific
        )
        if not explained:
            findings.append(finding)
    findings.extend(_left_out_findings(document, findings))
    return sorted_findings(findings)


def _left_out_findings(document: Mapping[str, Any], findings: list[Finding]) -> list[Finding]:
    """Entities left out of the sandbox's draft only because something they need was (their own errors
    already say why the others are left out)."""
    errors = {(f.entity, f.ref) for f in findings if f.severity == "error"}
    errors |= {
        ("journey", f.ref.partition("/")[0]) for f in findings if f.severity == "error" and f.entity == "journey_state"
    }
    _, left_out = document_runnable(document)
    return [
        Finding(
            severity="warning",
            code="left-out-of-draft",
            message=(
                f"{entity.replace('_', ' ').capitalize()} {ref} is left out of the sandbox's draft because "
                "something it depends on has errors."
            ),
            entity=entity,
            ref=ref,
        )
        for entity, ref in dict.fromkeys(left_out)
        if (entity, ref) not in errors
    ]


__all__ = ["Finding", "document_lint_sync", "document_runnable"]
