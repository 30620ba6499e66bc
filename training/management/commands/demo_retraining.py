"""Show retraining working end to end on real photos.

1. Officers' labels are simulated from ``field-potato``: every photo is uploaded as a farmer
   would, diagnosed by the active model, and labelled with its true class by a demo officer.
2. Retraining: half of those labelled photos (by a hash of their content) form the field part of
   the evaluation set, the other half join the training data. The candidate is scored beside the
   active model on the same photos and promoted if it clears the policy.
3. A deliberately bad candidate (trained on shuffled labels) is refused.

Run it on a scratch database, e.g. ``VAR_DIR=var/demo python manage.py migrate`` first, then
``VAR_DIR=var/demo python manage.py demo_retraining --weights ../shared/weights/...no_top.h5``.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.test.utils import override_settings

from classifier.labels import services as label_services
from classifier.models import Label
from classifier.registry import selectors as registry_selectors
from classifier.registry import services as registry_services
from classifier.registry.promotion import FIELD_FIGURE_NAMES
from classifier.submissions import services as submission_services
from classifier.tasks import diagnose_submission
from classifier.validators import validate_photo
from training import retraining
from training.datasets import list_class_images
from training.selectors import training_run


class Command(BaseCommand):
    help = "Simulate officers labelling field photos, retrain, promote; then show a bad candidate refused."

    def add_arguments(self, parser):
        parser.add_argument("--field", type=Path, default=Path(settings.DATA_ROOT) / "field-potato")
        parser.add_argument("--weights", default=settings.IMAGENET_WEIGHTS)
        parser.add_argument("--evaluation-fraction", type=float, default=0.5)
        parser.add_argument("--skip-bad", action="store_true", help="skip the shuffled-labels candidate")

    def handle(self, *args, **options):
        shipped = (
            registry_services.ensure_default_model(settings.DEFAULT_MODEL_DIR)
            or registry_selectors.active_model_version()
        )
        self.stdout.write(f"Active model before: v{shipped.number}")
        officer = self._officer()
        labelled = self._label_field_photos(options["field"], officer)
        self.stdout.write(f"Officer labels on field photos: {labelled}")

        # The simulated officers' photos are not also base field photos (no copy on both sides).
        simulated = options["field"].resolve()
        base_field = [path for path in settings.RETRAIN_FIELD_DATA if Path(path).resolve() != simulated]
        with override_settings(
            IMAGENET_WEIGHTS=options["weights"],
            RETRAIN_EVALUATION_FRACTION=options["evaluation_fraction"],
            RETRAIN_FIELD_DATA=base_field,
        ):
            good = self._retrain(shuffle_labels=False)
            if not options["skip_bad"]:
                self._retrain(shuffle_labels=True)
        active = registry_selectors.active_model_version()
        self.stdout.write(self.style.SUCCESS(f"Active model after: v{active.number} (good candidate: v{good})"))

    def _officer(self):
        user, _ = get_user_model().objects.get_or_create(username="demo-officer")
        user.groups.add(Group.objects.get_or_create(name="officers")[0])
        return user

    def _label_field_photos(self, field_dir: Path, officer) -> int:
        if Label.objects.filter(created_by=officer).exists():
            return Label.objects.filter(created_by=officer, is_current=True).count()
        count = 0
        for item in list_class_images(field_dir):
            photo = validate_photo(SimpleUploadedFile(item.path.name, item.path.read_bytes()))
            submission = submission_services.create_submission(photo, "kabale")
            diagnose_submission.run(str(submission.id))
            label_services.label_submission(submission.id, officer, label=item.label)
            count += 1
        return count

    def _retrain(self, shuffle_labels: bool) -> int | None:
        title = "Bad candidate (shuffled labels)" if shuffle_labels else "Candidate from officers' labels"
        self.stdout.write(f"\n{title}: training...")
        run = retraining.start_retraining("demo", shuffle_labels=shuffle_labels, enqueue=False)
        outcome = retraining.run_retraining(run.pk)
        run = training_run(run.pk)
        if run.error:
            self.stderr.write(run.error)
            return None
        metrics = run.metrics
        self.stdout.write(
            f"  outcome: {outcome}; model v{metrics['model_version']}; training photos {metrics['training_photos']} "
            f"(labelled uploads {metrics['labelled_uploads']}); "
            f"evaluation set {metrics['evaluation_set']}: {metrics['evaluation_photos']} photos"
        )
        self.stdout.write(f"  {'':<22}{'active':>10}{'candidate':>11}")
        self.stdout.write(
            f"  {'accuracy, all':<22}{metrics['active_accuracy']:>10.3f}{metrics['candidate_accuracy']:>11.3f}"
        )
        for source in ("field", "lab"):
            before = (metrics["active_by_source"] or {}).get(source, {})
            after = metrics["candidate_by_source"].get(source, {})
            if after:
                label = f"accuracy, {source} ({after['support']})"
                self.stdout.write(f"  {label:<22}{before.get('recall', float('nan')):>10.3f}{after['recall']:>11.3f}")
        self._field_figures(metrics.get("field") or {})
        verdict = "promoted" if metrics["promoted"] else "refused: " + "; ".join(metrics["reasons"])
        self.stdout.write(f"  {verdict}")
        return metrics["model_version"]

    def _field_figures(self, field: dict) -> None:
        """What each model would show farmers on field photos, as promotion read it."""
        same = field.get("same_photos")
        mine, theirs = (same["candidate"], same["active"]) if same else (field.get("candidate"), field.get("active"))
        if not mine:
            self.stdout.write("  field photos: the candidate was not measured on any (too few for a cross-validation)")
            return
        where = "the same photos" if same else "each model's cross-validation"
        self.stdout.write(f"  on field potato photos ({mine['field_potato_photos']:.0f}, {where}):")
        for name, words in FIELD_FIGURE_NAMES.items():
            before, after = (theirs or {}).get(name), mine.get(name)
            if after is not None:
                shown_before = f"{before:>10.3f}" if before is not None else f"{'–':>10}"
                self.stdout.write(f"  {words:<30}{shown_before}{after:>11.3f}")
