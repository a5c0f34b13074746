"""Services of the behavior model that change state or convert it: export/import of behavior documents,
text formats, publishing versions and diffing them."""

from __future__ import annotations

from behavior.services.diffing import version_diff
from behavior.services.documents import (
    FORMATS,
    MAX_DOCUMENT_BYTES,
    DocumentFormat,
    document_dump,
    document_format,
    document_load,
)
from behavior.services.exporting import agent_export_document
from behavior.services.importing import agent_import_document
from behavior.services.versions import version_publish

__all__ = [
    "FORMATS",
    "MAX_DOCUMENT_BYTES",
    "DocumentFormat",
    "agent_export_document",
    "agent_import_document",
    "document_dump",
    "document_format",
    "document_load",
    "version_diff",
    "version_publish",
]
