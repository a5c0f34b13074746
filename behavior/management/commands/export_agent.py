"""manage.py export_agent: write an agent's draft behavior as a behavior document (YAML or JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from behavior.management.commands._documents import agent_by_name_or_id, command_error
from behavior.services import agent_export_document, document_dump, document_format
from config.errors import DomainError


class Command(BaseCommand):
    help = "Export an agent's behavior model (its draft) as a behavior document, to stdout or a file."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("agent", help="the agent's name or id")
        parser.add_argument("--format", choices=["yaml", "json"], help="default: from --output's extension, else yaml")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        agent = agent_by_name_or_id(options["agent"])
        output = options["output"]
        try:
            fmt = document_format(options["format"] or (output if output else "yaml"))
        except DomainError as error:
            raise command_error(error) from None
        text = document_dump(agent_export_document(agent), fmt)
        if not output:
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}") from None
        self.stderr.write(f'Exported agent "{agent.name}" to {output} ({fmt}).')
