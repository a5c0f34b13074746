"""manage.py create_api_key: create a REST API key and print it once (only its hash is stored)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from agents.models import ApiKeyRole
from agents.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key. The key is printed once on standard output and cannot be shown again."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--name", required=True, help="what the key is for, e.g. 'CI pipeline'")
        parser.add_argument("--role", required=True, choices=ApiKeyRole.values)
        parser.add_argument("--user", help="username recorded as the key's creator")

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user named {options['user']!r}.")
        try:
            key, raw = api_key_create(name=options["name"], role=options["role"], created_by=user)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stderr.write(f"Created API key {key.name!r} (role {key.role}, prefix {key.prefix}). Store it now:")
        self.stdout.write(raw)
