"""``reproduce_study --quick`` end to end: stored folds, the report and its numbers, resumption, the
database record, cancellation. One quick study (random weights) is shared by the module."""

import json
import shutil

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from training.models import TrainingRun
from training.study.experiments import AUGMENT_FIRST, SPLIT_FIRST
from training.study.results import StudyFolder
from training.study.splits import shared_photos

pytestmark = [pytest.mark.tensorflow, pytest.mark.django_db]

FIGURES = [
    "fig1_layers.png",
    "fig2_learning_rate.png",
    "fig3_batch_size.png",
    "fig4_optimizer.png",
    "fig5_epochs.png",
    "fig6_final_accuracy.png",
    "fig7_final_loss.png",
    "fig8_confusion.png",
]


def run_quick(out, *extra):
    call_command("reproduce_study", "--quick", "--weights", "none", "--out", str(out), "--no-progress", *extra)


@pytest.fixture(scope="module")
def study(tmp_path_factory, django_db_setup, django_db_blocker):
    """One quick study for the module (every test here is a database test: pytest-django runs those
    apart from the others, which would tear this fixture down mid-module and run the study twice)."""
    out = tmp_path_factory.mktemp("study") / "quick"
    with django_db_blocker.unblock():
        run_quick(out)
    yield out
    with django_db_blocker.unblock():
        TrainingRun.objects.filter(kind=TrainingRun.Kind.STUDY).delete()


def fold_files(out):
    return sorted((out / "results").glob("*/fold-*.json"))


def recomputed(record, which="validation"):
    """Accuracy and cross-entropy from one stored prediction set, independently of the report code."""
    entries = record["predictions"][which]
    probabilities = np.array(entries["probabilities"], dtype=float)
    labels = np.array(entries["labels"])
    accuracy = float(np.mean(probabilities.argmax(axis=1) == labels))
    loss = float(np.mean(-np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-7, 1))))
    return accuracy, loss


def test_quick_study_writes_the_report_and_the_papers_eight_figures(study):
    markdown = (study / "report.md").read_text()
    page = (study / "report.html").read_text()
    for name in FIGURES:
        assert (study / "figures" / name).stat().st_size > 5000
        assert f"figures/{name}" in markdown
    assert page.count('src="data:image/png;base64,') == len(list((study / "figures").glob("*.png"))) >= 8
    assert "figures/" not in page, "the HTML stands alone"
    for heading in ("Paper vs measured", "Field photos (not lab numbers)", "Leakage", "Cost", "Environment"):
        assert heading in markdown
    assert "tensorflow" in markdown and "keras" in markdown


def test_report_numbers_equal_those_recomputed_from_stored_predictions(study):
    folder = StudyFolder(study)
    plan = folder.study()
    report = json.loads((study / "report.json").read_text())
    markdown = (study / "report.md").read_text()
    means = {}
    for key in plan["configs"]:
        accuracies, losses = zip(*(recomputed(record) for record in folder.load_folds(key)), strict=True)
        mean, std = np.mean(accuracies), np.std(accuracies, ddof=1)
        means[key] = (mean, np.mean(losses))
        stored = report["configs"][key]["val_accuracy"]
        assert stored["mean"] == pytest.approx(mean, abs=1e-12)
        assert stored["std"] == pytest.approx(std, abs=1e-12)
    # The tables print exactly those numbers.
    for name in ("layers", "learning_rate", "batch_size", "optimizer"):
        for row in report["experiments"][name]["rows"]:
            mean = means[row["config_key"]][0]
            std = report["configs"][row["config_key"]]["val_accuracy"]["std"]
            line = next(
                line for line in markdown.splitlines() if line.startswith("|") and f"`{row['config_key']}`" in line
            )
            assert f"| {100 * mean:.1f} ± {100 * std:.1f} |" in line
    # The final configuration is the best by validation accuracy (ties: lower loss), and its confusion
    # matrix holds the same predictions: every development photo once.
    split_first = [k for k, c in plan["configs"].items() if c["protocol"] == SPLIT_FIRST]
    best = min(split_first, key=lambda k: (-means[k][0], means[k][1], k))
    assert report["best_config"] == best
    matrix = np.zeros((3, 3), dtype=int)
    for record in folder.load_folds(best):
        entries = record["predictions"]["validation"]
        np.add.at(matrix, (entries["labels"], np.array(entries["probabilities"]).argmax(axis=1)), 1)
    assert report["final"]["validation_confusion"] == matrix.tolist()
    assert matrix.sum() == len(folder.splits()["dev"])
    assert report["final"]["validation_pooled_accuracy"] == pytest.approx(np.trace(matrix) / matrix.sum())
    assert f"{100 * np.trace(matrix) / matrix.sum():.1f}% (the same predictions" in markdown
    test_accuracies = [recomputed(record, "test")[0] for record in folder.load_folds(best)]
    assert report["final"]["summary"]["test_accuracy"]["mean"] == pytest.approx(np.mean(test_accuracies))
    field_accuracies = [recomputed(record, "field")[0] for record in folder.load_folds(best)]
    assert report["final"]["summary"]["field_accuracy"]["mean"] == pytest.approx(np.mean(field_accuracies))


