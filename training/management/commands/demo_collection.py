"""Show officers' collection feeding retraining (issue 27), end to end on real photos.

1. The shared field photos (``--collected``, by default every field potato folder) become garden visits of a
   demo officer, stored through the same services the Collect page uses: one visit per class and date (or
   camera sequence) where the file names give one, else runs of ``--per-visit`` photos in name order; districts
   in turn. The base field photos are then the other field folders (the other crops' photos by default).
2. One retraining run: the collected photos join the field pool grouped by visit; the rule's grouped folds are
   trained again without them, and the run reports the field figures before and after, each kind of photo
   apart, with how many of each trained and were judged. Promotion follows its usual rules.

CPU is kept modest with ``--recipe balanced --image-size 128 --max-per-class 150`` by default: a head on cached
features of the frozen backbone (plain views), the lab photos capped. Run it on a scratch database, e.g.
``VAR_DIR=var/demo-collect python manage.py migrate`` first, then the same ``VAR_DIR`` for this command.
"""

from __future__ import annotations

import time
from datetime import timedelta
from itertools import cycle
from pathlib import Path
from uuid import NAMESPACE_URL, uuid5

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.test.utils import override_settings
from django.utils import timezone

from classifier.collection import services as collection_services
from classifier.models import District, GardenVisit
from classifier.registry import selectors as registry_selectors
from classifier.registry import services as registry_services
from classifier.registry.promotion import FIELD_FIGURE_NAMES
from classifier.validators import validate_photo
from training import retraining
from training.datasets import LabelledImage, list_class_images
from training.field.data import name_group
from training.selectors import training_run

DISTRICTS = (District.RUBANDA, District.KABALE, District.KISORO)


def demo_visits(folders: list[Path], per_visit: int) -> dict[str, list[LabelledImage]]:
    """The photos of ``folders`` as visits, by a name: one per class and named group (a date, a camera
    sequence), else runs of ``per_visit`` photos in name order."""
    visits: dict[tuple[str, str], list[LabelledImage]] = {}
    for folder in folders:
        loose: dict[str, list[LabelledImage]] = {}
        for image in list_class_images(folder):
            group = name_group(image.source, image.path.name)
            if group == f"{image.source}:{image.path.stem}":  # no date or sequence in its name
                loose.setdefault(image.label, []).append(image)
            else:
                visits.setdefault((group, image.label), []).append(image)
        for label, images in loose.items():
            for start in range(0, len(images), per_visit):
                visits[(f"{folder.name}:{label}:{start}", label)] = images[start : start + per_visit]
    return {f"{group}/{label}": images for (group, label), images in visits.items()}


