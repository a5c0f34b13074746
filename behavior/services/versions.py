"""Versions: publishing the draft as an immutable numbered document (reads are in behavior.selectors.versions)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max

from agents.models import Agent
from behavior.documents import document_validate
from behavior.models import BehaviorVersion
from behavior.services.exporting import agent_export_document
from config.errors import NotFound, ValidationFailed

MAX_NOTE_LENGTH = 2000


def version_publish(agent: Agent, *, author: Any, note: str = "") -> BehaviorVersion:
    """Freeze the agent's draft into the next numbered version and make it the published one.

    Refuses (ValidationFailed, with the draft's errors as details) when the draft is not a valid document.
    """
    if len(note) > MAX_NOTE_LENGTH:
        raise ValidationFailed(
            f"The note is longer than {MAX_NOTE_LENGTH} characters.",
            details=[{"path": "note", "message": f"at most {MAX_NOTE_LENGTH} characters"}],
        )
    with transaction.atomic():
        # The row lock serialises concurrent publishes of one agent, so numbers never collide.
        try:
            locked = Agent.objects.select_for_update().get(pk=agent.pk)
        except Agent.DoesNotExist:
            raise NotFound(f"Agent {agent.pk} no longer exists.") from None
        document = agent_export_document(locked)
        try:
            document_validate(document)
        except ValidationFailed as error:
            raise ValidationFailed(
                "The draft has validation errors; fix them before publishing.", details=error.details
            ) from None
        latest = BehaviorVersion.objects.filter(agent=locked).aggregate(latest=Max("number"))["latest"] or 0
        version = BehaviorVersion.objects.create(
            agent=locked,
            number=latest + 1,
            document=document,
            author=author if getattr(author, "pk", None) else None,
            note=note,
        )
        locked.published_version = version
        locked.save(update_fields=["published_version", "updated_at"])
    agent.published_version = version
    return version
