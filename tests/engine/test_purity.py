"""The engine is pure Python behind ports: no module under behavior/engine imports Django, openai or our apps."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import behavior.engine

ENGINE = Path(behavior.engine.__file__).parent
FORBIDDEN = {"django", "openai", "channels", "celery", "agents", "sessions", "config", "httpx", "requests"}
ALLOWED_THIRD_PARTY = {"pydantic", "numpy"}


def _imports(path: Path) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
    return found


def test_engine_modules_import_only_the_stdlib_pydantic_numpy_and_the_engine() -> None:
    modules = sorted(ENGINE.rglob("*.py"))
    assert len(modules) > 10
    violations = []
    for path in modules:
        for name, line in _imports(path):
            top = name.split(".")[0]
            if top in FORBIDDEN:
                violations.append(f"{path.relative_to(ENGINE)}:{line} imports {name}")
            elif name.startswith("behavior.") and not name.startswith("behavior.engine"):
                violations.append(f"{path.relative_to(ENGINE)}:{line} imports {name} (outside the engine)")
            elif (
                top not in sys.stdlib_module_names
                and top not in ALLOWED_THIRD_PARTY
                and top not in {"behavior", "__future__"}
            ):
                violations.append(f"{path.relative_to(ENGINE)}:{line} imports third-party {name}")
    assert violations == []


def test_the_purity_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("import os\nfrom django.db import models\nimport openai.types\n")

    assert [name for name, _ in _imports(module)] == ["os", "django.db", "openai.types"]
