"""Widget visitors (who a browser's customer token stands for) and conversation ratings."""

from __future__ import annotations

import uuid

from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models


class WidgetVisitor(models.Model):
    """A customer as one agent's widget knows them: anonymous (no external id) or identified by the site's
    own id for them (unique per agent). Customer tokens name the visitor's `uid`; a visitor only ever reads
    and writes sessions of its customer with its agent."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="widget_visitors")
    customer = models.OneToOneField("conversations.Customer", on_delete=models.CASCADE, related_name="widget_visitor")
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001 - null: anonymous, unique when set
    email = models.EmailField(blank=True)
    verified = models.BooleanField(default=False, help_text="The identity carried a valid signature.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="widget_visitor_external_id_unique_per_agent",
            )
        ]

    def __str__(self) -> str:
        return f"Visitor {self.uid} of agent {self.agent_id}"


class RatingScale(models.TextChoices):
    THUMBS = "thumbs", "Thumbs up or down"  # score 0 (down) or 1 (up)
    FIVE = "five", "1 to 5"


class Rating(models.Model):
    """The customer's rating of a conversation (one per session; rating again replaces it)."""

    session = models.OneToOneField("conversations.Session", on_delete=models.CASCADE, related_name="rating")
    scale = models.CharField(max_length=10, choices=RatingScale.choices)
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(0), MaxValueValidator(5)])
    comment = models.TextField(blank=True, validators=[MaxLengthValidator(2000)])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Rating {self.score} ({self.scale}) of session {self.session_id}"
