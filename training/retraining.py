"""Retraining on officers' labels: gather the data, train a candidate with the shipped model's field
recipe (its decision rule fitted by the same grouped cross-validation), score it beside the active
model on the fixed evaluation set, register it, and promote it only when it clears the policy.

The data is every checked field photo (``classifier.checked``: farmers' reviewed uploads and officers'
collected photos, each group one case or garden visit). When officers' collected photos are among them, the
same grouped folds are trained again without them, so the run reports the field figures before and after,
each kind of photo apart (``training.field.evidence.collection_comparison``); promotion is unchanged.

``start_retraining`` is what ``manage.py retrain``, the dashboard button and the schedule call;
``run_retraining`` is the work itself, on the training worker (or in-process for the CLI).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from classifier import checked
from classifier.evaluation import evaluate_items
from classifier.inference import Predictor
from classifier.labels import selectors as label_selectors
from classifier.models import EvaluationSet, ModelVersion, ModelVersionChange
from classifier.registry import selectors as registry_selectors
from classifier.registry import services as registry_services
from classifier.registry.model_files import path_sha256
from classifier.registry.promotion import FieldComparison, ModelEvidence, PromotionPolicy, decide_promotion
from training import selectors, services
from training.datasets import LabelledImage, hash_fraction, list_class_images
from training.field.data import COLLECTED_SOURCE, UPLOADS_SOURCE, Pools
from training.field.evidence import (
    SHARED,
    collection_comparison,
    cross_validated_answers,
    model_answers,
    registered_field_figures,
    unseen_field_photos,
)
from training.field.protocol import ARMS, CHOSEN, LeftOut, run_protocol, scaled, without_arm
from training.field.train import FieldTrainingConfig, fit_decision_rule, train_field_model
from training.models import TrainingRun
from training.progress import RunProgress, TrainingCancelled
from training.runner import Heartbeat, RunNoLongerRunning, locked_running_run

logger = logging.getLogger(__name__)
CROSS_VALIDATION_FOLDS = 5


class RetrainingAlreadyRunning(Exception):
    pass


#: The kinds of field photo a run's figures and counts give apart, never mixed: farmers' reviewed uploads and
#: officers' collected photos (the rest are the shared data folders every model starts from).
UPLOADS, COLLECTED = "uploads", "collected"


@dataclass
class RetrainingData:
    pools: Pools
    evaluation: list[dict] = field(default_factory=list)  # {"source", "key", "label", "sha256", "path"}
    labelled_uploads: int = 0
    collected_photos: int = 0
    kinds: dict[str, set[str]] = field(default_factory=dict)  # UPLOADS/COLLECTED -> pool keys (training side)

    @property
    def has_collected(self) -> bool:
        return bool(self.kinds.get(COLLECTED))

    def kind(self, key: str) -> str:
        return next((name for name, keys in self.kinds.items() if key in keys), SHARED)


# -- starting ---------------------------------------------------------------------------------


def start_retraining(created_by: str, shuffle_labels: bool = False, enqueue: bool = True) -> TrainingRun:
    """Queue one retraining run; refuses while another is queued or running (one at a time)."""
    parameters = {
        "shuffle_labels": shuffle_labels,
        "labels_at_start": label_selectors.current_labels().count(),
        "visits_at_start": checked.checked_visit_labels().count(),
    }
    try:
        with transaction.atomic():
            run = services.create_training_run(TrainingRun.Kind.RETRAIN, created_by, parameters)
    except IntegrityError:
        raise RetrainingAlreadyRunning("A retraining run is already queued or running.") from None
    if enqueue:
        transaction.on_commit(lambda: _publish(run.pk))
    return run


def _publish(run_id: int) -> None:
    """Send the run to the training worker; if Redis is unreachable, fail the run at once so that
    it does not block every later one."""
    from training.tasks import retrain_model

    try:
        retrain_model.apply_async(args=[run_id])
    except Exception:  # kombu raises many kinds of connection errors
        logger.exception("could not enqueue retraining run %s", run_id)
        services.fail_training_run(run_id, "could not reach the task queue (Redis) to start it")


def new_labels_since_last_run() -> int:
    """Officer labels made since the last retraining run that finished: cases' and garden visits' (a visit
    counts once, as a case does)."""
    last = selectors.latest_training_run(TrainingRun.Kind.RETRAIN, TrainingRun.Status.DONE)
    labels, visits = label_selectors.current_labels(), checked.checked_visit_labels()
    if last and last.started_at:
        labels, visits = labels.filter(created_at__gt=last.started_at), visits.filter(created_at__gt=last.started_at)
    return labels.count() + visits.count()


# -- the work ---------------------------------------------------------------------------------


def run_retraining(run_id: int, task_id: str = "") -> str:
    """Do one queued run. Safe to call twice: only the call that moves it to running does the work."""
    if not services.start_training_run(run_id, task_id):
        return "skipped"  # redelivered, cancelled, or already finished
    run = selectors.training_run(run_id)
    work_dir = Path(settings.RETRAIN_WORK_DIR) / f"run-{run_id}"
    stored: list[str] = []
    try:
        with Heartbeat(run_id):
            outcome = _retrain(run, work_dir, stored)
    except RunNoLongerRunning as stopped:  # failed by the sweeper, or cancelled, while it worked
        logger.warning("retraining run %s dropped its results: %s", run_id, stopped)
        _remove(stored)
        services.mark_training_run_cancelled(run_id, reason="cancelled by an admin")
        return "abandoned"
    except TrainingCancelled:
        _remove(stored)
        services.mark_training_run_cancelled(run_id, reason="cancelled by an admin")
        return "cancelled"
    except Exception:
        logger.exception("retraining run %s failed", run_id)
        _remove(stored)
        services.fail_training_run(run_id, traceback.format_exc())
        return "failed"
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return outcome


def _retrain(run: TrainingRun, work_dir: Path, stored: list[str]) -> str:
    progress = RunProgress(run.pk)
    progress.say("gathering images")
    config = retraining_config(work_dir / "features")
    data = gather_retraining_data(config, work_dir / "uploads")
    comparing = data.has_collected
    progress.total = CROSS_VALIDATION_FOLDS * (2 if comparing else 1) + 3
    progress.step(0, "cross-validating on the field photos to fit the decision rule")
    cross_validation = work_dir / "cross-validation"
    rule = fit_decision_rule(config, data.pools, cross_validation, CROSS_VALIDATION_FOLDS, progress.log)
    collection = None
    if comparing and rule is not None:
        progress.step(CROSS_VALIDATION_FOLDS + 1, "the same folds without the collected photos (before and after)")
        collection = compare_collected(config, data, cross_validation, progress.log)
    progress.step(progress.total - 2, "training the candidate on every photo")
    out_dir = work_dir / "model"
    summary = train_field_model(
        config,
        out_dir,
        rule,
        pools=data.pools,
        log=progress.log,
        shuffle_labels=bool(run.parameters.get("shuffle_labels")),
    )
    progress.step(progress.total - 1, "scoring candidate and active model on evaluation and field photos")
    active = registry_selectors.active_model_version()
    active_predictor = Predictor.for_version(active) if active else None
    candidate = TrainedCandidate(
        out_dir=out_dir,
        summary=summary,
        data=data,
        trained_on=data.pools.lab_train + data.pools.field,
        scores=score(Predictor.from_directory(out_dir), data.evaluation),
        active=active,
        active_scores=score(active_predictor, data.evaluation) if active else None,
        field=field_evidence(cross_validation if rule else None, config, data, active, active_predictor),
        collection=collection,
    )
    # The last step is all or nothing, with the run locked and still running: register, score,
    # maybe activate, finish. A failure anywhere rolls every row back, and run_retraining deletes
    # the files of the version that never committed (the active model's are never touched).
    with transaction.atomic():
        locked_running_run(run.pk)
        return _register_and_finish(run, candidate, stored)


@dataclass
class TrainedCandidate:
    out_dir: Path
    summary: dict
    data: RetrainingData
    trained_on: list
    scores: dict
    active: ModelVersion | None
    active_scores: dict | None
    field: FieldEvidence
    collection: dict | None = None


@dataclass
class FieldEvidence:
    """Both models' field figures for promotion (``training.field.evidence``), ``None`` where not measured."""

    candidate: dict | None
    active: dict | None
    compared: FieldComparison | None

    def as_dict(self) -> dict:
        compared = self.compared and {"candidate": self.compared.candidate, "active": self.compared.active}
        return {"candidate": self.candidate, "active": self.active, "same_photos": compared}


