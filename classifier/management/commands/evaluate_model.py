"""Score the active model on a folder of class folders (``--json`` for machines)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from classifier.evaluation import evaluate_items, folder_items
from classifier.inference import predictor_for
from classifier.registry import selectors as registry_selectors


class Command(BaseCommand):
    help = (
        "Run the active model on DATA_DIR/<class>/ photos. Folders named after a label are that label; "
        "any other folder holds photos that should be answered 'not a potato leaf'."
    )

    def add_arguments(self, parser):
        parser.add_argument("data_dir", type=Path)
        parser.add_argument("--json", action="store_true", help="print one JSON object on the last line")

    def handle(self, *args, **options):
        version = registry_selectors.active_model_version()
        if version is None:
            raise CommandError("No active model. Run `python manage.py register_default_model` first.")
        if not options["data_dir"].is_dir():
            raise CommandError(f"Not a folder: {options['data_dir']}")
        predictor = predictor_for(version)
        items = folder_items(options["data_dir"], predictor.labels, predictor.manifest.reject_label)
        if not items:
            raise CommandError(f"No photos found in class folders under {options['data_dir']}")
        started = time.monotonic()
        summary = evaluate_items(predictor, items, progress=self._progress(len(items)))
        seconds = time.monotonic() - started
        self.stderr.write("")
        result = {
            "model_version": version.number,
            "accuracy": summary["accuracy"],
            "per_class": {
                folder: {"precision": entry["precision"], "recall": entry["recall"], "support": entry["support"]}
                for folder, entry in summary["per_folder"].items()
            },
            "confusion_matrix": summary["confusion_matrix"],
            "labels": summary["labels"],
            "rejection_rate": summary["rejection_rate"],
            "unsure_rate": summary["unsure_rate"],
            "confidently_wrong_rate": summary["confidently_wrong_rate"],
            "expected_calibration_error": summary["expected_calibration_error"],
            "count": summary["count"],
            "seconds": round(seconds, 2),
        }
        self._print_table(result)
        if options["json"]:
            self.stdout.write(json.dumps(result))

    def _progress(self, total: int):
        def report(done: int) -> None:
            if done % 50 == 0 or done == total:
                self.stderr.write(f"\r{done}/{total} photos", ending="")
                self.stderr.flush()

        return report

    def _print_table(self, result: dict) -> None:
        out = self.stdout.write
        out(f"Model v{result['model_version']} on {result['count']} photos in {result['seconds']} s")
        out(f"Accuracy: {result['accuracy']:.3f}   rejected as not a potato leaf: {result['rejection_rate']:.3f}")
        out(
            f"Not sure: {result['unsure_rate']:.3f}   confidently wrong: {result['confidently_wrong_rate']:.3f}   "
            f"expected calibration error: {result['expected_calibration_error']:.3f}"
        )
        out(f"{'folder':<32}{'precision':>10}{'recall':>10}{'support':>9}")
        for folder, entry in result["per_class"].items():
            out(f"{folder:<32}{entry['precision']:>10.3f}{entry['recall']:>10.3f}{entry['support']:>9}")
        out("Confusion matrix (rows true, columns predicted): " + ", ".join(result["labels"]))
        for label, row in zip(result["labels"], result["confusion_matrix"], strict=True):
            out(f"  {label:<20}" + "".join(f"{value:>7}" for value in row))
