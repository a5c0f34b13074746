"""manage.py seed_demo: load the Skyway Support demo agent, demo customers and version 1 (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from behavior.demo.seeding import demo_seed
from behavior.management.commands._documents import command_error
from config.errors import DomainError


class Command(BaseCommand):
    help = "Load the Skyway Support demo agent. Does nothing when it exists, unless --force."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="reload the demo document into the existing demo agent and publish a new version",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            agent, version = demo_seed(force=options["force"])
        except DomainError as error:
            raise command_error(error) from None
        if version is None:
            self.stdout.write(f'Demo agent "{agent.name}" already exists; nothing to do (use --force to reload it).')
            return
        self.stdout.write(f'Demo agent "{agent.name}" loaded (id {agent.pk}); published version {version.number}.')
