"""Train the served model (the shipped default, or a new one) with the field recipe."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from training.management.commands.cross_validate_field import add_data_arguments, weights_argument


class Command(BaseCommand):
    help = (
        "Train the potato-leaf classifier on lab and field photos (the field recipe) and write model.tflite, "
        "model.keras, labels.json (with the decision rule fitted by cross_validate_field) and MODEL_CARD.md."
    )

    def add_arguments(self, parser):
        add_data_arguments(parser)
        parser.add_argument("--out", type=Path, default=settings.DEFAULT_MODEL_DIR)
        parser.add_argument(
            "--report",
            type=Path,
            default=Path(settings.BASE_DIR) / "docs" / "field",
            help="the field cross-validation whose decision rule and figures the model ships with",
        )
        parser.add_argument("--epochs", type=int, default=None, help="cap head epochs (quick runs)")
        parser.add_argument("--image-size", type=int, default=None, help="input side (default: the recipe's)")

    def handle(self, *args, **options):
        from classifier.evaluation import evaluate_items
        from classifier.inference import Predictor
        from training.field.evidence import figures_from_report
        from training.field.learning import for_metrics
        from training.field.model_card import render_model_card
        from training.field.protocol import ARMS, CHOSEN, scaled
        from training.field.train import FieldTrainingConfig, rule_from_report, train_field_model

        recipe = ARMS[CHOSEN]
        recipe = scaled(
            recipe, epochs=options["epochs"] or recipe.epochs, image_size=options["image_size"] or recipe.image_size
        )
        config = FieldTrainingConfig(
            lab_dir=options["data"],
            lab_negatives=options["lab_negatives"],
            field_dirs=options["field"],
            field_negatives=options["field_negatives"],
            reject_label=settings.REJECT_LABEL,
            weights=weights_argument(options["weights"]),
            recipe=recipe,
            max_per_class=options["max_per_class"],
            cache_dir=options["cache"],
        )
        rule = rule_from_report(options["report"])
        if rule is None:
            self.stderr.write(f"No decision rule in {options['report']}: the model ships with the old rule.")
        pools = config.pools()
        out_dir = Path(options["out"])
        summary = train_field_model(config, out_dir, rule, pools=pools, log=self.stdout.write)

        predictor = Predictor.from_directory(out_dir)
        holdout = [(image.path, image.label, image.image.source) for image in pools.lab_holdout]
        evaluation = evaluate_items(predictor, holdout)
        self.stdout.write(f"lab hold-out: accuracy {evaluation['accuracy']:.3f} on {len(holdout)} photos")
        report_path = Path(options["report"]) / "report.json"
        report = json.loads(report_path.read_text()) if report_path.exists() else None
        # The field figures promotion compares a retrained candidate with: the recipe's cross-fitted ones.
        field = figures_from_report(report, recipe.name) if report else None
        metrics = {"lab": evaluation, "field": field, "learning_curve": for_metrics(report) if report else None}
        (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
        command = "python manage.py train_model " + " ".join(shlex.quote(_relative(arg)) for arg in sys.argv[2:])
        sizes = {
            path.name: path.stat().st_size for path in sorted(out_dir.iterdir()) if path.suffix in (".tflite", ".keras")
        }
        (out_dir / "MODEL_CARD.md").write_text(render_model_card(command, summary, evaluation, report, sizes))
        self.stdout.write(self.style.SUCCESS(f"model written to {out_dir}"))


def _relative(argument: str) -> str:
    """Show paths relative to the repository so the card reads the same on every machine."""
    if Path(argument).is_absolute():
        return os.path.relpath(argument, settings.BASE_DIR)
    return argument
