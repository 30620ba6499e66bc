"""The admins' training and model pages: retrain and cancel, live progress, model versions with
their evaluation, hand promotion (confirmed), one-click rollback, the change log, permissions."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse

from classifier.models import ModelVersion, ModelVersionChange
from classifier.registry import selectors as registry_selectors
from classifier.registry import services as registry_services
from classifier.registry.promotion import PromotionDecision
from training import services as training_services
from training.models import TrainingRun
from training.retraining import evaluation_set_for

pytestmark = pytest.mark.django_db

ALREADY_RUNNING = "A retraining run is already queued or running."


@pytest.fixture
def enqueued(monkeypatch):
    """Retraining tasks that would have been sent to the training worker."""
    from training.tasks import retrain_model

    sent = []
    monkeypatch.setattr(retrain_model, "apply_async", lambda *args, **kwargs: sent.append(kwargs.get("args")))
    return sent


def scores(accuracy, lab, field, recalls):
    """An evaluation summary as ``classifier.evaluation.evaluate_items`` writes it."""
    return {
        "accuracy": accuracy,
        "count": 40,
        "per_class": {name: {"recall": recall, "precision": 0.9, "support": 10} for name, recall in recalls.items()},
        "per_folder": {
            "lab": {"expected": "late_blight", "correct": round(lab * 30), "support": 30, "recall": lab},
            "field": {"expected": "late_blight", "correct": round(field * 10), "support": 10, "recall": field},
        },
    }


def candidate(active, accuracy=0.91, reasons=(), recalls=None):
    """A retrained candidate scored beside ``active``, as a retraining run leaves it."""
    version = registry_services.register_model_version(
        settings.DEFAULT_MODEL_DIR, created_by="atim", parent=active, notes="retraining run"
    )
    version.evaluation_set = evaluation_set_for(
        [{"source": "field", "key": f"submission:{version.number}", "label": "late_blight", "sha256": "x"}]
    )
    version.evaluation = {
        "candidate": scores(accuracy, 0.95, 0.8, recalls or {"late_blight": 0.9, "healthy": 0.9}),
        "active": scores(0.85, 0.97, 0.3, {"late_blight": 0.8, "healthy": 0.95}),
        "active_version": active.number,
    }
    decision = PromotionDecision(not reasons, list(reasons))
    version.evaluation["promotion"] = decision.as_dict()
    version.promotion_note = decision.summary
    version.save()
    return version


def finished_run(version, promoted, reasons=()):
    run = training_services.create_training_run("retrain", "atim")
    training_services.start_training_run(run.pk)
    metrics = {
        "model_version": version.number,
        "promoted": promoted,
        "reasons": list(reasons),
        "candidate_accuracy": 0.91,
        "active_accuracy": 0.85,
        "candidate_by_source": version.evaluation["candidate"]["per_folder"],
        "active_by_source": version.evaluation["active"]["per_folder"],
        "training_photos": 120,
        "labelled_uploads": 12,
        "evaluation_photos": 40,
    }
    training_services.finish_training_run(run.pk, metrics=metrics, model_version=version)
    return run


# -- permissions --------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in_and_farmers_are_refused(client, farmer, active_model):
    for url in ("/dashboard/training/", "/dashboard/models/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(farmer)
    for url in ("/dashboard/training/", "/dashboard/models/", reverse("dashboard:retrain")):
        assert client.get(url).status_code == 403
    assert client.post(reverse("dashboard:retrain")).status_code == 403
    assert not TrainingRun.objects.exists()


def test_officers_see_both_pages_but_cannot_act(client, officer, active_model, enqueued):
    v2 = candidate(active_model)
    run = training_services.create_training_run("retrain", "atim")
    client.force_login(officer)

    training = client.get(reverse("dashboard:training")).content.decode()
    assert f'id="run-{run.pk}"' in training
    assert "Retrain now" not in training and "Only dashboard admins" in training
    assert f'action="{reverse("dashboard:cancel-run", args=[run.pk])}"' not in training
    models = client.get(reverse("dashboard:models")).content.decode()
    assert 'id="v2"' in models and "Promote v2" not in models and "Roll back" not in models
    nav = re.search(r'<nav class="dash-nav".*?</nav>', models, re.S).group(0)
    assert 'href="/dashboard/training/"' in nav and 'href="/dashboard/models/" aria-current="page"' in nav

    assert client.post(reverse("dashboard:retrain")).status_code == 403
    assert client.post(reverse("dashboard:cancel-run", args=[run.pk])).status_code == 403
    assert client.get(reverse("dashboard:promote", args=[2])).status_code == 403
    assert client.post(reverse("dashboard:promote", args=[2]), {"reason": "x", "confirm": "on"}).status_code == 403
    assert client.post(reverse("dashboard:roll-back", args=[1])).status_code == 403

    assert TrainingRun.objects.get().status == "queued" and enqueued == []
    assert registry_selectors.active_model_version() == active_model and v2.changes.count() == 0


# -- retraining runs ----------------------------------------------------------------------------


def test_retrain_now_queues_one_run_and_a_second_press_says_one_is_running(
    client,
    dashboard_admin,
    active_model,
    enqueued,
    django_capture_on_commit_callbacks,
):
    client.force_login(dashboard_admin)
    empty = client.get(reverse("dashboard:training")).content.decode()
    assert "No retraining yet" in empty and "Retrain now" in empty

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dashboard:retrain"))
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:training")
    run = TrainingRun.objects.get()
    assert (run.kind, run.status, run.created_by) == ("retrain", "queued", "atim")
    assert enqueued == [[run.pk]]
    page = client.get(reverse("dashboard:training")).content.decode()
    assert f"Retraining run {run.pk} is queued" in page
    assert ALREADY_RUNNING in page and re.search(r'<button type="submit" class="primary" disabled>Retrain now', page)
    assert f'data-progress-url="{reverse("dashboard:training-progress", args=[run.pk])}"' in page
    assert "Waiting for the training worker" in page and f'src="{static("js/training.js")}"' in page

    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(reverse("dashboard:retrain"), follow=True)
    assert ALREADY_RUNNING in again.content.decode()
    assert TrainingRun.objects.count() == 1 and enqueued == [[run.pk]]


def test_a_run_that_cannot_be_enqueued_is_failed_so_it_blocks_nothing(
    client,
    dashboard_admin,
    active_model,
    monkeypatch,
):
    from django.db import transaction
    from kombu.exceptions import OperationalError

    from training.tasks import retrain_model

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    # Outside a test's transaction, the run is committed first and published at once (autocommit).
    monkeypatch.setattr(transaction, "on_commit", lambda callback, using=None, robust=False: callback())
    monkeypatch.setattr(retrain_model, "apply_async", refuse)
    client.force_login(dashboard_admin)
    response = client.post(reverse("dashboard:retrain"), follow=True)
    assert "Could not reach the task queue" in response.content.decode()
    run = TrainingRun.objects.get()
    assert run.status == "failed" and "task queue" in run.error
    assert "Failed: could not reach the task queue" in response.content.decode()

    sent = []
    monkeypatch.setattr(retrain_model, "apply_async", lambda *args, **kwargs: sent.append(kwargs["args"]))
    client.post(reverse("dashboard:retrain"))
    assert TrainingRun.objects.get(status="queued").pk == sent[0][0]


def test_cancel_a_queued_run_at_once_and_a_running_one_at_its_next_epoch(client, dashboard_admin, active_model):
    client.force_login(dashboard_admin)
    queued = training_services.create_training_run("retrain", "atim")
    response = client.post(reverse("dashboard:cancel-run", args=[queued.pk]), follow=True)
    assert f"Run {queued.pk} was cancelled before it started." in response.content.decode()
    queued.refresh_from_db()
    assert queued.status == "cancelled"

    running = training_services.create_training_run("retrain", "atim")
    training_services.start_training_run(running.pk)
    response = client.post(reverse("dashboard:cancel-run", args=[running.pk]), follow=True)
    page = response.content.decode()
    assert "stops after the current epoch" in page
    running.refresh_from_db()
    assert running.status == "running" and running.cancel_requested_at is not None
    assert not re.search(r'data-field="cancelling"\s+hidden', page)  # "Cancel requested" is shown

    response = client.post(reverse("dashboard:cancel-run", args=[queued.pk]), follow=True)
    assert f"Run {queued.pk} had already finished (cancelled)." in response.content.decode()
    assert client.post(reverse("dashboard:cancel-run", args=[9999])).status_code == 404


def test_progress_json_for_the_live_bar(client, officer, active_model):
    run = training_services.create_training_run("retrain", "atim")
    client.force_login(officer)
    url = reverse("dashboard:training-progress", args=[run.pk])
    assert url == f"/dashboard/training/{run.pk}.json"
    queued = client.get(url).json()
    assert queued["status"] == "queued" and queued["waiting"] and not queued["is_finished"]

    training_services.start_training_run(run.pk)
    training_services.record_training_progress(run.pk, 3, 12, "epoch 3/10: accuracy 0.812", eta_seconds=125)
    response = client.get(url)
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    data = response.json()
    assert data["id"] == run.pk and data["status"] == "running" and data["status_display"] == "Running"
    assert (data["step"], data["total"], data["fraction"], data["percent"]) == (3, 12, 0.25, 25)
    assert data["message"] == "epoch 3/10: accuracy 0.812"
    assert data["eta_seconds"] == 125.0 and data["eta_text"] == "about 2 min left"
    assert not data["is_finished"] and not data["waiting"] and not data["cancel_requested"]

    page = client.get(reverse("dashboard:training")).content.decode()
    assert '<progress max="12" value="3"' in page and "epoch 3/10: accuracy 0.812" in page
    assert "about 2 min left" in page

    training_services.fail_training_run(run.pk, "Traceback (most recent call last):\nMemoryError: out of memory")
    data = client.get(url).json()
    assert data["is_finished"] and data["status"] == "failed" and data["eta_text"] == ""
    assert client.get(reverse("dashboard:training-progress", args=[9999])).status_code == 404


def test_finished_and_failed_runs_show_their_outcome(client, officer, active_model):
    refused = candidate(active_model, accuracy=0.7, reasons=["accuracy 0.700 is below the floor 0.800"])
    finished_run(refused, promoted=False, reasons=["accuracy 0.700 is below the floor 0.800"])
    failed = training_services.create_training_run("retrain", "cli")
    training_services.fail_training_run(failed.pk, "Traceback (most recent call last):\nMemoryError: out of memory")
    client.force_login(officer)
    page = client.get(reverse("dashboard:training")).content.decode()
    assert "Failed: MemoryError: out of memory" in page and "Started by the command line" in page
    assert "Candidate accuracy</dt><dd>91%" in page and "Active model then</dt><dd>85%" in page
    assert '<strong class="no">No</strong>' in page and "accuracy 0.700 is below the floor 0.800" in page
    assert f'href="{reverse("dashboard:models")}#v{refused.number}"' in page
    assert "field 80% of 10" in page and "field 30%" in page  # by source, candidate and active
    assert "data-progress-url" not in page  # nothing left to poll


# -- model versions -----------------------------------------------------------------------------


def test_models_page_compares_each_candidate_with_the_active_model(client, officer, active_model):
    client.force_login(officer)
    page = client.get(reverse("dashboard:models")).content.decode()
    assert "No retraining yet" in page and "v1</strong> answers farmers now" in page
    shipped_lab = json.loads((Path(settings.DEFAULT_MODEL_DIR) / "metrics.json").read_text())["lab"]["accuracy"]
    assert f"Its own test report: lab {round(100 * shipped_lab)}%" in page  # the shipped model's metrics.json

    held_back = candidate(
        active_model,
        accuracy=0.88,
        reasons=["recall of healthy fell from 0.950 to 0.700 (tolerance 0.050)"],
        recalls={"late_blight": 0.95, "healthy": 0.7},
    )
    page = client.get(reverse("dashboard:models")).content.decode()
    assert "No retraining yet" not in page
    section = re.search(r'<section class="model-card" id="v2">.*?</section>', page, re.S).group(0)
    assert "Candidate" in section and "Made by atim" in section and "after v1" in section
    assert "Late blight" in section and "Healthy" in section  # the label set
    assert f"Evaluation set {held_back.evaluation_set.number}: 40 photos" in section
    assert "v1 <span" in section and "(active then)" in section
    assert re.search(r"Accuracy</th><td><strong>88%</strong></td><td>85%</td>", section)
    assert re.search(r"Lab photos \(30\)</th><td>95%</td><td>97%</td>", section)
    assert re.search(r"Field photos \(10\)</th><td>80%</td><td>30%</td>", section)
    assert '<tr class="dropped"><th scope="row">Healthy leaf (10)</th><td>70%' in section
    assert "Why it stayed a candidate" in section and "recall of healthy fell from 0.950 to 0.700" in section


def test_promote_needs_a_confirmation_and_is_logged_with_the_user(client, dashboard_admin, active_model):
    v2 = candidate(active_model, reasons=["accuracy 0.700 is below the floor 0.800"])
    client.force_login(dashboard_admin)
    models = client.get(reverse("dashboard:models")).content.decode()
    assert f'href="{reverse("dashboard:promote", args=[2])}"' in models

    confirm = client.get(reverse("dashboard:promote", args=[2]))
    html = confirm.content.decode()
    assert confirm.status_code == 200 and "Promote v2?" in html and "v1 answers farmers now" in html
    assert 'name="confirm"' in html and 'name="reason"' in html and "below the floor" in html

    unconfirmed = client.post(reverse("dashboard:promote", args=[2]), {"reason": "better in Kisoro"})
    assert unconfirmed.status_code == 400 and "Tick the box to confirm." in unconfirmed.content.decode()
    no_reason = client.post(reverse("dashboard:promote", args=[2]), {"confirm": "on"})
    assert no_reason.status_code == 400
    assert registry_selectors.active_model_version() == active_model and not ModelVersionChange.objects.filter(
        version=v2
    )

    response = client.post(reverse("dashboard:promote", args=[2]), {"reason": "better in Kisoro", "confirm": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:models")
    v2.refresh_from_db()
    active_model.refresh_from_db()
    assert v2.status == "active" and active_model.status == "retired"
    change = ModelVersionChange.objects.get(version=v2)
    assert (change.action, change.user, change.actor, change.reason, change.previous) == (
        "promote",
        dashboard_admin,
        "atim",
        "better in Kisoro",
        active_model,
    )
    log = client.get(reverse("dashboard:models")).content.decode()
    row = re.search(r'<table id="change-log">.*?</table>', log, re.S).group(0)
    assert row.index("Promoted by hand") < row.index("Shipped default activated")  # newest first
    assert "v1 → v2" in row and "atim" in row and "better in Kisoro" in row
    again = client.get(reverse("dashboard:promote", args=[2]), follow=True)
    assert "v2 is already the active model." in again.content.decode()
    assert client.get(reverse("dashboard:promote", args=[99])).status_code == 404


def test_roll_back_is_one_click_for_a_retired_version_and_is_logged(client, dashboard_admin, active_model):
    v2 = candidate(active_model)
    registry_services.activate_model_version(
        v2, ModelVersionChange.Action.AUTO_PROMOTE, actor="retraining", reason="cleared"
    )
    client.force_login(dashboard_admin)
    page = client.get(reverse("dashboard:models")).content.decode()
    v1_section = re.search(r'<section class="model-card" id="v1">.*?</section>', page, re.S).group(0)
    assert "Roll back to this version" in v1_section
    assert "Roll back" not in re.search(r'<section class="model-card" id="v2">.*?</section>', page, re.S).group(0)

    response = client.post(reverse("dashboard:roll-back", args=[1]), {"reason": "farmers in Kabale report errors"})
    assert response.status_code == 302
    assert registry_selectors.active_model_version() == active_model
    v2.refresh_from_db()
    assert v2.status == "retired"
    change = ModelVersionChange.objects.filter(action="rollback").get()
    assert (change.version, change.previous, change.user, change.reason) == (
        active_model,
        v2,
        dashboard_admin,
        "farmers in Kabale report errors",
    )
    # Without a reason it still works, with a default one; a candidate cannot be "rolled back to".
    client.post(reverse("dashboard:roll-back", args=[2]))
    assert registry_selectors.active_model_version() == v2
    assert ModelVersionChange.objects.filter(action="rollback").first().reason == "rolled back from the dashboard"
    v3 = candidate(v2)
    refused = client.post(reverse("dashboard:roll-back", args=[v3.number]), follow=True)
    assert "Only a retired version can be rolled back to" in refused.content.decode()
    assert registry_selectors.active_model_version() == v2
    assert client.get(reverse("dashboard:roll-back", args=[1])).status_code == 405


def test_no_inline_scripts_or_styles(client, dashboard_admin, active_model):
    candidate(active_model)
    training_services.create_training_run("retrain", "atim")
    client.force_login(dashboard_admin)
    for url in (reverse("dashboard:training"), reverse("dashboard:models"), reverse("dashboard:promote", args=[2])):
        html = client.get(url).content.decode()
        assert "<script>" not in html and "style=" not in html and "<style" not in html, url
        assert re.findall(r"<script[^>]*>", html) in ([], [f'<script src="{static("js/training.js")}" defer>']), url


# -- query counts -------------------------------------------------------------------------------


def test_query_counts_do_not_grow_with_runs_versions_or_changes(
    client,
    officer,
    active_model,
    django_assert_max_num_queries,
):
    client.force_login(officer)
    previous = active_model
    for accuracy in (0.81, 0.9, 0.93):
        version = candidate(previous, accuracy=accuracy)
        finished_run(version, promoted=True)
        registry_services.activate_model_version(version, "auto_promote", actor="retraining", reason="cleared")
        previous = version
    for _ in range(3):
        failed = training_services.create_training_run("study", "cli")
        training_services.fail_training_run(failed.pk, "boom")
    running = training_services.create_training_run("retrain", "atim")
    training_services.start_training_run(running.pk)

    # session, user, groups, count, page of runs, "is a retraining running?"
    with django_assert_max_num_queries(6):
        assert client.get(reverse("dashboard:training")).status_code == 200
    # session, user, groups, count and page of versions, count and page of changes, the learning curve,
    # the checked field photos per class: farmers' reviewed uploads, officers' collected photos
    with django_assert_max_num_queries(10):
        assert client.get(reverse("dashboard:models")).status_code == 200
    with django_assert_max_num_queries(4):  # session, user, groups, the run
        assert client.get(reverse("dashboard:training-progress", args=[running.pk])).status_code == 200
    assert ModelVersion.objects.count() == 4 and ModelVersionChange.objects.count() == 4


# -- in a browser ---------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_progress_bar_follows_a_running_run_on_a_phone(browser, live_server, active_model):
    """The static script polls the JSON, moves the bar, and shows the results once the run ends;
    the Content-Security-Policy refuses nothing on either page."""
    from tests.dashboard_helpers import PASSWORD
    from webapp.dashboard.accounts import create_officer

    create_officer("atim", PASSWORD, admin=True)
    version = candidate(active_model, accuracy=0.91)
    run = training_services.create_training_run("retrain", "atim")
    training_services.start_training_run(run.pk)
    training_services.record_training_progress(run.pk, 1, 10, "epoch 1/8: accuracy 0.500", eta_seconds=400)

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text and problems.append(message.text))
    try:
        page.goto(live_server.url + "/accounts/login/?next=/dashboard/training/")
        page.fill("#id_username", "atim")
        page.fill("#id_password", PASSWORD)
        page.click("#login-button")
        page.wait_for_url("**/dashboard/training/")
        bar = f"#run-{run.pk} progress"
        assert page.get_attribute(bar, "value") == "1"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        training_services.record_training_progress(run.pk, 6, 10, "epoch 6/8: accuracy 0.800", eta_seconds=90)
        page.wait_for_function(f"() => document.querySelector('{bar}').value === 6", timeout=15000)
        assert "epoch 6/8: accuracy 0.800" in page.inner_text(f"#run-{run.pk}")
        assert "about 2 min left" in page.inner_text(f"#run-{run.pk}")

        training_services.finish_training_run(
            run.pk,
            metrics={
                "model_version": version.number,
                "promoted": True,
                "candidate_accuracy": 0.91,
                "active_accuracy": 0.85,
            },  # fmt: skip
            model_version=version,
        )
        page.wait_for_selector(f"#run-{run.pk} .facts", timeout=15000)  # reloaded with the results
        assert "91%" in page.inner_text(f"#run-{run.pk} .facts")

        page.goto(live_server.url + "/dashboard/models/")
        assert page.locator("#v2").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
    assert problems == []


def test_models_page_says_what_the_model_still_needs_and_what_farmers_would_be_shown(client, officer, active_model):
    """Issue 24, item 7: the learning curve beside the officers' labels; issue 25, item 1: a candidate's
    field figures beside the active model's, each under its own rule."""
    from classifier.labels import services as label_services
    from tests.dashboard_helpers import diagnosed

    active_model.metrics["learning_curve"] = {
        "late_blight": {"needed": 900, "low": 500, "high": None, "pool": 160},
        "healthy": {"needed": None, "low": None, "high": None, "pool": 40},
    }
    active_model.save(update_fields=["metrics"])
    label_services.label_submission(diagnosed(active_model).pk, officer, label="late_blight")
    client.force_login(officer)
    page = client.get(reverse("dashboard:models")).content.decode()
    needed = re.search(r'<section class="model-card" id="still-needed">.*?</section>', page, re.S).group(0)
    assert "about 739 more late blight photos" in needed  # 900 - 160 at training - 1 labelled since
    assert "500 to more than we can say" in needed and "not reached by the curve" in needed

    version = candidate(active_model, reasons=["confidently wrong went from 0.0% to 6.7% on the same field photos"])
    figures = {"field_potato_photos": 60, "confidently_wrong": 0.067, "answered_correctly": 0.72}
    before = {"field_potato_photos": 60, "confidently_wrong": 0.0, "answered_correctly": 0.0}
    version.evaluation["field"] = {
        "candidate": figures,
        "active": None,
        "same_photos": {"candidate": figures, "active": before},
    }
    version.save(update_fields=["evaluation"])
    section = re.search(
        r'<section class="model-card" id="v2">.*?</section>',
        client.get(reverse("dashboard:models")).content.decode(),
        re.S,
    ).group(0)
    assert "What farmers would be shown on field potato photos (60)" in section and "the same photos" in section
    assert re.search(r"Confidently wrong</th><td>7%</td><td>0%</td>", section)
    assert "6.7% on the same field photos" in section


