"""The behavior document: one agent's whole behavior model as a schema-versioned JSON/YAML document."""

from __future__ import annotations

from behavior.documents.schema import FORMAT, SCHEMA_VERSION, BehaviorDocument
from behavior.documents.validation import (
    document_parse,
    document_tags_used,
    document_validate,
    document_warnings,
    path_join,
)

__all__ = [
    "FORMAT",
    "SCHEMA_VERSION",
    "BehaviorDocument",
    "document_parse",
    "document_tags_used",
    "document_validate",
    "document_warnings",
    "path_join",
]
