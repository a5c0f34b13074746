"""Loading the Skyway demo: its behavior document, two demo customers, its test suite and a published version 1."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.db import transaction

from agents.models import Agent
from behavior.demo import dataset
from behavior.evaluations.cases import suite_import
from behavior.models import AuditSource, BehaviorVersion
from behavior.services import agent_import_document, document_load, version_publish
from behavior.services.audit import Actor
from sessions.models import Customer
from sessions.services import customer_create

DEMO_DOCUMENT_PATH = Path(__file__).resolve().parent / "skyway.yaml"
DEMO_SUITE_PATH = Path(__file__).resolve().parent / "skyway_tests.yaml"
DEMO_AGENT_NAME = "Skyway Support"
# Customers seeded for the sandbox: a Gold (vip) member and a Silver (frequent-flyer) member.
DEMO_CUSTOMER_IDS = ("CUST-1001", "CUST-1002")
DEMO_ACTOR = Actor(source=AuditSource.COMMAND)  # seed_demo runs from the command line


def demo_document() -> dict:
    """The demo behavior document as data (validated on import)."""
    return document_load(DEMO_DOCUMENT_PATH.read_text(encoding="utf-8"), "yaml")


def demo_suite() -> dict:
    """The demo agent's test suite as data (docs/evaluations.md; validated on import)."""
    return yaml.safe_load(DEMO_SUITE_PATH.read_text(encoding="utf-8"))


def _demo_customers() -> list[Customer]:
    created = []
    for customer_id in DEMO_CUSTOMER_IDS:
        if Customer.objects.filter(external_id=customer_id).exists():
            continue
        entry = dataset.customer_by_id(customer_id)
        if entry is None:
            raise RuntimeError(f"Demo customer {customer_id} is missing from the demo data set.")
        created.append(
            customer_create(
                name=entry["name"],
                external_id=entry["id"],
                metadata={"email": entry["email"], "phone": entry["phone"], "miles_balance": entry["miles_balance"]},
                tags=entry["tags"],
            )
        )
    return created


def demo_seed(*, force: bool = False) -> tuple[Agent, BehaviorVersion | None]:
    """Create the demo agent, its customers, its test suite and version 1. Idempotent: when the demo agent exists,
    nothing happens (returns it and None) unless `force`, which reloads the demo document into it (replacing its
    draft; sessions and earlier versions stay), restores the demo test cases (cases added since are kept) and
    publishes a new version."""
    with transaction.atomic():
        existing = Agent.objects.filter(name=DEMO_AGENT_NAME).first()
        if existing is not None and not force:
            return existing, None
        agent = agent_import_document(demo_document(), replace_agent=existing, actor=DEMO_ACTOR)
        _demo_customers()
        suite_import(agent, demo_suite(), actor=DEMO_ACTOR)
        note = "Demo content reloaded" if existing is not None else "Demo content"
        version = version_publish(agent, actor=DEMO_ACTOR, note=note)
    return agent, version
