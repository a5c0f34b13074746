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
    EVALUATION = "evaluation"  # a test case's run (behavior/evaluations): never a real customer


class SessionMode(models.TextChoices):
    """Who owns the session: the agent, nobody while a human is awaited, or one human operator
    (`Session.assigned_to`). The engine replies only in AUTO."""

    AUTO = "auto", "Agent"
    WAITING = "waiting", "Waiting for a human"
    HUMAN = "human", "Human operator"


# Modes in which the engine stays silent (customer messages are stored, no turn runs).
HUMAN_MODES = frozenset({SessionMode.WAITING, SessionMode.HUMAN})


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
    # The human operator who owns the session in HUMAN mode (set and cleared with `mode`, by one conditional
    # update, so two operators never both own it).
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_sessions"
    )
    # Agent settings this session runs with instead of its version's (an evaluation case's, e.g. composition_mode).
    overrides = models.JSONField(default=dict, blank=True)
    # When the customer ended the conversation (widget); a closed session takes no more messages.
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["agent", "-updated_at"], name="session_agent_recent"),
            models.Index(fields=["customer", "-updated_at"], name="session_customer_recent"),
            models.Index(fields=["mode", "updated_at"], name="session_mode_recent"),
        ]

    def __str__(self) -> str:
        return self.title or f"Session {self.uid}"

    @property
    def runs_draft(self) -> bool:
        return self.version_id is None

    @property
    def human_owned(self) -> bool:
        """True while the engine must stay silent (waiting for a human, or a human owns it)."""
        return self.mode in HUMAN_MODES


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


class HandoffReason(models.TextChoices):
    TOOL = "tool", "A tool asked for a human"
    GUIDELINE = "guideline", "A guideline asked for a human"
    CUSTOMER = "customer", "The customer asked for a human"
    OPERATOR = "operator", "An operator took it over"


class Handoff(models.Model):
    """One passage of a session to the humans: requested (why, by which turn), taken by an operator, handed
    back to the agent (with an optional note the agent reads on its next turn). The open one has no
    `returned_at`."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="handoffs")
    reason = models.CharField(max_length=12, choices=HandoffReason.choices)
    # What caused it, for the operator: {"tool": ..., "guidelines": [keys], "message": ...}.
    detail = models.JSONField(default=dict, blank=True)
    turn = models.ForeignKey(Turn, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    taken_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    returned_at = models.DateTimeField(null=True, blank=True)
    return_note = models.TextField(blank=True, validators=[MaxLengthValidator(4000)])

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["session", "returned_at"], name="handoff_session_open")]

    def __str__(self) -> str:
        return f"Handoff of session {self.session_id} ({self.reason})"


class OperatorNote(models.Model):
    """An internal note on a session, written by an operator; never sent to the customer or the widget."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="operator_notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(validators=[MaxLengthValidator(4000)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Note on session {self.session_id}"


# Models of the widget and webhook families live in their packages; importing them here registers them.
from sessions.webhooks.models import (  # noqa: E402
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEventType,
)
from sessions.widget.models import Rating, RatingScale, WidgetVisitor  # noqa: E402

__all__ = [
    "HUMAN_MODES",
    "Customer",
    "Event",
    "EventKind",
    "EventSource",
    "Flag",
    "Handoff",
    "HandoffReason",
    "OperatorNote",
    "Rating",
    "RatingScale",
    "Session",
    "SessionMode",
    "SessionSource",
    "Trace",
    "Turn",
    "TurnStatus",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookEndpoint",
    "WebhookEventType",
    "WidgetVisitor",
]
