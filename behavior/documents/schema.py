"""The behavior document (schema version 1) as pydantic models: structure, types and size bounds.

Cross-references (does this key exist? is this relationship legal?) are checked in
`behavior.documents.validation`; docs/behavior-format.md is the human description of the same format.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints

FORMAT = "decorum.behavior"
SCHEMA_VERSION = 1

# Size bounds: a document is untrusted input, so every list and string is capped.
MAX_GUIDELINES = 5000
MAX_RELATIONSHIPS = 20000
MAX_JOURNEYS = 500
MAX_STATES = 200
MAX_TRANSITIONS = 1000
MAX_GLOSSARY = 5000
MAX_VARIABLES = 500
MAX_VARIABLE_VALUES = 1000
MAX_CANNED = 5000
MAX_TOOLS = 500
MAX_TOOL_SERVICES = 100
MAX_PARAMETERS = 50
MAX_TAGS = 2000
MAX_SMALL_LIST = 200
SHORT_TEXT = 200
MEDIUM_TEXT = 4000
LONG_TEXT = 20000

TOOL_PARAMETER_TYPES = ("str", "int", "float", "bool", "date", "datetime", "enum", "list")
LIST_ITEM_TYPES = ("str", "int", "float", "bool", "date", "datetime")

Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", min_length=1, max_length=100)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]*$", min_length=1, max_length=100)]
# The same patterns as behavior.validation.rules (written with `$`: pydantic's regex engine has no `\Z`).
TagName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$", min_length=1, max_length=100)]
FieldName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$", min_length=1, max_length=100)
]
Name = Annotated[str, StringConstraints(pattern=r"^\S(.*\S)?$", min_length=1, max_length=SHORT_TEXT)]
# Items of labels, synonyms, signals and journey conditions (the same bounds as the models' checks).
Label = Annotated[str, StringConstraints(pattern=r"\S", min_length=1, max_length=100)]
Synonym = Annotated[str, StringConstraints(pattern=r"\S", min_length=1, max_length=200)]
Signal = Annotated[str, StringConstraints(pattern=r"\S", min_length=1, max_length=1000)]
RequiredText = Annotated[str, StringConstraints(pattern=r"\S", min_length=1, max_length=MEDIUM_TEXT)]
ShortText = Annotated[str, StringConstraints(max_length=SHORT_TEXT)]
Text = Annotated[str, StringConstraints(max_length=MEDIUM_TEXT)]
DescriptionText = Annotated[str, StringConstraints(max_length=8000)]
RequiredDescription = Annotated[str, StringConstraints(pattern=r"\S", min_length=1, max_length=8000)]
LongText = Annotated[str, StringConstraints(max_length=LONG_TEXT)]
StateRef = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*$", max_length=201)]

RelationshipKind = Literal[
    "entails", "overrides", "depends_on", "depends_on_any", "disambiguates", "reevaluate_after", "tools_overlap"
]
EndpointType = Literal["guideline", "tag", "journey", "tool"]


class DocumentModel(BaseModel):
    """Unknown keys are errors: a typo in a hand-edited file must not be silently dropped. NaN and
    infinities are refused: they are not JSON and PostgreSQL's jsonb rejects them."""

    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)


class AgentSection(DocumentModel):
    name: Name
    description: LongText = ""
    model: Annotated[str, StringConstraints(pattern=r"^\S+$", min_length=1, max_length=SHORT_TEXT)] = "gpt-4o-mini"
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.2
    llm_profile: Key = "default"
    composition_mode: Literal["fluid", "composited", "strict"] = "fluid"
    no_match_reply: Annotated[str, StringConstraints(max_length=2000)] = "Sorry, I can't help with that here."
    max_preparation_iterations: Annotated[int, Field(ge=1, le=5)] = 2
    moderation: bool = False
    preamble: bool = True
    tags: Annotated[list[TagName], Field(max_length=MAX_SMALL_LIST)] = []


class TagEntry(DocumentModel):
    name: TagName


class GuidelineEntry(DocumentModel):
    key: Key
    title: ShortText = ""
    condition: RequiredText
    action: RequiredText | None = None
    description: DescriptionText = ""
    criticality: Literal["low", "medium", "high"] = "medium"
    priority: Annotated[int, Field(ge=-1_000_000, le=1_000_000)] = 0
    enabled: bool = True
    track: bool = True
    continuous: bool = False
    tags: Annotated[list[TagName], Field(max_length=MAX_SMALL_LIST)] = []
    tools: Annotated[list[Identifier], Field(max_length=MAX_SMALL_LIST)] = []
    labels: Annotated[list[Label], Field(max_length=MAX_SMALL_LIST)] = []
    metadata: Annotated[dict[str, JsonValue], Field(max_length=MAX_SMALL_LIST)] = {}


class Endpoint(DocumentModel):
    type: EndpointType
    ref: Annotated[str, StringConstraints(min_length=1, max_length=SHORT_TEXT)]


class RelationshipEntry(DocumentModel):
    kind: RelationshipKind
    source: Endpoint
    target: Endpoint


