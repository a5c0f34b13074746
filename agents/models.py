"""Agents, their tools and tool services, API keys, widget keys, and the embedding cache."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models

from behavior.validation.rules import NAME_MAX_LENGTH, identifier_validator, key_validator


def default_llm_model() -> str:
    return settings.DEFAULT_LLM_MODEL


class CompositionMode(models.TextChoices):
    FLUID = "fluid", "Fluid (free text)"
    COMPOSITED = "composited", "Composited (in the style of canned responses)"
    STRICT = "strict", "Strict (canned responses only)"


class Agent(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, validators=[MaxLengthValidator(20_000)], help_text="The persona.")
    model = models.CharField(max_length=200, default=default_llm_model)
    temperature = models.FloatField(default=0.2, validators=[MinValueValidator(0.0), MaxValueValidator(2.0)])
    llm_profile = models.CharField(
        max_length=NAME_MAX_LENGTH, default="default", validators=[key_validator], help_text="Named base-URL profile."
    )
    composition_mode = models.CharField(max_length=20, choices=CompositionMode.choices, default=CompositionMode.FLUID)
    no_match_reply = models.TextField(
        default="Sorry, I can't help with that here.", validators=[MaxLengthValidator(2000)]
    )
    max_preparation_iterations = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    moderation = models.BooleanField(default=False)
    preamble = models.BooleanField(default=True)
    tags = models.ManyToManyField("behavior.Tag", blank=True, related_name="agents")
    published_version = models.ForeignKey(
        "behavior.BehaviorVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revision = models.PositiveIntegerField(
        default=1, editable=False, help_text="Bumped by every change (edit conflicts)."
    )
    # Bumped by every change to any entity of the agent's behavior model: keys caches of the draft.
    draft_revision = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_preparation_iterations__gte=1, max_preparation_iterations__lte=5),
                name="agent_max_preparation_iterations_1_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(temperature__gte=0.0, temperature__lte=2.0), name="agent_temperature_0_to_2"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # draft_revision only ever moves through F() updates (behavior.services.audit.draft_changed): saving a
        # loaded agent must never write back the number it read, or a cache of the draft could be served stale.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "draft_revision"
            ]
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        version = self.published_version if self.published_version_id is not None else None
        if version is not None and version.agent_id != self.pk:
            raise ValidationError({"published_version": "The published version belongs to another agent."})


class ToolService(models.Model):
    """A remote HTTP tool service described by an OpenAPI document."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="tool_services")
    name = models.CharField(max_length=NAME_MAX_LENGTH, validators=[identifier_validator])
    url = models.URLField(max_length=2000, help_text="URL of the service's OpenAPI document.")
    timeout_seconds = models.FloatField(default=5.0, validators=[MinValueValidator(0.1), MaxValueValidator(300.0)])
    revision = models.PositiveIntegerField(
        default=1, editable=False, help_text="Bumped by every change (edit conflicts)."
    )

    class Meta:
        ordering = ["agent_id", "name"]
        constraints = [models.UniqueConstraint(fields=["agent", "name"], name="tool_service_name_unique_per_agent")]

    def __str__(self) -> str:
        return self.name


class ToolImplementation(models.TextChoices):
    PYTHON = "python", "Python (decorator registry)"
    REMOTE = "remote", "Remote tool service"