def compare_collected(config: FieldTrainingConfig, data: RetrainingData, folder: Path, log) -> dict | None:
    """Train the rule's grouped folds again without officers' collected photos (the held-out folds unchanged),
    and compare: the field figures before and after, on every field photo and on each kind apart."""
    arm = config.recipe.name
    run_protocol(
        data.pools,
        folder,
        config.reject_label,
        config.weights,
        arms=[arm],
        folds=CROSS_VALIDATION_FOLDS,
        repeats=1,
        copies=config.copies,
        cache_dir=config.cache_dir,
        recipes={arm: config.recipe},
        log=log,
        left_out=LeftOut(COLLECTED, frozenset(data.kinds[COLLECTED])),
    )
    return collection_comparison(folder, arm, without_arm(arm, COLLECTED), data.kinds)


def photo_counts(data: RetrainingData, cross_validated: bool) -> dict:
    """How many photos of each kind the candidate trained on and was scored on, never mixed: ``lab``,
    ``shared`` field photos, farmers' reviewed ``uploads`` and officers' ``collected`` photos; scored in
    the grouped cross-validation (each field photo of the pool judged once, by a fold that did not train on
    it) and on the evaluation set (held out from training altogether)."""
    field_kinds = Counter(data.kind(image.key) for image in data.pools.field)
    return {
        "trained": {"lab": len(data.pools.lab_train), **field_kinds},
        "cross_validated": dict(field_kinds) if cross_validated else {},
        "evaluation_set": dict(Counter(item["source"] for item in data.evaluation)),
    }


