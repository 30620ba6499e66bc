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


@pytest.mark.django_db(transaction=True)
def test_a_single_photo_submission_becomes_a_case_of_one():
    """0016 moves a submission's image to its first photo and records what the farmer was told."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("classifier", "0015_case_photos")], [("classifier", "0017_submission_photos_only")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Submission, Prediction = old.get_model("classifier", "Submission"), old.get_model("classifier", "Prediction")
    ModelVersion = old.get_model("classifier", "ModelVersion")
    version = ModelVersion.objects.create(number=99, labels=["healthy", "late_blight"], model_file="m.tflite")
    rows = {}
    for name, unsure, potato in (("sure", False, True), ("unsure", True, True), ("turned_away", False, False)):
        submission = Submission.objects.create(image=f"submissions/{name}.jpg", width=640, height=480)
        Prediction.objects.create(
            submission=submission,
            model_version=version,
            label="late_blight",
            confidence=0.9,
            margin=0.5,
            top=[],
            is_potato_leaf=potato,
            is_unsure=unsure,
        )
        rows[name] = submission.pk
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = executor.loader.project_state(after).apps
        Photo, Prediction = new.get_model("classifier", "Photo"), new.get_model("classifier", "Prediction")
        photo = Photo.objects.get(submission_id=rows["sure"])
        assert (photo.position, photo.image.name, photo.width, photo.height) == (0, "submissions/sure.jpg", 640, 480)
        kinds = {name: Prediction.objects.get(pk=pk) for name, pk in rows.items()}
        assert (kinds["sure"].answer_kind, kinds["sure"].answer_labels) == ("diagnosis", ["late_blight"])
        assert (kinds["unsure"].answer_kind, kinds["unsure"].answer_labels) == ("not_sure", [])
        assert kinds["turned_away"].answer_kind == "not_potato_leaf"
        assert all(prediction.photo_count == 1 for prediction in kinds.values())
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
