"""Validation of the behavior model: pure rules (`rules`, reusable on plain document dicts) and checks of
rows against the agent's whole model (`objects`)."""

from __future__ import annotations

from behavior.validation.objects import JourneyReport, journey_validate, relationship_validate
from behavior.validation.rules import (
    BUILTIN_TEMPLATE_FIELDS,
    IDENTIFIER_PATTERN,
    KEY_PATTERN,
    TAG_PATTERN,
    canned_fields_errors,
    canned_template_errors,
    find_cycle,
    relationship_kind_allowed,
    string_list_errors,
    template_fields,
)

__all__ = [
    "BUILTIN_TEMPLATE_FIELDS",
    "IDENTIFIER_PATTERN",
    "KEY_PATTERN",
    "TAG_PATTERN",
    "JourneyReport",
    "canned_fields_errors",
    "canned_template_errors",
    "find_cycle",
    "journey_validate",
    "relationship_kind_allowed",
    "relationship_validate",
    "string_list_errors",
    "template_fields",
]
