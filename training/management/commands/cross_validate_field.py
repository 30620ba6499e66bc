"""Cross-validate the field recipe and its ablation arms on the field photos, then write the report."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def add_data_arguments(parser) -> None:
    """The photo folders, shared with ``train_model``."""
    data_root = Path(settings.DATA_ROOT)
    parser.add_argument("--data", type=Path, default=data_root / "plantvillage-potato", help="lab class folders")
    parser.add_argument("--lab-negatives", type=Path, nargs="*", default=[data_root / "plantvillage-negatives"])
    parser.add_argument(
        "--field",
        type=Path,
        nargs="*",
        default=[data_root / "field-potato", data_root / "field-potato-magelang"],
        help="field class folders",
    )
    parser.add_argument("--field-negatives", type=Path, nargs="*", default=[data_root / "field-negatives"])
    parser.add_argument("--weights", default=settings.IMAGENET_WEIGHTS, help="ImageNet weights: 'imagenet' or a file")
    parser.add_argument("--max-per-class", type=int, default=None, help="cap photos per class (quick runs)")
    parser.add_argument("--cache", type=Path, default=Path(settings.VAR_DIR) / "field" / "cache", help="features")


def weights_argument(value: str) -> str | None:
    return None if value in ("", "none", "None") else value


class Command(BaseCommand):
    help = (
        "Grouped k-fold cross-validation of the field recipe (and each ablation arm) over the field photos; "
        "stores every fold's predictions in OUT/results and writes OUT/report.md. Resumable: rerun to continue."
    )

    def add_arguments(self, parser):
        from training.export import QUANTIZATIONS
        from training.field.protocol import ARMS
        from training.field.served_views import PHONE_JPEG_QUALITY, PHONE_MAX_SIDE

        add_data_arguments(parser)
        parser.add_argument("--out", type=Path, default=Path(settings.BASE_DIR) / "docs" / "field")
        parser.add_argument("--arms", nargs="*", default=list(ARMS), choices=list(ARMS))
        parser.add_argument("--folds", type=int, default=5)
        parser.add_argument("--repeats", type=int, default=2)
        parser.add_argument("--copies", type=int, default=3, help="field-like and pasted views per photo")
        parser.add_argument("--epochs", type=int, default=None, help="cap head epochs (quick runs)")
        parser.add_argument(
            "--served-views",
            action="store_true",
            help="judge held-out field photos as the worker sees them, with their test-time views",
        )
        parser.add_argument(
            "--served-side",
            type=int,
            default=PHONE_MAX_SIDE,
            help="with --served-views: the longest side the phone shrinks a photo to before sending it",
        )
        parser.add_argument(
            "--served-quality",
            type=int,
            default=PHONE_JPEG_QUALITY,
            help="with --served-views: the JPEG quality (1-100) the phone sends at",
        )
        parser.add_argument(
            "--keep-models",
            type=Path,
            default=None,
            help="keep each fold's trained head in this folder (to judge a quantized form of it later)",
        )
        parser.add_argument(
            "--paired-sides",
            type=int,
            nargs="*",
            default=[],
            help="with --served-views and --keep-models: also judge each fold's kept model on held-out photos sent "
            "at these sides (the same models on another copy: what the copy alone changes)",
        )
        parser.add_argument(
            "--quantized",
            nargs="*",
            default=[],
            choices=QUANTIZATIONS,
            help="with --served-views and --keep-models: also judge each fold's model as a TFLite file in these forms",
        )
        parser.add_argument(
            "--field-fraction",
            type=float,
            default=1.0,
            help="train on this share of each class's training field photos (a learning-curve point)",
        )

    def handle(self, *args, **options):
        from training.field.data import collect_pools
        from training.field.paired import run_paired
        from training.field.protocol import ARMS, run_protocol, scaled, served_arm
        from training.field.quantized import run_quantized
        from training.field.report import write_report
        from training.field.served_views import PhoneCopy

        if options["folds"] < 2:
            raise CommandError("--folds must be at least 2")
        copy = PhoneCopy(options["served_side"], options["served_quality"])
        if not copy.is_default and not options["served_views"]:
            raise CommandError("--served-side and --served-quality need --served-views")
        if not copy.is_default and options["field_fraction"] < 1.0:
            raise CommandError("a learning-curve point is measured on the 800 px copy: drop --served-side")
        kept = options["served_views"] and options["keep_models"]
        if (options["quantized"] or options["paired_sides"]) and not kept:
            raise CommandError(
                "--quantized and --paired-sides need --served-views and --keep-models (where the folds' heads are kept)"
            )
        if not (1 <= copy.quality <= 100) or copy.side < 1:
            raise CommandError("--served-quality is 1 to 100 and --served-side a positive number of pixels")
        recipes = {name: scaled(recipe, epochs=options["epochs"] or recipe.epochs) for name, recipe in ARMS.items()}
        pools = collect_pools(
            options["data"],
            options["lab_negatives"],
            options["field"],
            options["field_negatives"],
            settings.REJECT_LABEL,
            max_per_class=options["max_per_class"],
        )
        self.stdout.write(
            f"{len(pools.lab_train)} lab training, {len(pools.lab_holdout)} lab hold-out, "
            f"{len(pools.field)} field photos"
        )
        out = run_protocol(
            pools,
            options["out"],
            settings.REJECT_LABEL,
            weights_argument(options["weights"]),
            arms=options["arms"],
            folds=options["folds"],
            repeats=options["repeats"],
            copies=options["copies"],
            cache_dir=options["cache"],
            recipes=recipes,
            log=self.stdout.write,
            served_views=options["served_views"],
            field_fraction=options["field_fraction"],
            served_copy=copy,
            models_dir=options["keep_models"],
        )
        for arm in options["arms"] if kept else []:
            for side in options["paired_sides"]:
                run_paired(
                    pools,
                    out,
                    served_arm(arm, copy),
                    recipes[arm],
                    weights_argument(options["weights"]),
                    options["keep_models"],
                    PhoneCopy(side, copy.quality),
                    options["cache"],
                    log=self.stdout.write,
                )
            if options["quantized"]:
                run_quantized(
                    pools,
                    out,
                    served_arm(arm, copy),
                    recipes[arm],
                    weights_argument(options["weights"]),
                    options["keep_models"],
                    options["quantized"],
                    copy,
                    log=self.stdout.write,
                )
        write_report(out)
        self.stdout.write(self.style.SUCCESS(f"report written to {out / 'report.md'}"))
