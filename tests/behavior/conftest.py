"""Fixtures for the behavior document tests: the demo document (a rich, valid document) as fresh data."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

DEMO_PATH = Path(__file__).resolve().parents[2] / "behavior" / "demo" / "skyway.yaml"
_DEMO_CACHE: dict[str, Any] = {}


@pytest.fixture
def demo_document() -> dict[str, Any]:
    """The Skyway demo document as plain data; each test gets its own copy to mutate."""
    if "document" not in _DEMO_CACHE:
        _DEMO_CACHE["document"] = yaml.safe_load(DEMO_PATH.read_text())
    return copy.deepcopy(_DEMO_CACHE["document"])


@pytest.fixture
def minimal_document() -> dict[str, Any]:
    return {"format": "decorum.behavior", "schema_version": 1, "agent": {"name": "Minimal Agent"}}