class StateEntry(DocumentModel):
    key: Key
    kind: Literal["chat", "tool", "fork", "end"] = "chat"
    action: Text | None = None
    tool: Identifier | None = None
    initial: bool = False
    tools: Annotated[list[Identifier], Field(max_length=MAX_SMALL_LIST)] = []
    canned_responses: Annotated[list[Key], Field(max_length=MAX_SMALL_LIST)] = []


class TransitionEntry(DocumentModel):
    source: Key
    target: Key
    condition: Text | None = None


class JourneyEntry(DocumentModel):
    key: Key
    title: Name
    description: DescriptionText = ""
    triggers: Annotated[list[Key], Field(max_length=MAX_SMALL_LIST)] = []
    conditions: Annotated[list[RequiredText], Field(max_length=MAX_SMALL_LIST)] = []
    tags: Annotated[list[TagName], Field(max_length=MAX_SMALL_LIST)] = []
    states: Annotated[list[StateEntry], Field(min_length=1, max_length=MAX_STATES)]
    transitions: Annotated[list[TransitionEntry], Field(max_length=MAX_TRANSITIONS)] = []


class GlossaryEntry(DocumentModel):
    name: Name
    synonyms: Annotated[list[Synonym], Field(max_length=MAX_SMALL_LIST)] = []
    description: RequiredDescription
    tags: Annotated[list[TagName], Field(max_length=MAX_SMALL_LIST)] = []


class VariableValueEntry(DocumentModel):
    scope: Literal["default", "customer_tag"]
    key: TagName | None = None
    value: JsonValue


class ContextVariableEntry(DocumentModel):
    name: Identifier
    description: Text = ""
    tool: Identifier | None = None
    freshness_seconds: Annotated[int, Field(ge=1, le=365 * 24 * 3600)] | None = None
    tags: Annotated[list[TagName], Field(max_length=MAX_SMALL_LIST)] = []
    values: Annotated[list[VariableValueEntry], Field(max_length=MAX_VARIABLE_VALUES)] = []


class CannedFieldEntry(DocumentModel):
    name: FieldName
    kind: Literal["tool", "generative", "variable"]
    description: Text = ""


class CannedResponseEntry(DocumentModel):
    key: Key
    template: RequiredText
    fields: Annotated[list[CannedFieldEntry], Field(max_length=MAX_SMALL_LIST)] = []
    signals: Annotated[list[Signal], Field(max_length=MAX_SMALL_LIST)] = []
    tags: Annotated[list[TagName], Field(max_length=MAX_SMALL_LIST)] = []
    guidelines: Annotated[list[Key], Field(max_length=MAX_SMALL_LIST)] = []
    journey_states: Annotated[list[StateRef], Field(max_length=MAX_SMALL_LIST)] = []


class ToolServiceEntry(DocumentModel):
    name: Identifier
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)]
    timeout_seconds: Annotated[float, Field(ge=0.1, le=300)] = 5.0


class ToolParameterEntry(DocumentModel):
    name: Identifier
    type: Literal["str", "int", "float", "bool", "date", "datetime", "enum", "list"]
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    required: bool = True
    enum: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=SHORT_TEXT)]], Field(max_length=MAX_SMALL_LIST)
    ] = []
    items: Literal["str", "int", "float", "bool", "date", "datetime", "enum"] | None = None


class ToolEntry(DocumentModel):
    name: Identifier
    description: Text = ""
    implementation: Literal["python", "remote"] = "python"
    service: Identifier | None = None
    consequential: bool = False
    timeout_seconds: Annotated[float, Field(ge=0.1, le=300)] = 10.0
    parameters: Annotated[list[ToolParameterEntry], Field(max_length=MAX_PARAMETERS)] = []


class BehaviorDocument(DocumentModel):
    format: Literal["decorum.behavior"]
    schema_version: Literal[1]
    agent: AgentSection
    tags: Annotated[list[TagEntry], Field(max_length=MAX_TAGS)] = []
    guidelines: Annotated[list[GuidelineEntry], Field(max_length=MAX_GUIDELINES)] = []
    relationships: Annotated[list[RelationshipEntry], Field(max_length=MAX_RELATIONSHIPS)] = []
    journeys: Annotated[list[JourneyEntry], Field(max_length=MAX_JOURNEYS)] = []
    glossary: Annotated[list[GlossaryEntry], Field(max_length=MAX_GLOSSARY)] = []
    context_variables: Annotated[list[ContextVariableEntry], Field(max_length=MAX_VARIABLES)] = []
    canned_responses: Annotated[list[CannedResponseEntry], Field(max_length=MAX_CANNED)] = []
    tool_services: Annotated[list[ToolServiceEntry], Field(max_length=MAX_TOOL_SERVICES)] = []
    tools: Annotated[list[ToolEntry], Field(max_length=MAX_TOOLS)] = []

    def as_data(self) -> dict[str, Any]:
        """The JSON-compatible dict form (every field present, in the documented order)."""
        return self.model_dump(mode="json")