def test_a_run_with_collected_photos_shows_the_figures_before_and_after_and_each_kind_apart(
    client, officer, active_model
):
    """Issue 27, item 5: the version's card gives the field figures without and with the collected photos on the
    same folds, per kind of photo; the run's card counts each kind trained on and judged, never mixed."""
    version = candidate(active_model)
    figures = {"field_potato_photos": 12, "confidently_wrong": 0.0, "answered_correctly": 0.1}
    figures["recall_late_blight"] = 0.5
    version.evaluation["collection"] = {
        "subsets": [
            {"photos": "all", "judged": 52, "before": figures, "after": figures | {"recall_late_blight": 0.6}},
            {"photos": "collected", "judged": 12, "before": figures, "after": figures | {"recall_late_blight": 0.75}},
        ]
    }
    version.save(update_fields=["evaluation"])
    run = finished_run(version, promoted=False)
    run.metrics["photos_by_source"] = {
        "trained": {"lab": 20, "shared": 40, "uploads": 3, "collected": 12},
        "cross_validated": {"shared": 40, "uploads": 3, "collected": 12},
        "evaluation_set": {"lab": 5, "field": 1, "collected": 6},
    }
    run.save(update_fields=["metrics"])
    client.force_login(officer)
    page = client.get(reverse("dashboard:models")).content.decode()
    card = re.search(r'<section class="model-card" id="v2">.*?</section>', page, re.S).group(0)
    collected = card.split("On officers&#x27; collected photos (12)")[1].split("</table>")[0]
    assert re.search(r"Late blight recall \(top 1\)</th><td>50%</td><td>75%</td>", collected)
    assert "On every field photo (52)" in card
    runs = client.get(reverse("dashboard:training")).content.decode()
    assert re.search(r"Officers&#x27; collected photos</th><td>12</td><td>12</td><td>6</td>", runs)
    assert re.search(r"Farmers&#x27; reviewed photos</th><td>3</td><td>3</td><td>1</td>", runs)
