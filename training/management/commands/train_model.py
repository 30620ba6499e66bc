"""Train the served model (the shipped default, or a new one) with the field recipe."""

from __future__ import annotations

import json
import os
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

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
        parser.add_argument(
            "--rule-only",
            action="store_true",
            help="keep the model in --out as it is and give it the decision rule --report fitted (labels.json, "
            "training.json, metrics.json and the model card rewritten, the lab hold-out measured anew)",
        )

    def handle(self, *args, **options):
        from classifier.evaluation import evaluate_items
        from classifier.inference import Predictor
        from training.field.evidence import figures_from_report
        from training.field.learning import for_metrics
        from training.field.model_card import previous_training, render_model_card
        from training.field.protocol import ARMS, CHOSEN, scaled
        from training.field.train import FieldTrainingConfig, rule_from_report, ship_rule, train_field_model

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
        out_dir = Path(options["out"])
        report_path = Path(options["report"]) / "report.json"
        report = json.loads(report_path.read_text()) if report_path.exists() else None
        made = None
        if options["rule_only"]:
            if rule is None:
                raise CommandError(f"No decision rule in {options['report']}: nothing to refit.")
            card_path = out_dir / "MODEL_CARD.md"
            made, trained_with = previous_training(card_path.read_text()) if card_path.exists() else (None, None)
            today = f"{datetime.now(UTC):%Y-%m-%d}"
            summary = ship_rule(out_dir, rule, report.get("rule_fitted_on"), today)
            pools = config.pools()
        else:
            if rule is None:
                self.stderr.write(f"No decision rule in {options['report']}: the model ships with the old rule.")
            pools = config.pools()
            summary = train_field_model(config, out_dir, rule, pools=pools, log=self.stdout.write)

        predictor = Predictor.from_directory(out_dir)
        holdout = [(image.path, image.label, image.image.source) for image in pools.lab_holdout]
        evaluation = evaluate_items(predictor, holdout)
        self.stdout.write(f"lab hold-out: accuracy {evaluation['accuracy']:.3f} on {len(holdout)} photos")
        # The field figures promotion compares a retrained candidate with: the recipe's cross-fitted ones.
        field = figures_from_report(report, recipe.name) if report else None
        metrics = {"lab": evaluation, "field": field, "learning_curve": for_metrics(report) if report else None}
        (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
        command = "python manage.py train_model " + " ".join(shlex.quote(_relative(arg)) for arg in sys.argv[2:])
        if options["rule_only"]:
            command = trained_with or command  # the weights' command; the refit is told apart on the card
        sizes = {
            path.name: path.stat().st_size for path in sorted(out_dir.iterdir()) if path.suffix in (".tflite", ".keras")
        }
        card = render_model_card(command, summary, evaluation, report, sizes, made=made)
        (out_dir / "MODEL_CARD.md").write_text(card)
        self.stdout.write(self.style.SUCCESS(f"model written to {out_dir}"))


def _relative(argument: str) -> str:
    """Show paths relative to the repository so the card reads the same on every machine."""
    if Path(argument).is_absolute():
        return os.path.relpath(argument, settings.BASE_DIR)
    return argument