def test_every_fold_is_stored_with_per_image_predictions_and_per_epoch_history(study):
    folder = StudyFolder(study)
    plan = folder.study()
    splits = folder.splits()
    assert len(fold_files(study)) == len(plan["configs"]) * 2
    for key, config in plan["configs"].items():
        for record in folder.load_folds(key):
            history = record["history"]
            assert len(history["loss"]) == len(history["val_accuracy"]) == record["epochs_run"] <= 2
            fold_split = splits["folds"][config["protocol"]][record["fold"]]
            assert len(record["predictions"]["validation"]["labels"]) == len(fold_split["validation"])
            assert len(record["predictions"]["test"]["labels"]) == len(splits["test"])
            assert len(record["predictions"]["field"]["labels"]) == len(splits["field"])
            assert record["seconds"]["fit"] > 0


def test_no_validation_photo_or_copy_of_it_was_trained_on(study):
    folder = StudyFolder(study)
    splits = folder.splits()
    ids = [row["photo_id"] for row in splits["dev"]]
    assert {row["photo_id"] for row in splits["test"]}.isdisjoint(ids)
    for fold in splits["folds"][SPLIT_FIRST]:
        assert shared_photos(np.array(fold["train"]), np.array(fold["validation"]), ids) == set()
    for key, config in folder.study()["configs"].items():
        for record in folder.load_folds(key):
            leaked = record["predictions"]["validation"]["leaked"]
            if config["protocol"] == SPLIT_FIRST:
                assert not any(leaked)
            else:
                assert config["protocol"] == AUGMENT_FIRST and any(leaked)


@pytest.mark.django_db
def test_the_study_is_recorded_as_a_training_run(study):
    run = TrainingRun.objects.get(artifact_path__endswith="quick", status=TrainingRun.Status.DONE)
    assert run.artifact_path.endswith("quick") and run.created_by == "cli"
    assert run.parameters["quick"] is True and run.parameters["settings"]["folds"] == 2
    assert run.progress_total == len(fold_files(study)) == run.progress_step
    assert run.started_at.tzinfo is not None and run.finished_at >= run.started_at
    report = json.loads((study / "report.json").read_text())
    assert run.metrics["best_config"] == report["best_config"]
    assert run.metrics["val_accuracy"] == pytest.approx(report["final"]["summary"]["val_accuracy"]["mean"])


@pytest.mark.django_db
def test_a_rerun_trains_only_the_folds_that_are_missing(study, tmp_path):
    copy = tmp_path / "resumed"
    shutil.copytree(study, copy)
    files = fold_files(copy)
    missing = next(path for path in files if path.parent.name.startswith("lhead") and path.name == "fold-1.json")
    missing.unlink()
    before = {path: path.stat().st_mtime_ns for path in files if path != missing}

    run_quick(copy, "--no-report")

    assert missing.is_file()
    assert {path: path.stat().st_mtime_ns for path in before} == before, "finished folds are not retrained"
    # The fold trained alone reproduces the one trained after fold 0 in the unbroken run.
    original = json.loads((study / missing.relative_to(copy)).read_text())
    again = json.loads(missing.read_text())
    np.testing.assert_allclose(
        again["predictions"]["validation"]["probabilities"],
        original["predictions"]["validation"]["probabilities"],
        atol=1e-4,
    )
    last = StudyFolder(copy).runs()[-1]
    assert (last["status"], last["folds_trained"], last["folds_skipped"]) == ("done", 1, len(files) - 1)


