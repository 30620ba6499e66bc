"""Reproduce the paper's transfer-learning and tuning study, then write its report."""

from __future__ import annotations

import json
import os
import signal
import traceback
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from training.runner import Heartbeat
from training.study.experiments import StudySettings, quick_settings


class Command(BaseCommand):
    help = (
        "Cross-validate the paper's experiments (layers, learning rate, batch size, optimizer, epochs, "
        "randomized search, leakage) and write report.md / report.html. Resumable: rerun to continue."
    )

    def add_arguments(self, parser):
        data_root = Path(settings.DATA_ROOT)
        parser.add_argument("--data", type=Path, default=data_root / "plantvillage-potato")
        parser.add_argument("--field", default=str(data_root / "field-potato"), help="field photos ('' for none)")
        parser.add_argument("--out", type=Path, default=Path("reports") / "study")
        parser.add_argument("--weights", default=settings.IMAGENET_WEIGHTS, help="'imagenet', a .h5 file or 'none'")
        parser.add_argument("--quick", action="store_true", help="CI-sized: few photos, 2 folds, 32 px, 2 epochs")
        parser.add_argument("--folds", type=int)
        parser.add_argument("--image-size", type=int)
        parser.add_argument("--max-per-class", type=int)
        parser.add_argument("--random-trials", type=int)
        parser.add_argument("--epochs-cap", type=int, help="cap every configuration's epochs")
        parser.add_argument("--whole-network-epochs", type=int, help="epoch cap when the whole network trains")
        parser.add_argument("--sweep-layers", choices=["head", "10", "20", "all"], help="what trains in the sweeps")
        parser.add_argument("--seed", type=int)
        parser.add_argument("--plan", action="store_true", help="print the plan and its cost estimate, train nothing")
        parser.add_argument("--no-report", action="store_true", help="train only; build the report later")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")
        parser.add_argument("--created-by", default="cli")

    def handle(self, *args, **options):
        from training.study.reproduce import plan_only

        study_settings = self.study_settings(options)
        field_dir = Path(options["field"]) if options["field"] else None
        if options["plan"]:
            self.print_plan(plan_only(study_settings, options["data"], field_dir))
            return
        self.run(study_settings, options["data"], field_dir, options)

    def print_plan(self, plan: dict) -> None:
        estimate = plan["estimate"]
        photos = plan["photos"]
        self.stdout.write(
            f"photos: {photos['dev']} development, {photos['test']} held-out test, {photos['field']} field\n"
            f"{'experiment':<15}{'configs':>8}{'new':>5}{'whole net':>10}{'folds':>7}{'expected':>11}{'at cap':>10}"
        )
        for row in estimate["experiments"]:
            self.stdout.write(
                f"{row['experiment']:<15}{row['configs']:>8}{row['new_configs']:>5}{row['whole_network_configs']:>10}"
                f"{row['folds']:>7}{row['expected_seconds'] / 60:>9.0f} m{row['at_epoch_cap_seconds'] / 60:>8.0f} m"
            )
        self.stdout.write(
            f"frozen activations: {estimate['features_seconds'] / 60:.1f} m\n"
            f"total: about {estimate['expected_seconds'] / 3600:.1f} h expected, "
            f"{estimate['at_epoch_cap_seconds'] / 3600:.1f} h if every fold ran to its epoch cap\n"
            f"(throughput assumed, images/s: {json.dumps(estimate['throughput'])})"
        )

    def study_settings(self, options) -> StudySettings:
        weights = options["weights"]
        weights = None if weights in ("", "none", "None") else weights
        base = quick_settings(weights=weights) if options["quick"] else StudySettings(weights=weights)
        overrides = {
            "folds": options["folds"],
            "image_size": options["image_size"],
            "max_per_class": options["max_per_class"],
            "random_trials": options["random_trials"],
            "epochs_cap": options["epochs_cap"],
            "whole_network_max_epochs": options["whole_network_epochs"],
            "sweep_layers": options["sweep_layers"],
            "seed": options["seed"],
        }
        return replace(base, **{key: value for key, value in overrides.items() if value is not None})

    def run(self, study_settings: StudySettings, data_dir: Path, field_dir: Path | None, options) -> None:
        from training import retraining, selectors, services
        from training.models import TrainingRun
        from training.progress import DatabaseReporter
        from training.study.crossval import Cancelled
        from training.study.progress import StudyProgress
        from training.study.reproduce import StudyMismatch, run_study

        retraining.fail_stale_runs()  # a study killed with SIGKILL stops heartbeating; free its slot
        active = selectors.active_training_runs(TrainingRun.Kind.STUDY).first()
        if active is not None:
            raise CommandError(
                f"study run {active.pk} is still {active.status} (last progress {active.heartbeat_at or 'never'}); "
                f"wait for it to finish, or stop its process (Ctrl-C) and rerun this command to resume"
            )
        out_dir = options["out"]
        parameters = {
            "settings": study_settings.signature(),
            "data": _shown(data_dir),
            "field": _shown(field_dir) if field_dir else None,
            "quick": options["quick"],
        }
        run = services.create_training_run(
            TrainingRun.Kind.STUDY, options["created_by"], parameters=parameters, artifact_path=_shown(out_dir)
        )
        services.start_training_run(run.pk)
        self.stdout.write(f"training run {run.pk}: study into {out_dir}")
        progress = StudyProgress(bars=not options["no_progress"], reporter=DatabaseReporter(run.pk))
        try:
            with _sigterm_interrupts(), Heartbeat(run.pk):
                outcome = run_study(
                    study_settings, data_dir, field_dir, out_dir, progress=progress, log=self.stdout.write
                )
            metrics = {"folds_trained": outcome.folds_trained, "folds_skipped": outcome.folds_skipped,
                       "run_seconds": outcome.seconds}  # fmt: skip
            if not options["no_report"]:
                metrics.update(self.report(out_dir))
        except Cancelled as cancelled:
            services.mark_training_run_cancelled(run.pk, reason=str(cancelled))
            raise CommandError(f"{cancelled}; rerun the same command to resume") from None
        except KeyboardInterrupt:
            services.mark_training_run_cancelled(run.pk, reason="interrupted (Ctrl-C or SIGTERM)")
            raise CommandError("interrupted; rerun the same command to resume") from None
        except StudyMismatch as mismatch:
            services.fail_training_run(run.pk, str(mismatch))
            raise CommandError(str(mismatch)) from None
        except BaseException:
            services.fail_training_run(run.pk, traceback.format_exc())
            raise
        services.finish_training_run(run.pk, metrics=metrics)
        self.stdout.write(self.style.SUCCESS(f"done in {outcome.seconds:.0f} s: {outcome.folds_trained} folds trained, "
                                             f"{outcome.folds_skipped} already stored"))  # fmt: skip

    def report(self, out_dir: Path) -> dict:
        from training.study.numbers import derive_numbers, headline_metrics
        from training.study.report import build_report
        from training.study.results import StudyFolder

        files = build_report(out_dir)
        self.stdout.write(f"report: {files.markdown} and {files.html} ({len(files.figures)} figures)")
        return headline_metrics(derive_numbers(StudyFolder(out_dir)))


@contextmanager
def _sigterm_interrupts():
    """SIGTERM (``kill``, a stopping container) ends the study like Ctrl-C: the run is marked cancelled
    and every stored fold is kept, instead of the record staying "running" until the stale sweep."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _shown(path: Path | str) -> str:
    """A path as the user would type it from the repository: relative when it is inside or beside it."""
    path = Path(path)
    if path.is_absolute():
        return os.path.relpath(path, settings.BASE_DIR)
    return str(path)
