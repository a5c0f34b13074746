"""Reads of the behavior model, shared by the REST API and the studio: one module per page family.

Every `<entity>_get` raises NotFound (404) for a missing row, and for a row of another agent or journey when
that scope is given, so a caller that passes the scope it authorized can never reach outside it.
"""

from __future__ import annotations

from behavior.selectors.agents import (
    agent_behavior_counts,
    agent_draft_changes,
    agent_list_with_counts,
    agent_recent_changes,
)
from behavior.selectors.canned_responses import canned_response_get, canned_response_list
from behavior.selectors.glossary import glossary_term_get, glossary_term_list
from behavior.selectors.guidelines import GUIDELINE_SORTS, guideline_get, guideline_list
from behavior.selectors.journeys import (
    journey_get,
    journey_list,
    journey_state_get,
    journey_state_list,
    journey_transition_get,
    journey_transition_list,
)
from behavior.selectors.relationships import relationship_get, relationship_list
from behavior.selectors.tags import tag_get, tag_list
from behavior.selectors.variables import (
    context_value_get,
    context_value_list,
    context_variable_get,
    context_variable_list,
)
from behavior.selectors.versions import version_get, version_list

__all__ = [
    "GUIDELINE_SORTS",
    "agent_behavior_counts",
    "agent_draft_changes",
    "agent_list_with_counts",
    "agent_recent_changes",
    "canned_response_get",
    "canned_response_list",
    "context_value_get",
    "context_value_list",
    "context_variable_get",
    "context_variable_list",
    "glossary_term_get",
    "glossary_term_list",
    "guideline_get",
    "guideline_list",
    "journey_get",
    "journey_list",
    "journey_state_get",
    "journey_state_list",
    "journey_transition_get",
    "journey_transition_list",
    "relationship_get",
    "relationship_list",
    "tag_get",
    "tag_list",
    "version_get",
    "version_list",
]