class Tool(models.Model):
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="tools")
    name = models.CharField(max_length=NAME_MAX_LENGTH, validators=[identifier_validator])
    description = models.TextField(blank=True, validators=[MaxLengthValidator(4000)])
    implementation = models.CharField(
        max_length=20, choices=ToolImplementation.choices, default=ToolImplementation.PYTHON
    )
    service = models.ForeignKey(ToolService, null=True, blank=True, on_delete=models.SET_NULL, related_name="tools")
    consequential = models.BooleanField(default=False, help_text="Has side effects the customer must be sure about.")
    timeout_seconds = models.FloatField(default=10.0, validators=[MinValueValidator(0.1), MaxValueValidator(300.0)])
    revision = models.PositiveIntegerField(
        default=1, editable=False, help_text="Bumped by every change (edit conflicts)."
    )

    class Meta:
        ordering = ["agent_id", "name"]
        constraints = [models.UniqueConstraint(fields=["agent", "name"], name="tool_name_unique_per_agent")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.agent_id and self.name:
            duplicate = Tool.objects.filter(agent_id=self.agent_id, name=self.name).exclude(pk=self.pk)
            if duplicate.exists():
                raise ValidationError({"name": f"This agent already has a tool named {self.name!r}."})
        if self.implementation == ToolImplementation.REMOTE and self.service_id is None:
            raise ValidationError({"service": f"Remote tool {self.name!r} needs a tool service."})
        if self.implementation == ToolImplementation.PYTHON and self.service_id is not None:
            raise ValidationError({"service": f"Python tool {self.name!r} must not name a tool service."})
        service = self.service if self.service_id is not None else None
        if service is not None and service.agent_id != self.agent_id:
            raise ValidationError({"service": f"Tool service {service.name!r} belongs to another agent."})


class ParameterType(models.TextChoices):
    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    ENUM = "enum"
    LIST = "list"


class ToolParameter(models.Model):
    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="parameters")
    name = models.CharField(max_length=NAME_MAX_LENGTH, validators=[identifier_validator])
    type = models.CharField(max_length=20, choices=ParameterType.choices, default=ParameterType.STR)
    description = models.TextField(blank=True, validators=[MaxLengthValidator(2000)])
    required = models.BooleanField(default=True)
    enum = models.JSONField(default=list, blank=True, help_text="Allowed values, for type enum.")
    items = models.CharField(  # noqa: DJ001 - null means "not a list", as in the document
        max_length=20, choices=ParameterType.choices, null=True, blank=True, help_text="Element type, for type list."
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["tool_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["tool", "name"], name="tool_parameter_name_unique_per_tool")]

    def __str__(self) -> str:
        return f"{self.name}: {self.type}"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        uses_enum = self.type == ParameterType.ENUM or (
            self.type == ParameterType.LIST and self.items == ParameterType.ENUM
        )
        if uses_enum:
            if not isinstance(self.enum, list) or not self.enum:
                errors["enum"] = f"Enum parameter {self.name!r} needs a non-empty list of values."
            elif not all(isinstance(value, str) and value for value in self.enum) or len(set(self.enum)) != len(
                self.enum
            ):
                errors["enum"] = f"Enum parameter {self.name!r} needs distinct, non-empty text values."
            elif len(self.enum) > 500:
                errors["enum"] = f"Enum parameter {self.name!r} has more than 500 values."
        elif self.enum:
            errors["enum"] = f"Parameter {self.name!r} of type {self.type} must not list enum values."
        if self.type == ParameterType.LIST:
            if not self.items:
                errors["items"] = f"List parameter {self.name!r} needs an element type."
            elif self.items == ParameterType.LIST:
                errors["items"] = f"List parameter {self.name!r} cannot hold lists."
        elif self.items:
            errors["items"] = f"Parameter {self.name!r} of type {self.type} must not have an element type."
        if errors:
            raise ValidationError(errors)


class ApiKeyRole(models.TextChoices):
    ADMIN = "admin"
    EDITOR = "editor"
    TESTER = "tester"
    OPERATOR = "operator"


class ApiKey(models.Model):
    """A REST API key. Only the SHA-256 of the full key is stored; the key is shown once at creation."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, unique=True, help_text="Shown in lists to recognise the key.")
    key_hash = models.CharField(max_length=64, unique=True)
    role = models.CharField(max_length=20, choices=ApiKeyRole.choices)
    # The key acts as this user: with the user's roles (capped by `role`) and object rights. A key whose user is
    # gone, inactive or no longer holds `role` stops working.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="owned_api_keys"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="api_keys"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (dec_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class WidgetKey(models.Model):
    """An agent's website widget: the public key the snippet carries (`pk_…`), the origins allowed to use it,
    and the secret a site's backend signs customer identities with. Rotating the key bumps `generation`,
    which ends every customer token issued under the old key. Change it through agents.widget_keys."""

    agent = models.OneToOneField(Agent, on_delete=models.CASCADE, related_name="widget_key")
    public_key = models.CharField(max_length=64, unique=True)
    allowed_origins = models.JSONField(
        default=list, blank=True, help_text='Origins allowed to embed the widget ("https://shop.example.com").'
    )
    identity_secret = models.CharField(max_length=128, help_text="Signs customer identities (HMAC-SHA256 or HS256).")
    enforce_identity = models.BooleanField(
        default=False, help_text="Refuse identities that are unsigned or wrongly signed."
    )
    enabled = models.BooleanField(default=True)
    generation = models.PositiveIntegerField(default=1, help_text="Bumped by every rotation of the public key.")
    rotated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "widget key"

    def __str__(self) -> str:
        return f"Widget key of agent {self.agent_id} ({self.public_key[:10]}…)"


class EmbeddingRecord(models.Model):
    """A cached embedding: one vector per (model, content hash), stored as little-endian float32 bytes."""

    model_id = models.CharField(max_length=200)
    content_hash = models.CharField(max_length=64, help_text="SHA-256 hex digest of the embedded text.")
    dimensions = models.PositiveIntegerField()
    vector = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model_id", "content_hash"], name="embedding_unique_per_model_and_content")
        ]

    def __str__(self) -> str:
        return f"{self.model_id}:{self.content_hash[:12]}"

    @staticmethod
    def pack(values: list[float] | np.ndarray) -> bytes:
        return np.asarray(values, dtype="<f4").tobytes()

    def values(self) -> list[float]:
        return np.frombuffer(bytes(self.vector), dtype="<f4").tolist()
