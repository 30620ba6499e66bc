"""A study's folder on disk: what was planned, what each fold produced, and each run's log.

    reports/<name>/
        study.json                 settings, the plan (experiments -> configuration keys), data counts
        splits.json                which photos are development/test/field, and every fold's split
        runs.json                  one entry per invocation: start, end, seconds, phases, environment
        results/<config>/fold-<k>.json   one fold: history per epoch, per-image predictions, timings
        report.md, report.html, report.json, figures/*.png   (written by training.study.report)

Every fold file is written atomically as soon as the fold finishes, so an interrupted run loses at
most the fold in progress, and a rerun skips every fold that has a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

STUDY_FILE = "study.json"
SPLITS_FILE = "splits.json"
RUNS_FILE = "runs.json"
RESULTS_DIR = "results"


def write_json(path: Path, data: Any, indent: int | None = 1) -> Path:
    """Write ``data`` to ``path`` atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as stream:
            json.dump(data, stream, indent=indent)
            stream.write("\n")
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


class StudyFolder:
    """Reads and writes one study's files."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @property
    def results_dir(self) -> Path:
        return self.root / RESULTS_DIR

    def fold_path(self, config_key: str, fold: int) -> Path:
        return self.results_dir / config_key / f"fold-{fold}.json"

    def has_fold(self, config_key: str, fold: int) -> bool:
        return self.fold_path(config_key, fold).is_file()

    def save_fold(self, config_key: str, fold: int, record: dict) -> Path:
        return write_json(self.fold_path(config_key, fold), record, indent=None)

    def load_folds(self, config_key: str) -> list[dict]:
        """Every stored fold of one configuration, in fold order."""
        folder = self.results_dir / config_key
        if not folder.is_dir():
            return []
        records = [read_json(path) for path in folder.glob("fold-*.json")]
        return sorted(records, key=lambda record: record["fold"])

    def study(self) -> dict:
        return read_json(self.root / STUDY_FILE)

    def write_study(self, study: dict) -> Path:
        return write_json(self.root / STUDY_FILE, study)

    def splits(self) -> dict:
        return read_json(self.root / SPLITS_FILE)

    def write_splits(self, splits: dict) -> Path:
        return write_json(self.root / SPLITS_FILE, splits, indent=None)

    def runs(self) -> list[dict]:
        path = self.root / RUNS_FILE
        return read_json(path) if path.is_file() else []

    def save_run(self, entry: dict) -> None:
        """Add or replace (by ``id``) one invocation's log entry."""
        runs = [run for run in self.runs() if run.get("id") != entry["id"]]
        write_json(self.root / RUNS_FILE, [*runs, entry])