def field_evidence(
    cross_validation: Path | None, config: FieldTrainingConfig, data: RetrainingData, active, active_predictor
) -> FieldEvidence:
    """The candidate's cross-fitted field figures, the active model's registered ones, and both on the
    field photos the active model did not train on (the candidate never trained on any photo of its
    own out-of-fold predictions)."""
    answers = cross_validated_answers(cross_validation, config.recipe.name) if cross_validation else None
    candidate = answers.figures() if answers else None
    if active is None:
        return FieldEvidence(candidate, None, None)
    registered = registered_field_figures(active)
    uploads = {image.path for image in config.extra_field}
    base_keys = {image.key for image in data.pools.field if image.path not in uploads}
    judged = answers.keys if answers else set()
    unseen = [image for image in unseen_field_photos(active, data.pools.field, base_keys) if image.key in judged]
    if not unseen:
        return FieldEvidence(candidate, registered, None)
    keys = {image.key for image in unseen}
    compared = FieldComparison(answers.figures(keys), model_answers(active_predictor, unseen).figures(keys))
    return FieldEvidence(candidate, registered, compared)


def _register_and_finish(run: TrainingRun, candidate: TrainedCandidate, stored: list[str]) -> str:
    """Inside the run's final transaction: register the candidate, promote it if the policy allows."""
    data, summary, active = candidate.data, candidate.summary, candidate.active
    candidate_scores, active_scores, trained_on = candidate.scores, candidate.active_scores, candidate.trained_on
    evaluation_set = evaluation_set_for(data.evaluation)
    policy = PromotionPolicy(settings.PROMOTION_ACCURACY_FLOOR, settings.PROMOTION_RECALL_TOLERANCE)
    field = candidate.field
    decision = decide_promotion(
        ModelEvidence(candidate_scores, has_rule=bool(summary["decision_rule"]), field=field.candidate),
        ModelEvidence(active_scores, has_rule=bool(active.decision), field=field.active) if active else None,
        policy,
        field.compared,
    )
    snapshot = json.dumps({"train": [_snapshot_entry(image.image) for image in trained_on]})
    version = registry_services.register_model_version(
        candidate.out_dir,
        created_by=run.created_by,
        metrics={"training": summary["fit"], "train_seconds": summary["train_seconds"], "field": field.candidate},
        parent=active,
        notes=f"retraining run {run.pk}",
    )
    stored += [version.model_file.name, *version.file_hashes]  # the TFLite and the Keras file
    version.data_snapshot.save("data.json", ContentFile(snapshot.encode()), save=False)
    stored.append(version.data_snapshot.name)
    version.evaluation_set = evaluation_set
    version.evaluation = {
        "candidate": candidate_scores,
        "active": active_scores,
        "active_version": active and active.number,
        "field": field.as_dict(),
        "collection": candidate.collection,
        "promotion": decision.as_dict(),
    }
    version.promotion_note = decision.summary
    version.save(update_fields=["data_snapshot", "evaluation_set", "evaluation", "promotion_note"])
    if decision.promote:
        registry_services.activate_model_version(
            version, ModelVersionChange.Action.AUTO_PROMOTE, actor="retraining", reason=decision.summary
        )
    metrics = {
        "model_version": version.number,
        "promoted": decision.promote,
        "reasons": decision.reasons,
        "candidate_accuracy": candidate_scores["accuracy"],
        "active_accuracy": active_scores["accuracy"] if active_scores else None,
        "candidate_by_source": candidate_scores["per_folder"],
        "active_by_source": active_scores["per_folder"] if active_scores else None,
        "field": field.as_dict(),
        "training_photos": len(trained_on),
        "labelled_uploads": data.labelled_uploads,
        "collected_photos": data.collected_photos,
        "photos_by_source": photo_counts(data, cross_validated=bool(summary["decision_rule"])),
        "collection": candidate.collection,
        "evaluation_photos": len(data.evaluation),
        "evaluation_set": evaluation_set.number,
        "classes": summary["classes"],
        "decision_rule": summary["decision_rule"],
    }
    if not services.finish_training_run(run.pk, metrics=metrics, model_version=version):
        raise RunNoLongerRunning(f"run {run.pk} could not be finished")
    return "promoted" if decision.promote else "candidate"


