"""What the behavior model keeps about itself: the audit trail of every change and the runs of the optional LLM
lint check (their progress and stored findings)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class ImmutableRecordError(RuntimeError):
    """Raised when code tries to change a row that is append-only (versions, events)."""


class ImmutableQuerySet(models.QuerySet):
    """Refuses bulk updates, except nulling the fields listed in `nullable_on_delete` (Django's deletion
    collector does that through QuerySet.update for on_delete=SET_NULL)."""

    nullable_on_delete: frozenset[str] = frozenset()

    def update(self, **kwargs: Any) -> int:
        if kwargs and all(name in self.nullable_on_delete and value is None for name, value in kwargs.items()):
            return super().update(**kwargs)
        raise ImmutableRecordError(f"{self.model.__name__} rows are immutable; they cannot be updated.")


class AuditSource(models.TextChoices):
    STUDIO = "studio"
    API = "api"
    IMPORT = "import"
    COMMAND = "command"
    ADMIN = "admin"
    SYSTEM = "system"


class AuditAction(models.TextChoices):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    PUBLISH = "publish"
    IMPORT = "import"
    ROLLBACK = "rollback"


class AuditEntry(models.Model):
    """One change to the behavior model: who, when, through what, which entity, and each field before/after.
    Append-only. The entity is named by type, id and a label kept as text, so the entry outlives the row."""

    agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.CASCADE, related_name="audit")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True, help_text="Kept when the user is deleted.")
    source = models.CharField(max_length=20, choices=AuditSource.choices)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    entity_type = models.CharField(max_length=40)
    entity_id = models.BigIntegerField(null=True, blank=True)
    entity_label = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True, help_text="{field: [before, after]}")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["agent", "-created_at"], name="audit_agent_created"),
            models.Index(fields=["entity_type", "entity_id", "-created_at"], name="audit_entity_created"),
            models.Index(fields=["user", "-created_at"], name="audit_user_created"),
        ]

    def __str__(self) -> str:
        return f"{self.username or 'system'} {self.action} {self.entity_type} {self.entity_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRecordError("Audit entries are append-only.")
        super().save(*args, **kwargs)


class LintRunStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class LintRun(models.Model):
    """One run of the optional LLM check for contradictory guidelines: its progress and stored findings."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="lint_runs")
    kind = models.CharField(max_length=40, default="contradictions")
    status = models.CharField(max_length=20, choices=LintRunStatus.choices, default=LintRunStatus.PENDING)
    draft_revision = models.PositiveIntegerField(default=0, help_text="The agent's draft revision it checked.")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    findings = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["agent", "-created_at"], name="lint_run_agent_created")]

    def __str__(self) -> str:
        return f"{self.kind} lint of agent {self.agent_id}: {self.status}"
