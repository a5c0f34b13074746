"""Google-style docstrings: the summary paragraph and the `Args:` descriptions."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

_SECTION = re.compile(
    r"(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Returns?|Raises|Yields?|Examples?|"
    r"Notes?|Attributes|See Also|Warnings?|Todo|References)\s*:\s*",
)
_ARGUMENT_SECTIONS = {"Args", "Arguments", "Parameters", "Params", "Keyword Args", "Keyword Arguments"}
_ENTRY = re.compile(r"\*{0,2}(?P<name>[A-Za-z_]\w*)\s*(?:\([^)]*\))?\s*:(?P<text>.*)")


@dataclass(frozen=True)
class ParsedDocstring:
    summary: str
    arguments: dict[str, str] = field(default_factory=dict)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def docstring_parse(function: object) -> ParsedDocstring:
    doc = inspect.getdoc(function) or ""
    lines = doc.splitlines()
    summary_lines: list[str] = []
    for line in lines:
        if not line.strip() or _SECTION.fullmatch(line.strip()):
            break
        summary_lines.append(line.strip())

    arguments: dict[str, str] = {}
    index = 0
    while index < len(lines):
        header = _SECTION.fullmatch(lines[index].strip())
        index += 1
        if not header or header.group(1) not in _ARGUMENT_SECTIONS:
            continue
        section_indent = _indent(lines[index - 1])
        entry_indent: int | None = None
        current: str | None = None
        while index < len(lines):
            line = lines[index]
            if line.strip() and _indent(line) <= section_indent:
                break  # the next section (or the end of this one)
            if line.strip():
                entry_indent = _indent(line) if entry_indent is None else entry_indent
                match = _ENTRY.fullmatch(line.strip()) if _indent(line) == entry_indent else None
                if match:
                    current = match.group("name")
                    arguments[current] = match.group("text").strip()
                elif current is not None:  # a continuation line of the current entry
                    arguments[current] = f"{arguments[current]} {line.strip()}".strip()
            index += 1
    return ParsedDocstring(summary=" ".join(summary_lines), arguments=arguments)
