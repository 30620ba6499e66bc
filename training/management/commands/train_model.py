"""Train the served model (the shipped default, or a new one) from image folders."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from classifier.artifacts import MODEL_FILENAME
from classifier.evaluation import evaluate_items
from classifier.inference import Predictor
from training.default_model import DefaultModelConfig, collect_images, train_default_model
from training.model_card import render_model_card


class Command(BaseCommand):
    help = "Train the potato-leaf classifier and write model.tflite, labels.json and MODEL_CARD.md."

    def add_arguments(self, parser):
        data_root = Path(settings.DATA_ROOT)
        parser.add_argument("--data", type=Path, default=data_root / "plantvillage-potato")
        parser.add_argument(
            "--negatives",
            type=Path,
            nargs="*",
            default=[data_root / "plantvillage-negatives", data_root / "field-negatives"],
        )
        parser.add_argument("--field", default=str(data_root / "field-potato"), help="field photos ('' for none)")
        parser.add_argument("--weights", default=settings.IMAGENET_WEIGHTS)
        parser.add_argument("--out", type=Path, default=settings.DEFAULT_MODEL_DIR)
        parser.add_argument("--image-size", type=int, default=128)
        parser.add_argument("--head-epochs", type=int, default=6)
        parser.add_argument("--finetune-epochs", type=int, default=4)
        parser.add_argument(
            "--field-holdout", type=float, default=1.0, help="share of field photos held out (1: evaluate only)"
        )
        parser.add_argument("--max-per-class", type=int, default=None, help="cap photos per class (quick runs)")

    def handle(self, *args, **options):
        weights = options["weights"]
        config = DefaultModelConfig(
            data_dir=options["data"],
            negatives_dirs=options["negatives"],
            field_dir=Path(options["field"]) if options["field"] else None,
            weights=None if weights in ("", "none", "None") else weights,
            reject_label=settings.REJECT_LABEL,
            image_size=options["image_size"],
            head_epochs=options["head_epochs"],
            finetune_epochs=options["finetune_epochs"],
            max_per_class=options["max_per_class"],
            field_holdout_fraction=options["field_holdout"],
        )
        out_dir = options["out"]
        summary = train_default_model(config, out_dir, log=self.stdout.write)

        predictor = Predictor.from_directory(out_dir)
        evaluations = {}
        for name, items in collect_images(config).holdouts.items():
            expected = [
                (item.path, item.label, name if item.label == config.reject_label else item.label) for item in items
            ]
            evaluations[name] = evaluate_items(predictor, expected)
            self.stdout.write(f"{name}: accuracy {evaluations[name]['accuracy']:.3f} on {len(items)} photos")
        (Path(out_dir) / "metrics.json").write_text(json.dumps(evaluations, indent=1) + "\n")
        command = "python manage.py train_model " + " ".join(shlex.quote(_relative(arg)) for arg in sys.argv[2:])
        field_in_training = bool(config.field_dir) and config.field_holdout_fraction < 1
        size = (Path(out_dir) / MODEL_FILENAME).stat().st_size
        card = render_model_card(command, summary, evaluations, size, field_in_training)
        (Path(out_dir) / "MODEL_CARD.md").write_text(card)
        self.stdout.write(self.style.SUCCESS(f"model written to {out_dir}"))


def _relative(argument: str) -> str:
    """Show paths relative to the repository so the card reads the same on every machine."""
    if Path(argument).is_absolute():
        return os.path.relpath(argument, settings.BASE_DIR)
    return argument
