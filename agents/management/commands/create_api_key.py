"""manage.py create_api_key: create a REST API key owned by a user and print it once (only its hash is stored)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from agents.models import ApiKeyRole
from agents.services import api_key_create
from config.errors import ValidationFailed


class Command(BaseCommand):
    help = (
        "Create an API key acting as a user (with that user's object rights and at most --role, which the user "
        "must hold). The key is printed once on standard output and cannot be shown again."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--name", required=True, help="what the key is for, e.g. 'CI pipeline'")
        parser.add_argument("--role", required=True, choices=ApiKeyRole.values)
        parser.add_argument("--user", required=True, help="username of the key's owner: the key acts as this user")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user named {options['user']!r}.")
        try:
            key, raw = api_key_create(user=user, name=options["name"], role=options["role"], created_by=user)
        except ValidationFailed as error:
            raise CommandError(error.message) from None
        self.stderr.write(
            f"Created API key {key.name!r} for {user.get_username()} (role {key.role}, prefix {key.prefix}). "
            "Store it now:"
        )
        self.stdout.write(raw)
