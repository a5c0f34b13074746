"""`manage.py sweep_turns`: fail turns whose worker died, so no session is left "typing" forever."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sessions.services.turns import turns_sweep


class Command(BaseCommand):
    help = "Fail running turns claimed (and pending turns queued) longer ago than TURN_STALE_SECONDS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stale-seconds",
            type=int,
            default=None,
            help=f"Override TURN_STALE_SECONDS (now {settings.TURN_STALE_SECONDS}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stale_seconds = options["stale_seconds"]
        if stale_seconds is not None and stale_seconds < 0:
            raise CommandError("--stale-seconds must be 0 or more")
        failed = turns_sweep(stale_seconds=stale_seconds)
        self.stdout.write(f"Failed {failed} stale turn(s).")