def retraining_config(cache_dir: Path | None = None) -> FieldTrainingConfig:
    """The shipped model's recipe (or ``RETRAIN_RECIPE``'s arm) on the retraining data; the input size and epoch
    cap from settings."""
    weights = settings.IMAGENET_WEIGHTS
    name = settings.RETRAIN_RECIPE or CHOSEN
    if name not in ARMS:
        raise ValueError(f"RETRAIN_RECIPE {name!r} is not one of {', '.join(ARMS)}")
    recipe = ARMS[name]
    return FieldTrainingConfig(
        lab_dir=settings.RETRAIN_BASE_DATA,
        lab_negatives=settings.RETRAIN_NEGATIVES,
        field_dirs=settings.RETRAIN_FIELD_DATA,
        field_negatives=settings.RETRAIN_FIELD_NEGATIVES,
        reject_label=settings.REJECT_LABEL,
        weights=None if weights in ("", "none", "None") else weights,
        recipe=scaled(
            recipe, image_size=settings.RETRAIN_IMAGE_SIZE or recipe.image_size, epochs=settings.RETRAIN_HEAD_EPOCHS
        ),
        max_per_class=settings.RETRAIN_MAX_PER_CLASS,
        cache_dir=cache_dir,
    )


def gather_retraining_data(config: FieldTrainingConfig, upload_dir: Path) -> RetrainingData:
    """The base lab and field photos, plus every checked field photo (``classifier.checked``: each usable photo
    of a case officers confirmed, corrected or rejected as not a potato leaf, and of a garden visit an officer
    labelled with a class), which join the field pool, one group per case or visit. Cases and visits are split
    by a hash of their id, so a garden's photos are all on one side: a fixed share goes to the evaluation set,
    never to training (nor does a field photo with the same content as one of them)."""
    uploads_train, uploads_evaluation = [], []
    groups: dict[tuple[str, str], list[checked.CheckedPhoto]] = {}
    for photo in checked.checked_field_photos():
        groups.setdefault((photo.source, photo.group), []).append(photo)
    for (_, group), photos in groups.items():
        items = _export_checked(photos, upload_dir)
        if hash_fraction(group, "evaluation") < settings.RETRAIN_EVALUATION_FRACTION:
            uploads_evaluation += items
        else:
            uploads_train += items

    # A class new to every collection joins once officers labelled enough photos of it.
    known = {item.label for item in list_base_images(config)} | {settings.REJECT_LABEL}
    upload_counts = Counter(item.image.label for item in uploads_train)
    known |= {name for name, count in upload_counts.items() if count >= settings.RETRAIN_MIN_CLASS_IMAGES}
    config.extra_field = [item.image for item in uploads_train if item.image.label in known]
    pools = config.pools()
    held_out = {item.sha256 for item in uploads_evaluation}
    pools.field = [image for image in pools.field if path_sha256(image.path) not in held_out]
    exported = {item.image.path: item.image.source for item in uploads_train}
    kinds = {UPLOADS: set(), COLLECTED: set()}
    for image in pools.field:
        if image.path in exported:
            kinds[UPLOADS if exported[image.path] == UPLOADS_SOURCE else COLLECTED].add(image.key)
    evaluation = [
        {"source": "lab", "key": _relative(image.path), "label": image.label, "path": str(image.path)}
        for image in pools.lab_holdout
    ] + [
        {
            "source": item.image.source,
            "key": item.key,
            "label": item.image.label,
            "sha256": item.sha256,
            "path": str(item.image.path),
        }
        for item in uploads_evaluation
        if item.image.label in known
    ]
    everything = uploads_train + uploads_evaluation
    return RetrainingData(
        pools,
        evaluation,
        labelled_uploads=sum(item.image.source == UPLOADS_SOURCE for item in everything),
        collected_photos=sum(item.image.source == COLLECTED_SOURCE for item in everything),
        kinds=kinds,
    )


