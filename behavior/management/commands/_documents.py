"""Shared helpers of the export_agent / import_agent commands."""

from __future__ import annotations

from django.core.management.base import CommandError

from agents.models import Agent
from config.errors import DomainError


def agent_by_name_or_id(value: str) -> Agent:
    """An agent by exact name, or by id when the value is a number and no agent has that name."""
    agent = Agent.objects.filter(name=value).first()
    if agent is None and value.isdigit():
        agent = Agent.objects.filter(pk=int(value)).first()
    if agent is None:
        raise CommandError(f"No agent named or numbered {value!r}.")
    return agent


def command_error(error: DomainError) -> CommandError:
    """A domain error as a CommandError listing every detail as `path: message`."""
    lines = [error.message]
    if isinstance(error.details, list):
        for detail in error.details:
            if isinstance(detail, dict):
                path = detail.get("path") or "(document)"
                lines.append(f"  {path}: {detail.get('message', '')}")
    return CommandError("\n".join(lines))
