"""manage.py import_agent: create an agent (or replace one's draft) from a behavior document file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from agents.models import Agent
from behavior.documents import document_validate, document_warnings
from behavior.management.commands._documents import command_error
from behavior.models import AuditSource
from behavior.services import MAX_DOCUMENT_BYTES, agent_import_document, document_format, document_load
from behavior.services.audit import Actor
from config.errors import DomainError


class Command(BaseCommand):
    help = "Import a behavior document (.yaml, .yml or .json). Nothing is written if the document has an error."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="the document; its extension gives the format")
        parser.add_argument("--replace", metavar="NAME", help="replace the draft behavior of this existing agent")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        replace_agent = None
        if options["replace"]:
            replace_agent = Agent.objects.filter(name=options["replace"]).first()
            if replace_agent is None:
                raise CommandError(f"No agent named {options['replace']!r} to replace.")
        try:
            fmt = document_format(path.name)
            if path.stat().st_size > MAX_DOCUMENT_BYTES:
                raise CommandError(f"{path} is larger than {MAX_DOCUMENT_BYTES} bytes.")
            data = document_load(path.read_bytes(), fmt)
            for warning in document_warnings(document_validate(data)):
                self.stderr.write(f"warning: {warning['path']}: {warning['message']}")
            agent = agent_import_document(data, replace_agent=replace_agent, actor=Actor(source=AuditSource.COMMAND))
        except DomainError as error:
            raise command_error(error) from None
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from None
        verb = "Replaced the draft of" if replace_agent is not None else "Imported"
        self.stdout.write(f'{verb} agent "{agent.name}" (id {agent.pk}).')
