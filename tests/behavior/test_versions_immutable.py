"""A published version never changes: not through the model, a queryset or the Django admin; it goes only
together with its agent."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from agents.services import agent_delete
from behavior.models import AuditEntry, BehaviorVersion, ImmutableRecordError
from behavior.services.audit import SYSTEM, studio_actor
from behavior.services.versions import version_publish, version_rollback
from tests.factories import make_guideline, make_session, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


@pytest.fixture
def version(agent: Agent, editor_user: Any) -> BehaviorVersion:
    make_guideline(agent, key="greet", condition="The customer says hello")
    return version_publish(agent, actor=studio_actor(editor_user), note="First")


def test_saving_a_version_with_changed_content_is_refused(version: BehaviorVersion) -> None:
    version.document = {**version.document, "guidelines": []}
    with pytest.raises(ImmutableRecordError):
        version.save()
    stored = BehaviorVersion.objects.get(pk=version.pk)
    assert [entry["key"] for entry in stored.document["guidelines"]] == ["greet"]


def test_saving_a_version_again_unchanged_is_refused_too(version: BehaviorVersion) -> None:
    with pytest.raises(ImmutableRecordError):
        version.save()


def test_a_version_cannot_be_deleted_one_by_one(version: BehaviorVersion) -> None:
    with pytest.raises(ImmutableRecordError):
        version.delete()
    assert BehaviorVersion.objects.filter(pk=version.pk).exists()


def test_versions_cannot_be_deleted_or_updated_in_bulk(version: BehaviorVersion) -> None:
    with pytest.raises(ImmutableRecordError):
        BehaviorVersion.objects.filter(pk=version.pk).delete()
    with pytest.raises(ImmutableRecordError):
        BehaviorVersion.objects.all().update(note="rewritten")
    assert BehaviorVersion.objects.get(pk=version.pk).note == "First"


def test_deleting_the_agent_still_deletes_its_versions(agent: Agent, version: BehaviorVersion) -> None:
    make_guideline(agent, key="refund")
    version_publish(agent, actor=SYSTEM)
    make_session(agent, version=version)  # a session pinned to a version goes with the agent too
    agent_delete(agent, actor=SYSTEM)
    assert not Agent.objects.filter(pk=agent.pk).exists()
    assert not BehaviorVersion.objects.filter(agent_id=agent.pk).exists()


def test_deleting_an_agent_through_a_queryset_deletes_its_versions(agent: Agent, version: BehaviorVersion) -> None:
    Agent.objects.filter(pk=agent.pk).delete()
    assert not BehaviorVersion.objects.filter(pk=version.pk).exists()


def test_deleting_the_author_keeps_the_version_without_an_author(agent: Agent) -> None:
    author = make_user("leaving", "editor")
    make_guideline(agent, key="greet")
    version = version_publish(agent, actor=studio_actor(author))
    author.delete()
    stored = BehaviorVersion.objects.get(pk=version.pk)
    assert stored.author is None and stored.number == version.number


def test_a_rollback_adds_a_version_and_leaves_the_old_ones_as_they_were(agent: Agent, version: BehaviorVersion) -> None:
    first_document = BehaviorVersion.objects.get(pk=version.pk).document
    make_guideline(agent, key="refund")
    second = version_publish(agent, actor=SYSTEM)
    second_document = BehaviorVersion.objects.get(pk=second.pk).document
    restored = version_rollback(agent, number=1, actor=SYSTEM)
    assert restored.number == 3
    assert restored.document["guidelines"] == first_document["guidelines"]
    assert BehaviorVersion.objects.get(pk=version.pk).document == first_document
    assert BehaviorVersion.objects.get(pk=second.pk).document == second_document


# ---------------------------------------------------------------- the Django admin


@pytest.fixture
def admin_client_logged_in(admin_user: Any) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_the_admin_lists_and_shows_versions(admin_client_logged_in: Client, version: BehaviorVersion) -> None:
    assert admin_client_logged_in.get(reverse("admin:behavior_behaviorversion_changelist")).status_code == 200
    response = admin_client_logged_in.get(reverse("admin:behavior_behaviorversion_change", args=[version.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="_save"' not in html and "deletelink" not in html


def test_the_admin_cannot_change_a_version(admin_client_logged_in: Client, version: BehaviorVersion) -> None:
    url = reverse("admin:behavior_behaviorversion_change", args=[version.pk])
    response = admin_client_logged_in.post(url, {"note": "rewritten", "number": "9"})
    assert response.status_code == 403
    stored = BehaviorVersion.objects.get(pk=version.pk)
    assert stored.note == "First" and stored.number == 1


def test_the_admin_cannot_add_or_delete_a_version(admin_client_logged_in: Client, version: BehaviorVersion) -> None:
    assert admin_client_logged_in.get(reverse("admin:behavior_behaviorversion_add")).status_code == 403
    delete_url = reverse("admin:behavior_behaviorversion_delete", args=[version.pk])
    assert admin_client_logged_in.get(delete_url).status_code == 403
    assert admin_client_logged_in.post(delete_url, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:behavior_behaviorversion_changelist")
    response = admin_client_logged_in.post(
        changelist, {"action": "delete_selected", "_selected_action": [version.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    assert BehaviorVersion.objects.filter(pk=version.pk).exists()


def test_the_admin_shows_the_audit_trail_read_only(admin_client_logged_in: Client, version: BehaviorVersion) -> None:
    entry = AuditEntry.objects.filter(entity_type="version").get()
    change_url = reverse("admin:behavior_auditentry_change", args=[entry.pk])
    response = admin_client_logged_in.get(change_url)
    assert response.status_code == 200 and 'name="_save"' not in response.content.decode()
    assert admin_client_logged_in.post(change_url, {"username": "someone else"}).status_code == 403
    delete_url = reverse("admin:behavior_auditentry_delete", args=[entry.pk])
    assert admin_client_logged_in.post(delete_url, {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).username == "editor"
