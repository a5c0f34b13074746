"""Create one login per role for a local demo (embedded default only): admin, editor, tester, operator."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

DEMO_PASSWORD = "decorum-demo"
ROLES = ("admin", "editor", "tester", "operator")


class Command(BaseCommand):
    help = "Create demo users admin/editor/tester/operator (password 'decorum-demo') on the embedded default."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--force", action="store_true", help="also outside the embedded default")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED and not options["force"]:
            raise CommandError("Refusing to create demo users with a known password outside the embedded default.")
        user_model = get_user_model()
        for role in ROLES:
            group, _ = Group.objects.get_or_create(name=role)
            user, created = user_model.objects.get_or_create(username=role)
            if created:
                user.set_password(DEMO_PASSWORD)
                user.is_staff = role == "admin"
                user.is_superuser = role == "admin"
                user.save()
            user.groups.add(group)
        self.stdout.write(f"Demo logins: {', '.join(ROLES)} (password: {DEMO_PASSWORD})")
