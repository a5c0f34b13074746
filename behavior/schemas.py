"""API schemas of the behavior model (input, patch and output per resource), versions and documents.

Field constraints are the behavior document's (behavior.documents.schema), so a draft built through the
API is a draft that publishes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import JsonValue, StringConstraints

from behavior.documents.schema import (
    MAX_SMALL_LIST,
    DescriptionText,
    FieldName,
    Identifier,
    Key,
    Label,
    Name,
    RequiredDescription,
    RequiredText,
    ShortText,
    Signal,
    Synonym,
    TagName,
    Text,
)
from behavior.models import (
    BehaviorVersion,
    CannedResponse,
    ContextVariable,
    ContextVariableValue,
    GlossaryTerm,
    Guideline,
    Journey,
    JourneyState,
    Relationship,
)
from config.api_schemas import JSON_OBJECT_MAX_KEYS, InputSchema, ObjectId, QuerySchema, patch_schema

TagNames = Annotated[list[TagName], Field(max_length=MAX_SMALL_LIST, description="Tag names (created when new).")]
Ids = Annotated[list[ObjectId], Field(max_length=MAX_SMALL_LIST)]
SearchText = Annotated[str, StringConstraints(max_length=200)]


def _tag_names(row: Any) -> list[str]:
    return [tag.name for tag in row.tags.all()]


def _ids(manager: Any) -> list[int]:
    return [row.pk for row in manager.all()]


# ------------------------------------------------------------------------------------------------ filters


class AgentFilter(QuerySchema):
    agent: ObjectId | None = Field(None, description="Only entities of this agent.")


class TaggedFilter(AgentFilter):
    tag: TagName | None = Field(None, description="Only entities with this tag.")
    q: SearchText | None = Field(None, description="Text search.")


class GuidelineFilter(TaggedFilter):
    enabled: bool | None = None
    observation: bool | None = Field(
        None, description="true: only observations; false: only guidelines with an action."
    )


class RelationshipFilter(AgentFilter):
    kind: (
        Literal[
            "entails", "overrides", "depends_on", "depends_on_any", "disambiguates", "reevaluate_after", "tools_overlap"
        ]
        | None
    ) = None
    guideline: ObjectId | None = Field(None, description="Relationships with this guideline at either end.")


class TagFilter(QuerySchema):
    q: SearchText | None = Field(None, description="Name contains.")


# --------------------------------------------------------------------------------------------------- tags


class TagIn(InputSchema):
    name: TagName


class TagOut(Schema):
    id: int
    name: str


TagPatch = patch_schema(TagIn)


# --------------------------------------------------------------------------------------------- guidelines


class GuidelineIn(InputSchema):
    agent: ObjectId
    key: Key
    title: ShortText = ""
    condition: RequiredText
    action: RequiredText | None = Field(None, description="null makes the guideline an observation.")
    description: DescriptionText = ""
    criticality: Literal["low", "medium", "high"] = "medium"
    priority: int = Field(0, ge=-1_000_000, le=1_000_000)
    enabled: bool = True
    track: bool = Field(True, description="Applied-once tracking.")
    continuous: bool = False
    tags: TagNames = []
    tools: Ids = Field([], description="Ids of the agent's tools this guideline may call.")
    labels: Annotated[list[Label], Field(max_length=MAX_SMALL_LIST)] = []
    metadata: Annotated[dict[str, JsonValue], Field(max_length=JSON_OBJECT_MAX_KEYS)] = {}


class GuidelineOut(Schema):
    id: int
    revision: int
    agent: int = Field(alias="agent_id")
    key: str
    title: str
    condition: str
    action: str | None
    is_observation: bool
    description: str
    criticality: str
    priority: int
    enabled: bool
    track: bool
    continuous: bool
    tags: list[str]
    tools: list[int]
    labels: list[Any]
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_tags(guideline: Guideline) -> list[str]:
        return _tag_names(guideline)

    @staticmethod
    def resolve_tools(guideline: Guideline) -> list[int]:
        return _ids(guideline.tools)


GuidelinePatch = patch_schema(GuidelineIn, exclude={"agent"})


# ------------------------------------------------------------------------------------------ relationships

EndpointType = Literal["guideline", "tag", "journey", "tool"]


class EndpointIn(InputSchema):
    type: EndpointType
    id: ObjectId


class EndpointOut(Schema):
    type: str
    id: int
    ref: str | None = Field(description="The endpoint's key (guideline, journey) or name (tag, tool).")


class RelationshipIn(InputSchema):
    agent: ObjectId
    kind: Literal[
        "entails", "overrides", "depends_on", "depends_on_any", "disambiguates", "reevaluate_after", "tools_overlap"
    ]
    source: EndpointIn
    target: EndpointIn


class RelationshipOut(Schema):
    id: int
    revision: int
    agent: int = Field(alias="agent_id")
    kind: str
    source: EndpointOut
    target: EndpointOut
    created_at: datetime

    @staticmethod
    def _endpoint(relationship: Relationship, side: str) -> dict[str, Any]:
        endpoint_type = getattr(relationship, f"{side}_type")
        return {
            "type": endpoint_type,
            "id": getattr(relationship, f"{side}_{endpoint_type}_id"),
            "ref": relationship.endpoint_ref(side),
        }

    @staticmethod
    def resolve_source(relationship: Relationship) -> dict[str, Any]:
        return RelationshipOut._endpoint(relationship, "source")

    @staticmethod
    def resolve_target(relationship: Relationship) -> dict[str, Any]:
        return RelationshipOut._endpoint(relationship, "target")


RelationshipPatch = patch_schema(RelationshipIn, exclude={"agent"})


# ----------------------------------------------------------------------------------------------- journeys


class JourneyIn(InputSchema):
    agent: ObjectId
    key: Key
    title: Name
    description: DescriptionText = ""
    triggers: Ids = Field([], description="Ids of the agent's guidelines (usually observations) that start it.")
    conditions: Annotated[list[RequiredText], Field(max_length=MAX_SMALL_LIST)] = Field(
        [], description="Free-text trigger conditions."
    )
    tags: TagNames = []


class JourneyStateIn(InputSchema):
    key: Key
    kind: Literal["chat", "tool", "fork", "end"] = "chat"
    action: Text | None = Field(None, description="What the agent does in this state (required for chat states).")
    tool: ObjectId | None = Field(None, description="The tool a tool state runs (id of the agent's tool).")
    initial: bool = Field(False, description="Marking a state initial demotes the journey's current initial state.")
    tools: Ids = Field([], description="Ids of tools available in this state.")
    position: int | None = Field(None, ge=0, le=100_000, description="Order in the journey; appended when absent.")


class JourneyStateOut(Schema):
    id: int
    revision: int
    journey: int = Field(alias="journey_id")
    key: str
    kind: str
    action: str
    tool: int | None = Field(alias="tool_id")
    initial: bool
    tools: list[int]
    position: int

    @staticmethod
    def resolve_tools(state: JourneyState) -> list[int]:
        return _ids(state.tools)


class JourneyTransitionIn(InputSchema):
    source: ObjectId | Key = Field(description="Id or key of a state of this journey.")
    target: ObjectId | Key = Field(description="Id or key of a state of this journey.")
    condition: Text | None = Field(None, description="null: unconditional.")


class JourneyTransitionOut(Schema):
    id: int
    revision: int
    journey: int = Field(alias="journey_id")
    source: int = Field(alias="source_id")
    target: int = Field(alias="target_id")
    condition: str | None


class JourneyOut(Schema):
    id: int
    revision: int
    agent: int = Field(alias="agent_id")
    key: str
    title: str
    description: str
    triggers: list[int]
    conditions: list[Any]
    tags: list[str]
    states: list[JourneyStateOut]
    transitions: list[JourneyTransitionOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_tags(journey: Journey) -> list[str]:
        return _tag_names(journey)

    @staticmethod
    def resolve_triggers(journey: Journey) -> list[int]:
        return _ids(journey.triggers)

    @staticmethod
    def resolve_states(journey: Journey) -> list[Any]:
        return list(journey.states.all())

    @staticmethod
    def resolve_transitions(journey: Journey) -> list[Any]:
        return list(journey.transitions.all())


class JourneyReportOut(Schema):
    ok: bool = Field(description="True when nothing blocks publishing this journey.")
    errors: list[str]
    warnings: list[str]
    unreachable_states: list[str] = Field(description="Keys of states no path from the initial state reaches.")


JourneyPatch = patch_schema(JourneyIn, exclude={"agent"})
JourneyStatePatch = patch_schema(JourneyStateIn)
JourneyTransitionPatch = patch_schema(JourneyTransitionIn)


# ----------------------------------------------------------------------------------------------- glossary


class GlossaryTermIn(InputSchema):
    agent: ObjectId
    name: Name
    synonyms: Annotated[list[Synonym], Field(max_length=MAX_SMALL_LIST)] = []
    description: RequiredDescription
    tags: TagNames = []


class GlossaryTermOut(Schema):
    id: int
    revision: int
    agent: int = Field(alias="agent_id")
    name: str
    synonyms: list[Any]
    description: str
    tags: list[str]

    @staticmethod
    def resolve_tags(term: GlossaryTerm) -> list[str]:
        return _tag_names(term)


GlossaryTermPatch = patch_schema(GlossaryTermIn, exclude={"agent"})


# -------------------------------------------------------------------------------------- context variables


class ContextVariableIn(InputSchema):
    agent: ObjectId
    name: Identifier
    description: Text = ""
    tool: ObjectId | None = Field(None, description="Id of the agent's tool that computes the value.")
    freshness_seconds: int | None = Field(
        None, ge=1, le=365 * 24 * 3600, description="Refresh a tool-fed value after this many seconds."
    )
    tags: TagNames = []


class ContextVariableOut(Schema):
    id: int
    revision: int
    agent: int = Field(alias="agent_id")
    name: str
    description: str
    tool: int | None = Field(alias="tool_id")
    freshness_seconds: int | None
    tags: list[str]

    @staticmethod
    def resolve_tags(variable: ContextVariable) -> list[str]:
        return _tag_names(variable)


ContextVariablePatch = patch_schema(ContextVariableIn, exclude={"agent"})


class ContextValueIn(InputSchema):
    scope: Literal["default", "customer_tag", "customer"] = "default"
    tag: TagName | None = Field(None, description="The customer tag, for scope customer_tag.")
    customer: ObjectId | None = Field(None, description="The customer id, for scope customer.")
    value: JsonValue = Field(description="Any JSON value (at most 16 KiB).")


class ContextValuePatch(InputSchema):
    value: JsonValue = Field(description="The new value; scope and key are fixed.")
    revision: int | None = Field(None, ge=1, le=2**31 - 1, description="The revision you last read (409 when stale).")

    def changes(self) -> dict[str, Any]:
        return {"value": self.value}

    def expected_revision(self) -> int | None:
        return self.revision


class ContextValueOut(Schema):
    id: int
    revision: int
    variable: int = Field(alias="variable_id")
    scope: str
    tag: str | None
    customer: int | None = Field(alias="customer_id")
    value: Any
    updated_at: datetime

    @staticmethod
    def resolve_tag(value: ContextVariableValue) -> str | None:
        tag = value.tag if value.tag_id else None
        return tag.name if tag is not None else None


# ------------------------------------------------------------------------------------- canned responses


class CannedFieldIn(InputSchema):
    name: FieldName
    kind: Literal["tool", "generative", "variable"]
    description: Text = ""


class CannedResponseIn(InputSchema):
    agent: ObjectId
    key: Key
    template: RequiredText = Field(description="Text with {{ field }} placeholders.")
    fields: Annotated[list[CannedFieldIn], Field(max_length=MAX_SMALL_LIST)] = Field(
        [], description="Every {{ field }} that is not built in (customer.name, customer.id, agent.name)."
    )
    signals: Annotated[list[Signal], Field(max_length=MAX_SMALL_LIST)] = Field([], description="Example phrasings.")
    tags: TagNames = []
    guidelines: Ids = Field([], description="Ids of the agent's guidelines it is attached to.")
    journey_states: Ids = Field([], description="Ids of journey states (of the agent's journeys) it is attached to.")


class CannedResponseOut(Schema):
    id: int
    revision: int
    agent: int = Field(alias="agent_id")
    key: str
    template: str
    fields: list[Any]
    signals: list[Any]
    tags: list[str]
    guidelines: list[int]
    journey_states: list[int]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_tags(response: CannedResponse) -> list[str]:
        return _tag_names(response)

    @staticmethod
    def resolve_guidelines(response: CannedResponse) -> list[int]:
        return _ids(response.guidelines)

    @staticmethod
    def resolve_journey_states(response: CannedResponse) -> list[int]:
        return _ids(response.journey_states)


CannedResponsePatch = patch_schema(CannedResponseIn, exclude={"agent"})


# ------------------------------------------------------------------------------------ versions, documents


class PublishIn(InputSchema):
    note: Annotated[str, StringConstraints(max_length=2000)] = Field("", description="What changed.")


class VersionOut(Schema):
    id: int
    agent: int = Field(alias="agent_id")
    number: int
    note: str
    author: str | None
    published: bool = Field(description="True for the agent's published version.")
    created_at: datetime

    @staticmethod
    def resolve_author(version: BehaviorVersion) -> str | None:
        author = version.author if version.author_id else None
        return author.get_username() if author is not None else None

    @staticmethod
    def resolve_published(version: BehaviorVersion) -> bool:
        return version.agent.published_version_id == version.pk


class VersionDetailOut(VersionOut):
    document: dict[str, Any] = Field(description="The frozen behavior document (the export format).")


class DiffEntryOut(Schema):
    kind: str = Field(description="agent, tags, guidelines, relationships, journeys, ...")
    added: list[str]
    removed: list[str]
    changed: list[dict[str, Any]]


class DiffOut(Schema):
    base: str = Field(description="Version number, or draft.")
    other: str
    changes: list[DiffEntryOut]