class Command(BaseCommand):
    help = (
        "Turn the shared field photos into an officer's garden visits, retrain, and show the figures before and after."
    )

    def add_arguments(self, parser):
        data = Path(settings.DATA_ROOT)
        parser.add_argument(
            "--collected", type=Path, nargs="*", default=[data / "field-potato", data / "field-potato-magelang"]
        )
        parser.add_argument("--weights", default=settings.IMAGENET_WEIGHTS)
        parser.add_argument("--recipe", default="balanced", help="an arm of training.field.protocol.ARMS")
        parser.add_argument("--image-size", type=int, default=128)
        parser.add_argument("--max-per-class", type=int, default=150, help="cap the base photos of each class")
        parser.add_argument("--per-visit", type=int, default=5)
        parser.add_argument("--evaluation-fraction", type=float, default=0.3)

    def handle(self, *args, **options):
        started = time.monotonic()
        active = (
            registry_services.ensure_default_model(settings.DEFAULT_MODEL_DIR)
            or registry_selectors.active_model_version()
        )
        self.stdout.write(f"Active model before: v{active.number}")
        folders = [folder.resolve() for folder in options["collected"]]
        self._collect(folders, options["per_visit"])
        base_field = [path for path in settings.RETRAIN_FIELD_DATA if Path(path).resolve() not in folders]
        with override_settings(
            IMAGENET_WEIGHTS=options["weights"],
            RETRAIN_FIELD_DATA=base_field,
            RETRAIN_RECIPE=options["recipe"],
            RETRAIN_IMAGE_SIZE=options["image_size"],
            RETRAIN_MAX_PER_CLASS=options["max_per_class"],
            RETRAIN_EVALUATION_FRACTION=options["evaluation_fraction"],
        ):
            self.stdout.write(
                f"\nRetraining ({options['recipe']}, {options['image_size']} px, at most {options['max_per_class']} "
                f"base photos per class; base field folders: {', '.join(p.name for p in base_field) or 'none'}, "
                f"and {', '.join(p.name for p in settings.RETRAIN_FIELD_NEGATIVES)})..."
            )
            run = retraining.start_retraining("demo", enqueue=False)
            outcome = retraining.run_retraining(run.pk)
        run = training_run(run.pk)
        if run.error:
            self.stderr.write(run.error)
            return
        self._report(run.metrics, outcome)
        self.stdout.write(f"\nActive model after: v{registry_selectors.active_model_version().number}")
        self.stdout.write(f"Wall time: {time.monotonic() - started:.0f} s")

    def _collect(self, folders: list[Path], per_visit: int) -> None:
        officer, _ = get_user_model().objects.get_or_create(username="demo-collector")
        officer.groups.add(Group.objects.get_or_create(name="officers")[0])
        if GardenVisit.objects.filter(created_by=officer).exists():
            self.stdout.write("Visits already collected (a rerun): kept as they are.")
            return
        today, photos = timezone.localdate(), 0
        visits = demo_visits(folders, per_visit)
        for number, ((name, images), district) in enumerate(zip(visits.items(), cycle(DISTRICTS), strict=False)):
            # Ids from the names (as a phone's would be random): the split between training and evaluation,
            # a hash of the visit's id, is the same on every rerun.
            visit, _ = collection_services.open_visit(
                officer,
                district,
                f"Demo parish {number % 12 + 1}",
                today - timedelta(days=number % 300),
                label=images[0].label,
                farmer_agreed=True,
                visit_id=uuid5(NAMESPACE_URL, f"demo-collection/{name}"),
            )
            for image in images:
                clean = validate_photo(SimpleUploadedFile(image.path.name, image.path.read_bytes()))
                photo_id = uuid5(NAMESPACE_URL, f"demo-collection/{image.source}/{image.path.name}")
                collection_services.add_collected_photo(photo_id, visit.pk, officer, clean)
                photos += 1
        self.stdout.write(
            f"Collected: {photos} photos in {len(visits)} visits from {', '.join(f.name for f in folders)}"
        )

    def _report(self, metrics: dict, outcome: str) -> None:
        counts = metrics.get("photos_by_source") or {}
        self.stdout.write(
            f"  outcome: {outcome}; model v{metrics['model_version']}; classes {', '.join(metrics['classes'])}"
        )
        self.stdout.write(f"  {'photos':<28}{'trained':>9}{'judged (CV)':>13}{'evaluation':>12}")
        evaluation_names = {"uploads": "field"}
        for kind in ("lab", "shared", "uploads", "collected"):
            trained = counts.get("trained", {}).get(kind, 0)
            judged = counts.get("cross_validated", {}).get(kind, 0)
            evaluated = counts.get("evaluation_set", {}).get(evaluation_names.get(kind, kind), 0)
            if trained or judged or evaluated:
                self.stdout.write(f"  {kind:<28}{trained:>9}{judged:>13}{evaluated:>12}")
        collection = metrics.get("collection")
        if not collection:
            self.stdout.write("  no before/after: too few field photos for a cross-validation")
        else:
            self.stdout.write(
                "\n  Field figures on the same grouped folds, trained without / with the collected photos:"
            )
            names = {
                **FIELD_FIGURE_NAMES,
                **{
                    f"recall_{c}": f"{c.replace('_', ' ')} recall (top 1)"
                    for c in ("early_blight", "late_blight", "healthy", "bacterial_wilt")
                },
            }
            for subset in collection["subsets"]:
                potato = subset["after"].get("field_potato_photos")
                self.stdout.write(f"  on {subset['photos']} photos ({subset['judged']} judged, {potato} potato):")
                for name, words in names.items():
                    before, after = subset["before"].get(name), subset["after"].get(name)
                    if before is None and after is None:
                        continue
                    shown = [f"{value:>9.1%}" if value is not None else f"{'–':>9}" for value in (before, after)]
                    self.stdout.write(f"    {words:<34}{shown[0]}{shown[1]}")
        scores = (metrics.get("candidate_by_source") or {}), (metrics.get("active_by_source") or {})
        for source in sorted(scores[0]):
            entry, before = scores[0][source], scores[1].get(source, {})
            self.stdout.write(
                f"  evaluation set, {source} ({entry['support']}): candidate {entry['recall']:.1%}, "
                f"active {before.get('recall', float('nan')):.1%}"
            )
        self.stdout.write(
            "  (the active model, the shipped one, trained on the originals of these shared field photos: its\n"
            "  figures on them are not held out, unlike the candidate's)"
        )
        verdict = "promoted" if metrics["promoted"] else "stayed a candidate: " + "; ".join(metrics["reasons"])
        self.stdout.write(f"  {verdict}")
