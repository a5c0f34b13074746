"""API schemas of agents, tool services, tools and API keys: one input, one patch and one output schema each."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import StringConstraints

from agents.models import Agent, ApiKey, Tool
from behavior.documents.schema import (
    LIST_ITEM_TYPES,
    MAX_PARAMETERS,
    MAX_SMALL_LIST,
    TOOL_PARAMETER_TYPES,
    Identifier,
    Key,
    LongText,
    Name,
    TagName,
    Text,
)
from config.api_schemas import InputSchema, ObjectId, QuerySchema, patch_schema

ParameterType = Literal["str", "int", "float", "bool", "date", "datetime", "enum", "list"]
ListItemType = Literal["str", "int", "float", "bool", "date", "datetime"]
assert set(TOOL_PARAMETER_TYPES) == set(ParameterType.__args__)  # type: ignore[attr-defined]
assert set(LIST_ITEM_TYPES) == set(ListItemType.__args__)  # type: ignore[attr-defined]
TagNames = Annotated[list[TagName], Field(max_length=MAX_SMALL_LIST)]


class AgentIn(InputSchema):
    name: Name
    description: LongText = Field("", description="The persona.")
    model: Annotated[str, StringConstraints(pattern=r"^\S+$", min_length=1, max_length=200)] | None = Field(
        None, description="LLM model id; the server default when absent."
    )
    temperature: float = Field(0.2, ge=0.0, le=2.0)
    llm_profile: Key = "default"
    composition_mode: Literal["fluid", "composited", "strict"] = "fluid"
    no_match_reply: Annotated[str, StringConstraints(max_length=2000)] = "Sorry, I can't help with that here."
    max_preparation_iterations: int = Field(2, ge=1, le=5)
    moderation: bool = False
    preamble: bool = True
    tags: TagNames = []


class AgentOut(Schema):
    id: int
    revision: int
    name: str
    description: str
    model: str
    temperature: float
    llm_profile: str
    composition_mode: str
    no_match_reply: str
    max_preparation_iterations: int
    moderation: bool
    preamble: bool
    tags: list[str]
    published_version: int | None = Field(description="Number of the published version, if any.")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_tags(agent: Agent) -> list[str]:
        return [tag.name for tag in agent.tags.all()]

    @staticmethod
    def resolve_published_version(agent: Agent) -> int | None:
        version = agent.published_version if agent.published_version_id else None
        return version.number if version is not None else None


AgentPatch = patch_schema(AgentIn)


class AgentFilter(QuerySchema):
    tag: TagName | None = Field(None, description="Only agents with this tag.")
    q: Annotated[str, StringConstraints(max_length=200)] | None = Field(None, description="Name contains.")


class ToolServiceIn(InputSchema):
    agent: ObjectId
    name: Identifier
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)] = Field(
        description="URL of the service's OpenAPI document."
    )
    timeout_seconds: float = Field(5.0, ge=0.1, le=300)


class ToolServiceOut(Schema):
    id: int
    revision: int
    agent: int = Field(alias="agent_id")
    name: str
    url: str
    timeout_seconds: float


ToolServicePatch = patch_schema(ToolServiceIn, exclude={"agent"})


class ToolParameterIn(InputSchema):
    name: Identifier
    type: ParameterType = "str"
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    required: bool = True
    enum: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=200)]], Field(max_length=200)] = []
    items: ListItemType | None = None


class ToolParameterOut(Schema):
    name: str
    type: str
    description: str
    required: bool
    enum: list[Any]
    items: str | None
    position: int


class ToolIn(InputSchema):
    agent: ObjectId
    name: Identifier
    description: Text = ""
    implementation: Literal["python", "remote"] = "python"
    service: ObjectId | None = Field(None, description="Tool service id, for a remote tool.")
    consequential: bool = False
    timeout_seconds: float = Field(10.0, ge=0.1, le=300)
    parameters: Annotated[list[ToolParameterIn], Field(max_length=MAX_PARAMETERS)] = []


class ToolOut(Schema):
    id: int
    revision: int
    agent: int = Field(alias="agent_id")
    name: str
    description: str
    implementation: str
    service: int | None = Field(alias="service_id")
    consequential: bool
    timeout_seconds: float
    parameters: list[ToolParameterOut]

    @staticmethod
    def resolve_parameters(tool: Tool) -> list[Any]:
        return list(tool.parameters.all())


ToolPatch = patch_schema(ToolIn, exclude={"agent"})


class AgentScopedFilter(QuerySchema):
    agent: ObjectId | None = Field(None, description="Only entities of this agent.")


class ApiKeyIn(InputSchema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    role: Literal["admin", "editor", "tester", "operator"]
    user: Annotated[str, StringConstraints(min_length=1, max_length=150)] | None = Field(
        default=None, description="Username of the key's owner (the key acts as them); the caller when omitted."
    )


class ApiKeyOut(Schema):
    id: int
    name: str
    prefix: str
    role: str
    user: str | None
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @staticmethod
    def resolve_user(key: ApiKey) -> str | None:
        user = key.user if key.user_id else None
        return user.get_username() if user is not None else None

    @staticmethod
    def resolve_created_by(key: ApiKey) -> str | None:
        user = key.created_by if key.created_by_id else None
        return user.get_username() if user is not None else None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The full key. Shown once: store it now, it cannot be retrieved again.")
