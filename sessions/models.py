"""Customers, sessions, the append-only event log, turns, traces and flags (app label `conversations`)."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models

from behavior.models import ImmutableQuerySet, ImmutableRecordError


class Customer(models.Model):
    name = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(max_length=200, null=True, blank=True, unique=True)
    metadata = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField("behavior.Tag", blank=True, related_name="customers")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name or self.external_id or f"Customer {self.pk}"


class SessionSource(models.TextChoices):
    SANDBOX = "sandbox"
    API = "api"
    WIDGET = "widget"


class SessionMode(models.TextChoices):
    AUTO = "auto", "Agent"
    HUMAN = "human", "Human operator"


class Session(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="Public id.")
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="sessions")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="sessions")
    title = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=10, choices=SessionSource.choices)
    mode = models.CharField(max_length=10, choices=SessionMode.choices, default=SessionMode.AUTO)
    # null runs the agent's draft; RESTRICT keeps a version that sessions still run on.
    version = models.ForeignKey(
        "behavior.BehaviorVersion", null=True, blank=True, on_delete=models.RESTRICT, related_name="sessions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="branches")
    branched_from_offset = models.PositiveIntegerField(null=True, blank=True)
    state = models.JSONField(default=dict, blank=True, help_text="Engine session state.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["agent", "-updated_at"], name="session_agent_recent"),
            models.Index(fields=["customer", "-updated_at"], name="session_customer_recent"),
        ]

    def __str__(self) -> str:
        return self.title or f"Session {self.uid}"

    @property
    def runs_draft(self) -> bool:
        return self.version_id is None


class EventKind(models.TextChoices):
    MESSAGE = "message"
    TOOL = "tool"
    STATUS = "status"
    CUSTOM = "custom"


class EventSource(models.TextChoices):
    CUSTOMER = "customer"
    AGENT = "agent"
    HUMAN_OPERATOR = "human_operator"
    SYSTEM = "system"


class Event(models.Model):
    """One entry of a session's append-only log; offsets start at 1 and have no gaps.
    Append with sessions.services.event_append; saving an existing row raises ImmutableRecordError."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="events")
    offset = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    source = models.CharField(max_length=20, choices=EventSource.choices)
    data = models.JSONField(default=dict)
    turn = models.ForeignKey("Turn", null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["session_id", "offset"]
        constraints = [models.UniqueConstraint(fields=["session", "offset"], name="event_offset_unique_per_session")]

    def __str__(self) -> str:
        return f"#{self.offset} {self.source} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRecordError(f"Event #{self.offset} is append-only; it cannot be changed.")
        super().save(*args, **kwargs)


class TurnStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SUPERSEDED = "superseded"


class Turn(models.Model):
    """The agent's work on one customer message; claimed by exactly one worker."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="turns")
    trigger_event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="triggered_turns")
    status = models.CharField(max_length=12, choices=TurnStatus.choices, default=TurnStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_by = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, validators=[MaxLengthValidator(10_000)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session_id", "id"]
        indexes = [models.Index(fields=["session", "status"], name="turn_session_status")]

    def __str__(self) -> str:
        return f"Turn {self.pk} ({self.status})"


class Trace(models.Model):
    turn = models.OneToOneField(Turn, on_delete=models.CASCADE, related_name="trace")
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Trace of turn {self.turn_id}"


class Flag(models.Model):
    """A tester's or operator's mark on an event that needs attention."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="flags")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="flags")
    reason = models.TextField(validators=[MaxLengthValidator(4000)])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Flag on event #{self.event.offset}: {self.reason[:40]}"
