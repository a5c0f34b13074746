"""Webhook endpoints per agent and the log of every delivery attempt's outcome."""

from __future__ import annotations

import uuid

from django.core.validators import MaxLengthValidator
from django.db import models


class WebhookEventType(models.TextChoices):
    MESSAGE_CREATED = "message.created"
    HANDOFF_REQUESTED = "handoff.requested"
    HANDOFF_TAKEN = "handoff.taken"
    CONVERSATION_RATED = "conversation.rated"


class WebhookEndpoint(models.Model):
    """A receiver URL of an agent's events, with the secret its deliveries are signed with."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    secret = models.CharField(max_length=128)
    event_types = models.JSONField(default=list, blank=True, help_text="Event types sent; empty sends all.")
    enabled = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["agent_id", "id"]

    def __str__(self) -> str:
        return f"Webhook {self.url}"


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending"  # queued or waiting for its next attempt
    DELIVERING = "delivering"  # claimed by a worker
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the last attempt


class WebhookDelivery(models.Model):
    """One event to one endpoint: its body (fixed at creation, so a redelivery sends the same bytes'
    content), attempts, and the last response."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="Sent as the event id.")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40, choices=WebhookEventType.choices)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=12, choices=WebhookDeliveryStatus.choices, default=WebhookDeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, validators=[MaxLengthValidator(2000)])
    last_response = models.TextField(blank=True, validators=[MaxLengthValidator(2000)])
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_recent"),
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → endpoint {self.endpoint_id} ({self.status})"
