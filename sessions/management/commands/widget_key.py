"""manage.py widget_key: give an agent's website widget a key with these origins (created when it has none) and
print the public key and the identity secret as JSON, for a test server or a first setup."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from agents.models import Agent
from agents.widget_keys import widget_key_create, widget_key_for_agent, widget_key_rotate, widget_key_update
from behavior.models import AuditSource
from behavior.services.audit import Actor
from config.errors import DomainError


class Command(BaseCommand):
    help = (
        "Set up the website widget of an agent: its allowed origins (--origin, repeatable), whether identities "
        "must be signed (--enforce), optionally a new public key (--rotate). Prints "
        '{"agent", "public_key", "identity_secret", "allowed_origins", "enforce_identity", "generation"} as JSON.'
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("agent_name", help="the agent's name")
        parser.add_argument(
            "--origin", action="append", default=[], help="an origin allowed to embed the widget (repeat it)"
        )
        parser.add_argument("--enforce", action="store_true", help="refuse customer identities that are not signed")
        parser.add_argument("--rotate", action="store_true", help="issue a new public key (ends customer tokens)")

    def handle(self, *args: Any, **options: Any) -> None:
        agent = Agent.objects.filter(name=options["agent_name"]).first()
        if agent is None:
            raise CommandError(f"No agent named {options['agent_name']!r}.")
        actor = Actor(source=AuditSource.COMMAND)
        try:
            key = widget_key_for_agent(agent) or widget_key_create(agent=agent, actor=actor)
            if options["rotate"]:
                key = widget_key_rotate(key, actor=actor)
            key = widget_key_update(
                key,
                allowed_origins=options["origin"] or list(key.allowed_origins or []),
                enforce_identity=bool(options["enforce"]),
                enabled=True,
                actor=actor,
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            json.dumps(
                {
                    "agent": agent.name,
                    "public_key": key.public_key,
                    "identity_secret": key.identity_secret,
                    "allowed_origins": key.allowed_origins,
                    "enforce_identity": key.enforce_identity,
                    "generation": key.generation,
                }
            )
        )
