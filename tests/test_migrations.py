"""Migrations are history: what a data migration seeds is frozen in its own file, never read from live code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

PROJECT_PACKAGES = {"classifier", "webapp", "training"}
#: What Django itself writes into schema migrations: the model module holding upload_to callables.
SCHEMA_REFERENCES = {"classifier.models"}


def migration_files() -> list[Path]:
    return sorted(path for package in PROJECT_PACKAGES for path in (REPO / package / "migrations").glob("0*.py"))


def project_imports(tree: ast.Module) -> list[str]:
    """Project modules a migration imports: import statements and ``import_module("...")`` calls."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.append(node.args[0].value)
    return [name for name in found if name.split(".")[0] in PROJECT_PACKAGES]


def test_the_walk_finds_the_migrations():
    names = {path.name for path in migration_files()}
    assert {"0002_advice.py", "0008_farmer_loop.py", "0001_dashboard_groups.py"} <= names


@pytest.mark.parametrize("path", migration_files(), ids=lambda path: f"{path.parent.parent.name}/{path.name}")
def test_a_migration_imports_no_live_project_code(path):
    """A data migration that imports live code changes when that code does: old databases and new
    ones would be seeded differently. Other migrations only (0006 runs 0002's frozen seeding)."""
    imported = project_imports(ast.parse(path.read_text()))
    live = [name for name in imported if ".migrations." not in f"{name}." and name not in SCHEMA_REFERENCES]
    assert not live, f"{path.name} imports {live}: copy what it needs into the migration"
