"""The behavior model: guidelines, relationships, journeys, glossary, context variables, canned responses,
and the immutable published versions. Every entity except Tag belongs to one agent. The audit trail and the
lint runs are in behavior/models/records.py."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models

from behavior.models.records import (
    AuditAction,
    AuditEntry,
    AuditSource,
    ImmutableQuerySet,
    ImmutableRecordError,
    LintRun,
    LintRunStatus,
)
from behavior.validation.rules import (
    KEY_MAX_LENGTH,
    NAME_MAX_LENGTH,
    canned_fields_errors,
    canned_template_errors,
    identifier_validator,
    key_validator,
    string_list_errors,
    tag_validator,
)

__all__ = [
    "AuditAction",
    "AuditEntry",
    "AuditSource",
    "ImmutableQuerySet",
    "ImmutableRecordError",
    "LintRun",
    "LintRunStatus",
]


class BehaviorVersionQuerySet(ImmutableQuerySet):
    nullable_on_delete = frozenset({"author"})

    def delete(self) -> tuple[int, dict[str, int]]:
        # Deleting the agent still removes its versions: Django's deletion collector deletes cascaded rows with
        # its own queries, never through this method or BehaviorVersion.delete.
        raise ImmutableRecordError("Behavior versions cannot be deleted; they go only with their agent.")


def _duplicate_error(model: type[models.Model], *, field: str, value: str, agent_id: int | None, pk: Any) -> None:
    if agent_id is None or not value:
        return
    if model._default_manager.filter(agent_id=agent_id, **{field: value}).exclude(pk=pk).exists():
        label = model._meta.verbose_name
        raise ValidationError({field: f"This agent already has a {label} with {field} {value!r}."})


class Tag(models.Model):
    """A global label that scopes entities (agent-, group- or journey-scoped)."""

    name = models.CharField(max_length=NAME_MAX_LENGTH, unique=True, validators=[tag_validator])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Criticality(models.TextChoices):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Guideline(models.Model):
    """ "When CONDITION, then ACTION"; without an action it is an observation."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="guidelines")
    key = models.CharField(max_length=KEY_MAX_LENGTH, validators=[key_validator])
    title = models.CharField(max_length=200, blank=True)
    condition = models.TextField(validators=[MaxLengthValidator(4000)])
    # null marks an observation, as in the document (action: null)
    action = models.TextField(null=True, blank=True, validators=[MaxLengthValidator(4000)])  # noqa: DJ001
    description = models.TextField(blank=True, validators=[MaxLengthValidator(8000)])
    criticality = models.CharField(max_length=10, choices=Criticality.choices, default=Criticality.MEDIUM)
    priority = models.IntegerField(default=0)
    enabled = models.BooleanField(default=True)
    track = models.BooleanField(default=True, help_text="Applied-once tracking.")
    continuous = models.BooleanField(default=False, help_text="Re-applied every turn while its condition holds.")
    tags = models.ManyToManyField(Tag, blank=True, related_name="guidelines")
    tools = models.ManyToManyField("agents.Tool", blank=True, related_name="guidelines")
    labels = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    revision = models.PositiveIntegerField(
        default=1, editable=False, help_text="Bumped by every change (edit conflicts)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["agent_id", "key"]
        indexes = [models.Index(fields=["agent", "updated_at"], name="guideline_agent_updated")]
        constraints = [
            models.UniqueConstraint(fields=["agent", "key"], name="guideline_key_unique_per_agent"),
            models.CheckConstraint(condition=~models.Q(condition=""), name="guideline_condition_not_empty"),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def is_observation(self) -> bool:
        return not (self.action or "").strip()

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list[str]] = {}
        if not (self.condition or "").strip():
            errors["condition"] = ["A guideline needs a condition."]
        if self.action is not None and not self.action.strip():
            self.action = None  # an empty action means "observation", stored as null
        if problems := string_list_errors(self.labels, what="Labels", max_length=100):
            errors["labels"] = problems
        if not isinstance(self.metadata, dict):
            errors["metadata"] = ["Metadata must be an object."]
        if errors:
            raise ValidationError(errors)
        _duplicate_error(Guideline, field="key", value=self.key, agent_id=self.agent_id, pk=self.pk)


class RelationshipKind(models.TextChoices):
    ENTAILS = "entails"
    OVERRIDES = "overrides"
    DEPENDS_ON = "depends_on"
    DEPENDS_ON_ANY = "depends_on_any"
    DISAMBIGUATES = "disambiguates"
    REEVALUATE_AFTER = "reevaluate_after"
    TOOLS_OVERLAP = "tools_overlap"


class EndpointType(models.TextChoices):
    GUIDELINE = "guideline"
    TAG = "tag"
    JOURNEY = "journey"
    TOOL = "tool"


def _one_endpoint_set(side: str) -> models.Q:
    """Exactly the FK matching `<side>_type` is set, the other three are null."""
    options = models.Q()
    for endpoint_type in EndpointType.values:
        branch = models.Q(**{f"{side}_type": endpoint_type, f"{side}_{endpoint_type}__isnull": False})
        for other in EndpointType.values:
            if other != endpoint_type:
                branch &= models.Q(**{f"{side}_{other}__isnull": True})
        options |= branch
    return options


class Relationship(models.Model):
    """A deterministic rule between two entities. Validated by behavior.validation.relationship_validate."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="relationships")
    kind = models.CharField(max_length=20, choices=RelationshipKind.choices)
    source_type = models.CharField(max_length=10, choices=EndpointType.choices)
    source_guideline = models.ForeignKey(
        Guideline, null=True, blank=True, on_delete=models.CASCADE, related_name="relationships_as_source"
    )
    source_tag = models.ForeignKey(
        Tag, null=True, blank=True, on_delete=models.CASCADE, related_name="relationships_as_source"
    )
    source_journey = models.ForeignKey(
        "Journey", null=True, blank=True, on_delete=models.CASCADE, related_name="relationships_as_source"
    )
    source_tool = models.ForeignKey(
        "agents.Tool", null=True, blank=True, on_delete=models.CASCADE, related_name="relationships_as_source"
    )
    target_type = models.CharField(max_length=10, choices=EndpointType.choices)
    target_guideline = models.ForeignKey(
        Guideline, null=True, blank=True, on_delete=models.CASCADE, related_name="relationships_as_target"
    )
    target_tag = models.ForeignKey(
        Tag, null=True, blank=True, on_delete=models.CASCADE, related_name="relationships_as_target"
    )
    target_journey = models.ForeignKey(
        "Journey", null=True, blank=True, on_delete=models.CASCADE, related_name="relationships_as_target"
    )
    target_tool = models.ForeignKey(
        "agents.Tool", null=True, blank=True, on_delete=models.CASCADE, related_name="relationships_as_target"
    )
    revision = models.PositiveIntegerField(
        default=1, editable=False, help_text="Bumped by every change (edit conflicts)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agent_id", "kind", "id"]
        indexes = [models.Index(fields=["agent", "kind"], name="relationship_agent_kind")]
        constraints = [
            models.CheckConstraint(condition=_one_endpoint_set("source"), name="relationship_source_matches_type"),
            models.CheckConstraint(condition=_one_endpoint_set("target"), name="relationship_target_matches_type"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint_label('source')} {self.kind} {self.endpoint_label('target')}"

    def endpoint(self, side: str) -> models.Model | None:
        """The source or target object (side is "source" or "target")."""
        endpoint_type = getattr(self, f"{side}_type")
        if endpoint_type not in EndpointType.values or getattr(self, f"{side}_{endpoint_type}_id") is None:
            return None
        return getattr(self, f"{side}_{endpoint_type}")

    def endpoint_ref(self, side: str) -> str | None:
        """The stable reference of an endpoint: key for guidelines and journeys, name for tags and tools."""
        target = self.endpoint(side)
        if target is None:
            return None
        return str(getattr(target, "key", None) or target.name)  # type: ignore[attr-defined]

    def endpoint_label(self, side: str) -> str:
        return f"{getattr(self, f'{side}_type')}:{self.endpoint_ref(side) or '?'}"

    def clean(self) -> None:
        super().clean()
        from behavior.validation.objects import relationship_validate

        relationship_validate(self)


class Journey(models.Model):
    """A multi-step procedure as a graph of states."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="journeys")
    key = models.CharField(max_length=KEY_MAX_LENGTH, validators=[key_validator])
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, validators=[MaxLengthValidator(8000)])
    triggers = models.ManyToManyField(Guideline, blank=True, related_name="triggered_journeys")
    conditions = models.JSONField(default=list, blank=True, help_text="Free-text trigger conditions.")
    tags = models.ManyToManyField(Tag, blank=True, related_name="journeys")
    revision = models.PositiveIntegerField(
        default=1, editable=False, help_text="Bumped by every change (edit conflicts)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["agent_id", "key"]
        constraints = [models.UniqueConstraint(fields=["agent", "key"], name="journey_key_unique_per_agent")]

    def __str__(self) -> str:
        return self.key

    @property
    def scope_tag_name(self) -> str:
        """Entities tagged with this tag apply only while the journey is active."""
        return f"journey:{self.key}"

    def clean(self) -> None:
        super().clean()
        if problems := string_list_errors(self.conditions, what="Conditions", max_length=4000):
            raise ValidationError({"conditions": problems})
        _duplicate_error(Journey, field="key", value=self.key, agent_id=self.agent_id, pk=self.pk)


class StateKind(models.TextChoices):
    CHAT = "chat"
    TOOL = "tool"
    FORK = "fork"
    END = "end"


class JourneyState(models.Model):
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="states")
    key = models.CharField(max_length=KEY_MAX_LENGTH, validators=[key_validator])
    kind = models.CharField(max_length=10, choices=StateKind.choices, default=StateKind.CHAT)
    action = models.TextField(blank=True, validators=[MaxLengthValidator(4000)])
    tool = models.ForeignKey(
        "agents.Tool", null=True, blank=True, on_delete=models.SET_NULL, related_name="journey_tool_states"
    )
    initial = models.BooleanField(default=False)
    tools = models.ManyToManyField("agents.Tool", blank=True, related_name="journey_states")
    position = models.IntegerField(default=0)
    # Where the studio's graph editor draws the state (layout, not behavior: not in the document); null until placed.
    layout_x = models.FloatField(null=True, blank=True)
    layout_y = models.FloatField(null=True, blank=True)
    revision = models.PositiveIntegerField(
        default=1, editable=False, help_text="Bumped by every change (edit conflicts)."
    )

    class Meta:
        ordering = ["journey_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["journey", "key"], name="journey_state_key_unique_per_journey")]

    def __str__(self) -> str:
        return f"{self.journey.key}/{self.key}" if self.journey_id else self.key

    def clean(self) -> None:
        super().clean()
        if self.kind == StateKind.TOOL and self.tool_id is None:
            raise ValidationError({"tool": f"Tool state {self.key!r} needs a tool."})
        if self.kind != StateKind.TOOL and self.tool_id is not None:
            raise ValidationError({"tool": f"Only tool states name a tool; {self.key!r} is a {self.kind} state."})
        tool = self.tool if self.tool_id is not None else None
        if tool is not None and self.journey_id and tool.agent_id != self.journey.agent_id:
            raise ValidationError({"tool": f"Tool {tool.name!r} belongs to another agent."})
        if self.journey_id and self.key:
            duplicate = JourneyState.objects.filter(journey_id=self.journey_id, key=self.key).exclude(pk=self.pk)
            if duplicate.exists():
                raise ValidationError({"key": f"Journey {self.journey.key!r} already has a state {self.key!r}."})


class JourneyTransition(models.Model):
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="transitions")
    source = models.ForeignKey(JourneyState, on_delete=models.CASCADE, related_name="outgoing_transitions")
    target = models.ForeignKey(JourneyState, on_delete=models.CASCADE, related_name="incoming_transitions")
    # null: an unconditional transition, as in the document (condition: null)
    condition = models.TextField(null=True, blank=True, validators=[MaxLengthValidator(4000)])  # noqa: DJ001
    revision = models.PositiveIntegerField(
        default=1, editable=False, help_text="Bumped by every change (edit conflicts)."
    )

    class Meta:
        ordering = ["journey_id", "id"]

    def __str__(self) -> str:
        return f"{self.source.key} → {self.target.key}"

    def clean(self) -> None:
        super().clean()
        errors = {}
        for side in ("source", "target"):
            state = getattr(self, side) if getattr(self, f"{side}_id") else None
            if state is not None and state.journey_id != self.journey_id:
                errors[side] = f"State {state.key!r} belongs to journey {state.journey.key!r}, not to this journey."
        if errors:
            raise ValidationError(errors)