@pytest.mark.django_db
def test_a_rerun_with_other_settings_is_refused(study):
    with pytest.raises(CommandError, match="other settings"):
        run_quick(study, "--image-size", "48")
    assert TrainingRun.objects.filter(kind=TrainingRun.Kind.STUDY, status=TrainingRun.Status.FAILED).exists()


def test_the_report_rebuilds_from_stored_results_without_training(study, tmp_path):
    copy = tmp_path / "rebuilt"
    shutil.copytree(study, copy)
    for name in ("report.md", "report.html", "report.json"):
        (copy / name).unlink()
    shutil.rmtree(copy / "figures")

    call_command("build_study_report", str(copy))

    assert json.loads((copy / "report.json").read_text()) == json.loads((study / "report.json").read_text())
    assert sorted(p.name for p in (copy / "figures").iterdir()) == sorted(p.name for p in (study / "figures").iterdir())


@pytest.mark.django_db
def test_cancelling_stops_at_the_next_epoch_and_keeps_finished_folds(tmp_path, monkeypatch):
    import training.selectors

    checks = []

    def cancel_on_third_check(run_id):
        checks.append(run_id)
        return len(checks) >= 3  # fold 1 (two epochs) finishes, fold 2 stops after its first epoch

    monkeypatch.setattr(training.selectors, "training_run_cancel_requested", cancel_on_third_check)
    out = tmp_path / "cancelled"
    with pytest.raises(CommandError, match="cancelled"):
        run_quick(out, "--no-report")

    run = TrainingRun.objects.get(artifact_path__endswith="cancelled")
    assert run.status == TrainingRun.Status.CANCELLED
    assert len(fold_files(out)) == 1
    assert StudyFolder(out).runs()[-1]["status"] == "cancelled"


def test_plan_prints_the_cost_estimate_without_training(capsys, tmp_path):
    call_command("reproduce_study", "--plan", "--weights", "none", "--out", str(tmp_path / "nothing"))
    output = capsys.readouterr().out
    assert "random_search" in output and "total: about" in output
    assert not (tmp_path / "nothing").exists()


@pytest.mark.django_db
def test_sigterm_ends_the_study_like_ctrl_c_and_a_stale_run_no_longer_blocks(tmp_path, monkeypatch, settings):
    import os
    import signal
    from datetime import timedelta

    from django.utils import timezone

    import training.selectors
    from training import services

    # A study killed with SIGKILL long ago: still "running", silent past the stale limit.
    stale = services.create_training_run(TrainingRun.Kind.STUDY, "cli")
    services.start_training_run(stale.pk)
    TrainingRun.objects.filter(pk=stale.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    settings.RETRAIN_STALE_SECONDS = 900
    checks = []

    def terminate_on_third_check(run_id):
        checks.append(run_id)
        if len(checks) == 3:  # fold 1 (two epochs) is stored; `kill` arrives during fold 2
            os.kill(os.getpid(), signal.SIGTERM)
        return False

    monkeypatch.setattr(training.selectors, "training_run_cancel_requested", terminate_on_third_check)
    out = tmp_path / "terminated"
    previous_handler = signal.getsignal(signal.SIGTERM)
    with pytest.raises(CommandError, match="interrupted"):
        run_quick(out, "--no-report")

    assert signal.getsignal(signal.SIGTERM) == previous_handler
    stale.refresh_from_db()
    assert stale.status == TrainingRun.Status.FAILED and "stopped reporting" in stale.error
    run = TrainingRun.objects.get(artifact_path__endswith="terminated")
    assert run.status == TrainingRun.Status.CANCELLED and "SIGTERM" in run.progress_message
    assert len(fold_files(out)) == 1
    assert StudyFolder(out).runs()[-1]["status"] == "interrupted"


@pytest.mark.django_db
def test_a_second_study_is_refused_while_one_is_running(tmp_path):
    from training import services

    running = services.create_training_run(TrainingRun.Kind.STUDY, "cli")
    services.start_training_run(running.pk)
    runs_before = TrainingRun.objects.count()
    with pytest.raises(CommandError, match=f"study run {running.pk} is still running"):
        run_quick(tmp_path / "second")
    assert TrainingRun.objects.count() == runs_before
    assert not (tmp_path / "second").exists()
