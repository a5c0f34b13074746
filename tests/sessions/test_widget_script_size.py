"""The website widget stays small: its script and stylesheet together weigh under 30 KB gzipped, as a
company's page downloads them on every visit."""

from __future__ import annotations

import gzip
from pathlib import Path

WIDGET = Path(__file__).resolve().parents[2] / "static" / "widget"
BUDGET_BYTES = 30 * 1024


def gzipped_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def test_the_widget_script_and_stylesheet_weigh_under_30_kb_gzipped() -> None:
    files = [WIDGET / "decorum.js", WIDGET / "decorum.css"]
    total = sum(gzipped_size(path) for path in files)
    assert total <= BUDGET_BYTES, f"decorum.js + decorum.css are {total} bytes gzipped (budget {BUDGET_BYTES})"


def test_the_widget_builds_no_code_from_strings_and_parses_no_markup() -> None:
    # A strict host CSP (no 'unsafe-eval', no 'unsafe-inline') must keep working, and text stays text.
    script = (WIDGET / "decorum.js").read_text()
    forbidden = ("eval(", "new Function(", ".innerHTML", ".outerHTML", ".insertAdjacentHTML", "document.write")
    for construct in (*forbidden, 'setAttribute("style"', ".cssText", 'setTimeout("', "setTimeout('"):
        assert construct not in script, f"decorum.js uses {construct}"