class GlossaryTerm(models.Model):
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="glossary_terms")
    name = models.CharField(max_length=200)
    synonyms = models.JSONField(default=list, blank=True)
    description = models.TextField(validators=[MaxLengthValidator(8000)])
    tags = models.ManyToManyField(Tag, blank=True, related_name="glossary_terms")
    revision = models.PositiveIntegerField(
        default=1, editable=False, help_text="Bumped by every change (edit conflicts)."
    )

    class Meta:
        ordering = ["agent_id", "name"]
        constraints = [models.UniqueConstraint(fields=["agent", "name"], name="glossary_term_name_unique_per_agent")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if problems := string_list_errors(self.synonyms, what="Synonyms", max_length=200):
            raise ValidationError({"synonyms": problems})
        _duplicate_error(GlossaryTerm, field="name", value=self.name, agent_id=self.agent_id, pk=self.pk)


class ContextVariable(models.Model):
    """A per-customer or per-group fact injected each turn, optionally fed by a tool."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="context_variables")
    name = models.CharField(max_length=NAME_MAX_LENGTH, validators=[identifier_validator])
    description = models.TextField(blank=True, validators=[MaxLengthValidator(4000)])
    tool = models.ForeignKey(
        "agents.Tool", null=True, blank=True, on_delete=models.SET_NULL, related_name="context_variables"
    )
    freshness_seconds = models.PositiveIntegerField(null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="context_variables")
    revision = models.PositiveIntegerField(
        default=1, editable=False, help_text="Bumped by every change (edit conflicts)."
    )

    class Meta:
        ordering = ["agent_id", "name"]
        constraints = [models.UniqueConstraint(fields=["agent", "name"], name="context_variable_name_unique_per_agent")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        tool = self.tool if self.tool_id is not None else None
        if tool is not None and tool.agent_id != self.agent_id:
            raise ValidationError({"tool": f"Tool {tool.name!r} belongs to another agent."})
        if self.freshness_seconds is not None and self.tool_id is None:
            raise ValidationError({"freshness_seconds": "Freshness only applies to a variable fed by a tool."})
        _duplicate_error(ContextVariable, field="name", value=self.name, agent_id=self.agent_id, pk=self.pk)


class VariableScope(models.TextChoices):
    DEFAULT = "default"
    CUSTOMER_TAG = "customer_tag"
    CUSTOMER = "customer"


CONTEXT_VALUE_MAX_BYTES = 16 * 1024


class ContextVariableValue(models.Model):
    variable = models.ForeignKey(ContextVariable, on_delete=models.CASCADE, related_name="values")
    scope = models.CharField(max_length=20, choices=VariableScope.choices, default=VariableScope.DEFAULT)
    tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        "conversations.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="variable_values"
    )
    value = models.JSONField(null=True, blank=True)
    revision = models.PositiveIntegerField(
        default=1, editable=False, help_text="Bumped by every change (edit conflicts)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["variable_id", "scope", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(scope="default", tag__isnull=True, customer__isnull=True)
                    | models.Q(scope="customer_tag", tag__isnull=False, customer__isnull=True)
                    | models.Q(scope="customer", tag__isnull=True, customer__isnull=False)
                ),
                name="context_value_scope_matches_key",
            ),
            models.UniqueConstraint(
                fields=["variable"], condition=models.Q(scope="default"), name="context_value_one_default"
            ),
            models.UniqueConstraint(
                fields=["variable", "tag"], condition=models.Q(scope="customer_tag"), name="context_value_one_per_tag"
            ),
            models.UniqueConstraint(
                fields=["variable", "customer"],
                condition=models.Q(scope="customer"),
                name="context_value_one_per_customer",
            ),
        ]

    def __str__(self) -> str:
        tag = self.tag if self.tag_id else None
        key = tag.name if tag is not None else (str(self.customer_id) if self.customer_id else "default")
        return f"{self.variable.name}[{self.scope}:{key}]"

    def clean(self) -> None:
        import json

        super().clean()
        if self.scope == VariableScope.DEFAULT and (self.tag_id or self.customer_id):
            raise ValidationError("A default value has neither a tag nor a customer.")
        if self.scope == VariableScope.CUSTOMER_TAG and (not self.tag_id or self.customer_id):
            raise ValidationError({"tag": "A customer-tag value needs a tag (and no customer)."})
        if self.scope == VariableScope.CUSTOMER and (not self.customer_id or self.tag_id):
            raise ValidationError({"customer": "A customer value needs a customer (and no tag)."})
        if len(json.dumps(self.value).encode()) > CONTEXT_VALUE_MAX_BYTES:
            raise ValidationError({"value": f"The value is larger than {CONTEXT_VALUE_MAX_BYTES} bytes."})
        key_lookup: dict[str, Any] = {"tag_id": self.tag_id, "customer_id": self.customer_id}
        duplicate = ContextVariableValue.objects.filter(
            variable_id=self.variable_id, scope=self.scope, **key_lookup
        ).exclude(pk=self.pk)
        if self.variable_id and duplicate.exists():
            raise ValidationError(f"Variable {self.variable.name!r} already has a {self.scope} value for this key.")


class CannedResponse(models.Model):
    """Pre-approved reply text with `{{ field }}` placeholders."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="canned_responses")
    key = models.CharField(max_length=KEY_MAX_LENGTH, validators=[key_validator])
    template = models.TextField(validators=[MaxLengthValidator(4000)])
    fields = models.JSONField(
        default=list, blank=True, help_text="[{name, kind: tool|generative|variable, description}]"
    )
    signals = models.JSONField(default=list, blank=True, help_text="Example phrasings.")
    tags = models.ManyToManyField(Tag, blank=True, related_name="canned_responses")
    guidelines = models.ManyToManyField(Guideline, blank=True, related_name="canned_responses")
    journey_states = models.ManyToManyField(JourneyState, blank=True, related_name="canned_responses")
    revision = models.PositiveIntegerField(
        default=1, editable=False, help_text="Bumped by every change (edit conflicts)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["agent_id", "key"]
        constraints = [models.UniqueConstraint(fields=["agent", "key"], name="canned_response_key_unique_per_agent")]

    def __str__(self) -> str:
        return self.key

    @property
    def field_names(self) -> list[str]:
        return [field["name"] for field in self.fields if isinstance(field, dict) and "name" in field]

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list[str]] = {}
        if problems := canned_fields_errors(self.fields):
            errors["fields"] = problems
        elif problems := canned_template_errors(self.template or "", self.field_names):
            errors["template"] = problems
        if problems := string_list_errors(self.signals, what="Signals", max_length=1000):
            errors["signals"] = problems
        if errors:
            raise ValidationError(errors)
        _duplicate_error(CannedResponse, field="key", value=self.key, agent_id=self.agent_id, pk=self.pk)


class BehaviorVersion(models.Model):
    """A published, frozen behavior document. Immutable: saving an existing row raises ImmutableRecordError."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    document = models.JSONField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True, validators=[MaxLengthValidator(2000)])
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BehaviorVersionQuerySet.as_manager()

    class Meta:
        ordering = ["agent_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["agent", "number"], name="behavior_version_number_unique")]

    def __str__(self) -> str:
        return f"{self.agent} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRecordError(f"Behavior version {self.number} is immutable; publish a new version instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableRecordError(f"Behavior version {self.number} cannot be deleted; it goes only with its agent.")


# Test cases and evaluation runs live in their own package; importing them here registers them with the app.
from behavior.evaluations.models import (  # noqa: E402
    CaseKind,
    EvalCase,
    EvalResult,
    EvalRun,
    ResultStatus,
    RunPurpose,
    RunStatus,
)

__all__ += ["CaseKind", "EvalCase", "EvalResult", "EvalRun", "ResultStatus", "RunPurpose", "RunStatus"]
