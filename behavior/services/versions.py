"""Versions: publishing the draft as an immutable numbered document (reads are in behavior.selectors.versions)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from agents.models import Agent
from behavior.documents import document_validate
from behavior.models import AuditAction, BehaviorVersion
from behavior.services.audit import Actor, audit_record
from behavior.services.exporting import agent_export_document
from config.errors import NotFound, ValidationFailed

MAX_NOTE_LENGTH = 2000


def version_publish(agent: Agent, *, actor: Actor, note: str = "") -> BehaviorVersion:
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
            author=actor.user if actor.user_id else None,
            note=note,
        )
        locked.published_version = version
        locked.save(update_fields=["published_version", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.PUBLISH,
            entity_type="version",
            entity_id=version.pk,
            label=f"v{version.number}",
            agent_id=locked.pk,
            changes={"note": [None, note]} if note else {},
        )
    agent.published_version = version
    return version


def version_rollback(agent: Agent, *, number: int, actor: Actor, note: str = "") -> BehaviorVersion:
    """Publish version `number`'s content again, as a new version: the draft becomes that version's document
    (unpublished draft changes are replaced; the audit trail keeps them) and is published at once."""
    from behavior.selectors.versions import version_get
    from behavior.services.importing import agent_import_document

    old = version_get(agent, number)
    with transaction.atomic():
        agent_import_document(dict(old.document), actor=actor, replace_agent=agent, action=AuditAction.ROLLBACK)
        agent.refresh_from_db()
        return version_publish(agent, actor=actor, note=note or f"Rollback to v{number}")