def list_base_images(config: FieldTrainingConfig) -> list[LabelledImage]:
    """The class folders' photos (lab and field) the retraining starts from."""
    return [item for folder in [config.lab_dir, *config.field_dirs] for item in list_class_images(folder)]


@dataclass
class ExportedUpload:
    image: LabelledImage
    key: str
    sha256: str


#: How a checked photo's source is named in training (``training.field.data``) and in keys.
_TRAINING_SOURCE = {checked.UPLOADS: UPLOADS_SOURCE, checked.COLLECTED: COLLECTED_SOURCE}
_KEY_PREFIX = {UPLOADS_SOURCE: "submission", COLLECTED_SOURCE: "collected"}


def _export_checked(photos: list[checked.CheckedPhoto], upload_dir: Path) -> list[ExportedUpload]:
    """Copy one case's or visit's checked photos out of media storage into the run's folder, each its own file
    labelled with the group's label: a case's ``<label>/<case id>.jpg`` then ``<case id>-<n>.jpg``, a visit's
    ``collected/<label>/<visit id>-<photo id>.jpg`` (``training.field.data.case_group`` reads the group back)."""
    exported = []
    for photo in photos:
        with default_storage.open(photo.image, "rb") as source:
            content = source.read()
        training_source = _TRAINING_SOURCE[photo.source]
        folder = upload_dir if photo.source == checked.UPLOADS else upload_dir / COLLECTED_SOURCE
        target = folder / photo.label / f"{photo.name}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        exported.append(
            ExportedUpload(
                LabelledImage(target, photo.label, source=training_source),
                f"{_KEY_PREFIX[training_source]}:{photo.name}",
                hashlib.sha256(content).hexdigest(),
            )
        )
    return exported


def evaluation_set_for(items: list[dict]) -> EvaluationSet:
    """The versioned evaluation set with exactly these photos (a new version when they change)."""
    entries = sorted(({k: v for k, v in item.items() if k != "path"} for item in items), key=lambda e: e["key"])
    fingerprint = hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()
    existing = EvaluationSet.objects.filter(fingerprint=fingerprint).first()
    if existing:
        return existing
    number = (EvaluationSet.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    return EvaluationSet.objects.create(number=number, fingerprint=fingerprint, items=entries)


def score(predictor: Predictor, items: list[dict]) -> dict:
    """Accuracy and per-class recall on the evaluation photos, with per-source (lab/field) recall."""
    return evaluate_items(predictor, [(item["path"], item["label"], item["source"]) for item in items])


def _snapshot_entry(item: LabelledImage) -> dict:
    return {
        "key": _relative(item.path, item.source),
        "label": item.label,
        "sha256": path_sha256(item.path),
    }


def _relative(path: Path, source: str = UPLOADS_SOURCE) -> str:
    """Data photos by their path under DATA_ROOT; uploads by their case id (and position after the first),
    collected photos by their visit's and their own id."""
    path = Path(path)
    try:
        return str(path.relative_to(settings.DATA_ROOT))
    except ValueError:
        return f"{_KEY_PREFIX.get(source, 'submission')}:{path.stem}"


def _remove(names: list[str]) -> None:
    """Remove artifacts a failed run stored; the active model is untouched."""
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("could not remove %s", name)


def fail_stale_runs() -> int:
    """Runs whose worker stopped reporting (killed, machine lost): failed, their folder removed."""
    failed = 0
    for run in selectors.stale_training_runs(settings.RETRAIN_STALE_SECONDS):
        if services.fail_training_run(run.pk, "the training worker stopped reporting (killed or lost)"):
            shutil.rmtree(Path(settings.RETRAIN_WORK_DIR) / f"run-{run.pk}", ignore_errors=True)
            failed += 1
    return failed
