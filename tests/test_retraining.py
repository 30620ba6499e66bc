"""Retraining, CI-sized: tiny data, 32x32 images, untrained backbone, one epoch of the head."""

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from classifier.inference import Predictor
from classifier.labels import services as label_services
from classifier.models import ModelVersion, ModelVersionChange
from classifier.registry import selectors as registry_selectors
from classifier.registry import services as registry_services
from classifier.registry.promotion import PromotionDecision
from classifier.submissions import services as submission_services
from classifier.tasks import diagnose_submission
from classifier.validators import validate_photo
from tests.conftest import wait_until
from tests.images import DATA_ROOT, heldout_photos
from training import retraining
from training.models import TrainingRun

pytestmark = pytest.mark.tensorflow


def copy_photos(paths, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        shutil.copy(path, folder / path.name)


@pytest.fixture
def tiny_retraining(settings, tmp_path):
    base = tmp_path / "base"
    copy_photos(heldout_photos("early_blight", 8), base / "early_blight")
    copy_photos(heldout_photos("late_blight", 8), base / "late_blight")
    negatives = tmp_path / "negatives"
    copy_photos(sorted((DATA_ROOT / "plantvillage-negatives" / "Pepper__bell___healthy").iterdir())[:8], negatives)
    settings.RETRAIN_BASE_DATA = base
    settings.RETRAIN_NEGATIVES = [negatives]
    settings.RETRAIN_FIELD_DATA = []
    settings.RETRAIN_FIELD_NEGATIVES = []
    settings.RETRAIN_WORK_DIR = tmp_path / "work"
    settings.IMAGENET_WEIGHTS = "none"
    settings.RETRAIN_IMAGE_SIZE = 32
    settings.RETRAIN_HEAD_EPOCHS = 1
    settings.RETRAIN_EVALUATION_FRACTION = 0.5
    settings.RETRAIN_MIN_CLASS_IMAGES = 2
    settings.PROMOTION_ACCURACY_FLOOR = 0.0
    settings.PROMOTION_RECALL_TOLERANCE = 1.0
    # The heartbeat thread has its own database connection, which cannot see the test's uncommitted
    # transaction (and on SQLite would wait for its lock): it beats in its own test below.
    settings.TRAINING_HEARTBEAT_SECONDS = 3600
    return tmp_path


@pytest.fixture(scope="module")
def _trained_candidates(tmp_path_factory) -> dict:
    return {"folder": tmp_path_factory.mktemp("trained-candidates")}


@pytest.fixture
def one_trained_candidate(_trained_candidates, monkeypatch):
    """Train each tiny candidate once per module; a later run asking for the same one gets a copy.

    For the tests about what happens after training (promotion policy, crashes in the final
    step, the sweeper, the demo's output): each real training pays mostly for its TFLite
    conversion, 15-20 s on these cores. "The same" means the same classes, decision rule and
    label shuffling; the photos may differ (these tests do not look at what the model learnt).
    The tests about training itself, and the worker's, train for real every time.
    """
    real_train = retraining.train_field_model
    cache = _trained_candidates

    def train_once(config, out_dir, rule, pools=None, **kwargs):
        pools = pools or config.pools()
        labels = sorted({image.label for image in pools.everything})
        key = json.dumps([labels, rule.as_dict() if rule else None, bool(kwargs.get("shuffle_labels"))])
        if key not in cache:
            summary = real_train(config, out_dir, rule, pools=pools, **kwargs)
            folder = cache["folder"] / f"candidate-{len(cache)}"
            shutil.copytree(out_dir, folder)
            cache[key] = (folder, summary)
        folder, summary = cache[key]
        shutil.copytree(folder, out_dir, dirs_exist_ok=True)
        return json.loads(json.dumps(summary))

    monkeypatch.setattr(retraining, "train_field_model", train_once)


def officer():
    return get_user_model().objects.get_or_create(username="officer-kabale")[0]


def labelled_upload(path: Path, label: str) -> None:
    photo = validate_photo(SimpleUploadedFile(path.name, path.read_bytes()))
    submission = submission_services.create_submission(photo, "kabale")
    diagnose_submission.run(str(submission.id))
    label_services.label_submission(submission.id, officer(), label=label)


def field_photos(label: str, count: int) -> list[Path]:
    return sorted((DATA_ROOT / "field-potato" / label).iterdir())[:count]


@pytest.mark.django_db
def test_retraining_learns_officer_labels_but_never_promotes_a_model_without_a_rule(tiny_retraining, active_model):
    """18 officer labels and no base field photos: too few to fit a decision rule, so the candidate would
    answer with the old rule; however its lab accuracy compares, it stays a candidate (issue 25, item 1)."""
    for path in field_photos("late_blight", 6):
        labelled_upload(path, "late_blight")
    label_services.add_label_class("potato_virus_y", "Potato virus Y", created_by=officer())  # an admin adds it
    # A class new to the model, labelled by officers. Cases split between training and evaluation by a hash
    # of their random id: 12 of them leave fewer than the 2 it needs to join training 13 times in 4,096.
    for path in field_photos("early_blight", 12):
        labelled_upload(path, "potato_virus_y")

    run = retraining.start_retraining("admin-test", enqueue=False)
    assert retraining.run_retraining(run.pk) == "candidate"
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.DONE and run.progress_step == run.progress_total
    assert registry_selectors.active_model_version() == active_model
    new = ModelVersion.objects.get(number=active_model.number + 1)
    assert new.status == ModelVersion.Status.CANDIDATE and new.decision == {}
    reasons = new.evaluation["promotion"]["reasons"]
    assert any("no fitted decision rule" in reason for reason in reasons), reasons
    assert any("not measured on field photos" in reason for reason in reasons), reasons
    assert run.metrics["reasons"] == reasons and not run.metrics["promoted"]
    assert new.parent == active_model
    assert "potato_virus_y" in new.labels and run.model_version == new
    assert run.metrics["labelled_uploads"] == 18

    snapshot = json.loads(new.data_snapshot.read())
    assert all(entry["sha256"] and entry["label"] for entry in snapshot["train"])
    evaluation_keys = {item["key"] for item in new.evaluation_set.items}
    training_keys = {entry["key"] for entry in snapshot["train"]}
    assert evaluation_keys and not evaluation_keys & training_keys  # held out means held out
    assert {item["source"] for item in new.evaluation_set.items} == {"lab", "field"}
    assert new.evaluation["candidate"]["count"] == new.evaluation["active"]["count"]  # the same photos

    # An admin may still promote it by hand, having read the reasons.
    registry_services.activate_model_version(new, reason="read the reasons; field trial", user=officer())
    change = ModelVersionChange.objects.get(version=new)
    assert change.action == "promote" and change.previous == active_model
    active_model.refresh_from_db()
    assert active_model.status == ModelVersion.Status.RETIRED
    assert not (tiny_retraining / "work" / f"run-{run.pk}").exists()

    # Workers follow the switch on their next task, without a restart.
    from classifier.inference import predictor_for

    assert predictor_for(new).labels == new.labels

    registry_services.roll_back_to(active_model, officer(), "field reports disagree")
    assert registry_selectors.active_model_version() == active_model
    assert ModelVersionChange.objects.filter(action="rollback", version=active_model).exists()


@pytest.mark.django_db
def test_retraining_fits_the_decision_rule_on_the_field_pool(tiny_retraining, settings, active_model, monkeypatch):
    field = tiny_retraining / "field"
    copy_photos(field_photos("late_blight", 30), field / "late_blight")
    copy_photos(field_photos("early_blight", 30), field / "early_blight")
    settings.RETRAIN_FIELD_DATA = [field]
    fitted = []
    real_fit = retraining.fit_decision_rule

    def fit_and_keep(*args, **kwargs):
        fitted.append(real_fit(*args, **kwargs))
        return fitted[-1]

    monkeypatch.setattr(retraining, "fit_decision_rule", fit_and_keep)
    run = retraining.start_retraining("admin-test", enqueue=False)
    assert retraining.run_retraining(run.pk) == "promoted"
    run.refresh_from_db()
    new = registry_selectors.active_model_version()
    # Fitted as the shipped one was: single photos, then each case size (training.field.cases).
    assert set(new.decision) == {"temperature", "reject_at", "unsure_below", "combine", "answer_at", "pair_at"}
    assert set(new.decision["answer_at"]) == {"1", "2", "3", "6"}
    assert run.metrics["decision_rule"] == new.decision
    # What the cross-validation fitted is what is stored and what the workers decide with.
    (rule,) = fitted
    assert rule is not None and new.decision == rule.as_dict()
    assert new.decision["temperature"] > 0
    from classifier.inference import predictor_for

    assert predictor_for(new).rule == rule
    assert run.metrics["training_photos"] > 60  # the base field photos trained with the lab ones
    # Promotion read what farmers would be shown on field photos: the candidate's cross-fitted figures
    # beside the ones the shipped model was registered with (it trained on no photo here it could be
    # compared on: the base photos count as trained on).
    field = new.evaluation["field"]
    assert field["candidate"]["field_potato_photos"] == 60 and new.metrics["field"] == field["candidate"]
    assert field["active"] == active_model.metrics["field"] and field["same_photos"] is None
    change = ModelVersionChange.objects.get(version=new)
    assert change.action == "auto_promote" and change.previous == active_model and change.actor == "retraining"


@pytest.mark.django_db
def test_candidate_below_the_floor_stays_a_candidate_with_the_reason(
    tiny_retraining, one_trained_candidate, settings, active_model
):
    settings.PROMOTION_ACCURACY_FLOOR = 0.99
    run = retraining.start_retraining("admin-test", shuffle_labels=True, enqueue=False)
    assert retraining.run_retraining(run.pk) == "candidate"
    candidate = ModelVersion.objects.get(number=active_model.number + 1)
    assert candidate.status == ModelVersion.Status.CANDIDATE
    assert "below the floor" in candidate.promotion_note
    promotion = candidate.evaluation["promotion"]
    assert not promotion["passed"] and any("below the floor" in reason for reason in promotion["reasons"])
    assert registry_selectors.active_model_version() == active_model


@pytest.mark.django_db
def test_one_retraining_at_a_time_and_redelivery_does_nothing(tiny_retraining, active_model, monkeypatch):
    run = retraining.start_retraining("admin-test", enqueue=False)
    with pytest.raises(retraining.RetrainingAlreadyRunning):
        retraining.start_retraining("schedule", enqueue=False)
    monkeypatch.setattr(retraining, "_retrain", lambda run, work_dir, stored: "promoted")
    assert retraining.run_retraining(run.pk) == "promoted"
    assert retraining.run_retraining(run.pk) == "skipped"  # a second delivery of the same task


@pytest.mark.django_db
def test_a_crash_fails_the_run_removes_artifacts_and_keeps_the_active_model(tiny_retraining, active_model, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("out of memory while fitting")

    monkeypatch.setattr(retraining, "train_field_model", crash)
    run = retraining.start_retraining("admin-test", enqueue=False)
    assert retraining.run_retraining(run.pk) == "failed"
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED and "out of memory" in run.error
    assert ModelVersion.objects.count() == 1 and registry_selectors.active_model_version() == active_model
    assert not (tiny_retraining / "work" / f"run-{run.pk}").exists()


@pytest.mark.django_db
def test_cancel_stops_training_and_registers_nothing(tiny_retraining, active_model, monkeypatch):
    monkeypatch.setattr(retraining.selectors, "training_run_cancel_requested", lambda run_id: True)
    run = retraining.start_retraining("admin-test", enqueue=False)
    assert retraining.run_retraining(run.pk) == "cancelled"
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.CANCELLED
    assert ModelVersion.objects.count() == 1


@pytest.mark.django_db
def test_schedule_waits_for_enough_new_labels(tiny_retraining, settings, active_model, monkeypatch):
    from training import tasks

    queued = []
    monkeypatch.setattr(tasks.retraining, "start_retraining", lambda created_by: queued.append(created_by) or _Run())
    settings.RETRAIN_MIN_NEW_LABELS = 2
    assert "no run" in tasks.scheduled_retraining()
    for path in field_photos("late_blight", 2):
        labelled_upload(path, "late_blight")
    assert "started run" in tasks.scheduled_retraining()
    assert queued == ["schedule"]


class _Run:
    pk = 99


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_retraining_runs_on_the_training_worker(tiny_retraining, active_model, training_worker_process):
    from django.test.utils import override_settings

    # The session's training worker (conftest) trains on its own folders, CI-sized as tiny_retraining is.
    for folder in ("base", "negatives"):
        shutil.copytree(tiny_retraining / folder, training_worker_process.retraining_dir / folder)
    with override_settings():
        run = retraining.start_retraining("admin-test")  # enqueued on commit
    wait_until(lambda: TrainingRun.objects.get(pk=run.pk).is_finished, 240, training_worker_process.log_path)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.DONE, run.error
    candidate = ModelVersion.objects.get(number=active_model.number + 1)
    assert run.model_version == candidate and candidate.file_hashes  # registered by the worker
    # No field photos, so no rule: the shipped model keeps serving.
    assert registry_selectors.active_model_version() == active_model and not run.metrics["promoted"]


@pytest.mark.django_db
def test_demo_command_runs_end_to_end(tiny_retraining, one_trained_candidate, active_model, settings, capsys):
    from django.core.management import call_command

    field = tiny_retraining / "field"
    copy_photos(field_photos("late_blight", 4), field / "late_blight")
    copy_photos(field_photos("early_blight", 4), field / "early_blight")
    settings.PROMOTION_ACCURACY_FLOOR = 0.99  # an untrained 32-pixel model never reaches it
    call_command("demo_retraining", "--field", str(field), "--weights", "none")
    output = capsys.readouterr().out
    assert "Officer labels on field photos: 8" in output
    assert output.count("refused: accuracy") == 2 and "accuracy, field" in output
    assert registry_selectors.active_model_version() == active_model


# -- the final step is all or nothing; a run the sweeper failed registers nothing ---------------------


def stored_model_files() -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(path.relative_to(root)) for path in (root / "models").rglob("*") if path.is_file())


@pytest.mark.django_db
@pytest.mark.parametrize("crash_at", ["after registration", "after activation"])
def test_a_crash_in_the_final_step_leaves_no_version_and_no_file(
    tiny_retraining, one_trained_candidate, active_model, monkeypatch, crash_at
):
    def crash(*args, **kwargs):
        raise RuntimeError(f"injected crash {crash_at}")

    # About the final step's all-or-nothing, not the policy: this candidate passes it.
    monkeypatch.setattr(retraining, "decide_promotion", lambda *args: PromotionDecision(True, []))
    if crash_at == "after registration":  # the candidate is registered, promotion crashes
        monkeypatch.setattr(retraining.registry_services, "activate_model_version", crash)
    else:  # registered and activated; finishing the run crashes
        monkeypatch.setattr(retraining.services, "finish_training_run", crash)
    files_before = stored_model_files()
    run = retraining.start_retraining("admin-test", enqueue=False)
    assert retraining.run_retraining(run.pk) == "failed"
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED and "injected crash" in run.error
    assert list(ModelVersion.objects.values_list("number", flat=True)) == [active_model.number]
    assert registry_selectors.active_model_version() == active_model
    assert not ModelVersionChange.objects.filter(action="auto_promote").exists()
    assert stored_model_files() == files_before  # no orphan, and the active model's files all there
    assert Predictor.for_version(active_model).predict(str(heldout_photos("healthy", 1)[0])).top


@pytest.mark.django_db
def test_a_run_the_sweeper_failed_meanwhile_registers_and_promotes_nothing(
    tiny_retraining, one_trained_candidate, active_model, monkeypatch
):
    real_score, calls = retraining.score, []

    def score_then_the_sweeper_fires(predictor, items):
        result = real_score(predictor, items)
        calls.append(1)
        if len(calls) == 2:  # both models scored; the worker looks dead to the sweeper
            TrainingRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
            assert retraining.fail_stale_runs() == 1
        return result

    monkeypatch.setattr(retraining, "score", score_then_the_sweeper_fires)
    files_before = stored_model_files()
    run = retraining.start_retraining("admin-test", enqueue=False)
    assert retraining.run_retraining(run.pk) == "abandoned"
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED and "stopped reporting" in run.error  # the sweeper's word
    assert list(ModelVersion.objects.values_list("number", flat=True)) == [active_model.number]
    assert registry_selectors.active_model_version() == active_model and stored_model_files() == files_before


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_beats_while_training_is_busy():
    from training import selectors as training_selectors
    from training import services as training_services
    from training.runner import Heartbeat

    run = training_services.create_training_run(TrainingRun.Kind.RETRAIN, "test")
    training_services.start_training_run(run.pk)
    long_ago = timezone.now() - timedelta(hours=1)
    TrainingRun.objects.filter(pk=run.pk).update(heartbeat_at=long_ago)
    assert [r.pk for r in training_selectors.stale_training_runs(900)] == [run.pk]
    with Heartbeat(run.pk, interval=0.05):  # one long epoch: no progress report, only the thread
        wait_until(lambda: TrainingRun.objects.get(pk=run.pk).heartbeat_at > long_ago, 10)
    assert not list(training_selectors.stale_training_runs(900))
    training_services.fail_training_run(run.pk, "done testing")


def shipped_files_as_candidate(config, out_dir, rule, pools=None, **kwargs) -> dict:
    shutil.copytree(settings.DEFAULT_MODEL_DIR, out_dir, dirs_exist_ok=True)
    labels = json.loads((Path(out_dir) / "labels.json").read_text())["labels"]
    return {"classes": labels, "decision_rule": rule.as_dict() if rule else None, "fit": {}, "train_seconds": 0}


@pytest.mark.django_db
def test_collected_photos_train_grouped_by_visit_with_figures_before_and_after_on_the_same_folds(
    tiny_retraining, settings, active_model, monkeypatch
):
    """Issue 27, item 5: officers' collected photos join the field pool, one group per garden visit; the run
    trains the rule's grouped folds again without them and reports the field figures before and after, each
    kind of photo apart; promotion reads what it always read."""
    from classifier.models import CollectedPhoto
    from tests.dashboard_helpers import collected_visit
    from training.field.evidence import COMPARISON_FIGURES
    from training.field.report import load_results

    field = tiny_retraining / "field"
    copy_photos(field_photos("late_blight", 20), field / "late_blight")
    copy_photos(field_photos("early_blight", 20), field / "early_blight")
    settings.RETRAIN_FIELD_DATA = [field]
    settings.RETRAIN_RECIPE = "balanced"  # a head on cached features: the cheap path
    settings.RETRAIN_EVALUATION_FRACTION = 0.0
    gardens = sorted((DATA_ROOT / "field-potato-magelang" / "late_blight").iterdir())[:12]
    for start in range(0, 12, 3):
        collected_visit(officer(), label="late_blight", images=[p.read_bytes() for p in gardens[start : start + 3]])
    collected_visit(officer(), label="", images=[gardens[-1].read_bytes()])  # not sure yet: never trains

    folds = {}
    real_run_protocol = retraining.run_protocol

    def and_read_the_folds(pools, folder, *args, **kwargs):
        real_run_protocol(pools, folder, *args, **kwargs)
        photos, results = load_results(folder)
        folds["photos"], folds["results"] = photos, results

    monkeypatch.setattr(retraining, "run_protocol", and_read_the_folds)
    # What is measured here is the cross-validation; the candidate itself is the shipped model's files (its
    # TFLite conversion would cost more than everything else here).
    monkeypatch.setattr(retraining, "train_field_model", shipped_files_as_candidate)
    run = retraining.start_retraining("admin-test", enqueue=False)
    retraining.run_retraining(run.pk)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.DONE, run.error
    with_them, without = folds["results"]["balanced"][0], folds["results"]["balanced-without-collected"][0]
    # The same grouped folds: each held-out fold judged by both, a visit never split across folds.
    assert [fold["keys"] for fold in with_them] == [fold["keys"] for fold in without]
    collected = {key for key, photo in folds["photos"].items() if photo["source"] == "collected"}
    assert len(collected) == 12
    for fold_with, fold_without in zip(with_them, without, strict=True):
        held_out = collected & set(fold_with["keys"])
        trained_on = len(collected) - len(held_out)
        assert fold_with["fit"]["rows"] - fold_without["fit"]["rows"] == trained_on  # one plain view each
        assert len({folds["photos"][key]["group"] for key in held_out}) == len(held_out) // 3

    comparison = run.metrics["collection"]
    subsets = {entry["photos"]: entry for entry in comparison["subsets"]}
    assert {name: entry["judged"] for name, entry in subsets.items()} == {"all": 52, "shared": 40, "collected": 12}
    assert set(subsets["collected"]["before"]) == set(COMPARISON_FIGURES) == set(subsets["collected"]["after"])
    assert run.metrics["photos_by_source"]["trained"]["collected"] == 12 and run.metrics["collected_photos"] == 12
    assert run.metrics["photos_by_source"]["cross_validated"] == {"shared": 40, "collected": 12}
    version = ModelVersion.objects.get(number=run.metrics["model_version"])
    assert version.evaluation["collection"] == comparison
    trained = {entry["key"] for entry in json.loads(version.data_snapshot.read())["train"]}
    labelled = CollectedPhoto.objects.exclude(visit__labels__label="")
    stored = {f"collected:{photo.visit_id}-{photo.pk}" for photo in labelled}
    assert len(stored) == 12 and stored <= trained
