"""Checks about canned responses: template fields that are neither built in nor declared."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from behavior.lint.findings import Finding, entries
from behavior.validation.rules import BUILTIN_TEMPLATE_FIELDS, template_fields


def canned_findings(document: Mapping[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    for index, response in enumerate(entries(document, "canned_responses")):
        key = str(response.get("key"))
        try:
            used = template_fields(str(response.get("template") or ""))
        except ValueError:
            continue  # validation reports the broken template
        declared = {str(field.get("name")) for field in (response.get("fields") or []) if isinstance(field, Mapping)}
        for name in used:
            if name in BUILTIN_TEMPLATE_FIELDS or name in declared:
                continue
            findings.append(
                Finding(
                    severity="error",
                    code="canned-unknown-field",
                    message=(
                        f"Canned response {key} uses the field {{{{ {name} }}}}, which is neither declared nor "
                        f"built in ({', '.join(sorted(BUILTIN_TEMPLATE_FIELDS))}): declare it or fix the template."
                    ),
                    entity="canned_response",
                    ref=key,
                    path=f"canned_responses[{index}].template",
                    covers=f"{{{{ {name} }}}}",
                )
            )
    return findings
