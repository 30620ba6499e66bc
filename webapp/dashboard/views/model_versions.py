"""Admins' pages for retraining and model versions: runs with live progress, retrain and cancel,
versions with their evaluation, hand promotion (confirmed), one-click rollback, the change log.

Officers may look; only admins act. Reads go through the selectors, writes through the services.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classifier import checked
from classifier.models import ModelVersion, ModelVersionChange
from classifier.registry import selectors as registry_selectors
from classifier.registry import services as registry_services
from training import selectors as training_selectors
from training import services as training_services
from training.models import TrainingRun
from training.retraining import RetrainingAlreadyRunning, start_retraining
from webapp.dashboard.access import admin_required, officer_required
from webapp.dashboard.forms import PromoteForm, RollbackForm
from webapp.dashboard.model_version_presenters import (
    present_learning_curve,
    present_run,
    present_version,
    run_progress,
)
from webapp.dashboard.views.queue import render_dashboard

logger = logging.getLogger(__name__)
RUNS_PER_PAGE = 20
VERSIONS_PER_PAGE = 20
CHANGES_PER_PAGE = 25
ALREADY_RUNNING = "A retraining run is already queued or running."


def _run_or_404(run_id: int) -> TrainingRun:
    run = training_selectors.training_run(run_id)
    if run is None:
        raise Http404("No such training run")
    return run


def _version_or_404(number: int) -> ModelVersion:
    version = registry_selectors.model_version_by_number(number)
    if version is None:
        raise Http404("No such model version")
    return version


# -- training runs ------------------------------------------------------------------------------


@officer_required
@require_GET
def training(request: HttpRequest) -> HttpResponse:
    """Training runs, newest first, with live progress for the ones still going."""
    page = Paginator(training_selectors.training_runs_for_dashboard(), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render_dashboard(
        request,
        "dashboard/training.html",
        {
            "page": page,
            "runs": [present_run(run) for run in page],
            "retraining_busy": training_selectors.retraining_in_progress(),
            "already_running": ALREADY_RUNNING,
        },
        nav="training",
    )


@officer_required
@require_GET
@never_cache
def training_progress(request: HttpRequest, run_id: int) -> JsonResponse:
    """One run's progress as JSON, for the page's progress bar."""
    return JsonResponse(run_progress(_run_or_404(run_id)))


@admin_required
@require_POST
def retrain(request: HttpRequest) -> HttpResponse:
    """Queue a retraining run on the training worker (one at a time)."""
    try:
        run = start_retraining(request.user.get_username())
    except RetrainingAlreadyRunning:
        messages.info(request, ALREADY_RUNNING)
        return redirect("dashboard:training")
    run.refresh_from_db(fields=["status"])
    if run.status == TrainingRun.Status.FAILED:  # the task queue (Redis) could not be reached
        messages.error(request, "Could not reach the task queue to start the run. Try again in a minute.")
    else:
        messages.success(
            request, f"Retraining run {run.pk} is queued: it starts as soon as the training worker is free."
        )
    return redirect("dashboard:training")


@admin_required
@require_POST
def cancel_run(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run_or_404(run_id)
    if training_services.request_training_run_cancel(run.pk):
        run = training_selectors.training_run(run.pk)
        if run.status == TrainingRun.Status.CANCELLED:
            messages.success(request, f"Run {run.pk} was cancelled before it started.")
        else:
            messages.success(request, f"Asked run {run.pk} to stop: it stops after the current epoch.")
    else:
        messages.info(request, f"Run {run.pk} had already finished ({run.get_status_display().lower()}).")
    return redirect("dashboard:training")


# -- model versions -----------------------------------------------------------------------------


@officer_required
@require_GET
def model_versions(request: HttpRequest) -> HttpResponse:
    """Every version with its evaluation, and the log of changes of the active one."""
    page = Paginator(registry_selectors.model_versions_for_dashboard(), VERSIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    changes = Paginator(registry_selectors.model_version_changes(), CHANGES_PER_PAGE).get_page(
        request.GET.get("changes")
    )
    active = next((v for v in page if v.status == ModelVersion.Status.ACTIVE), None)
    if active is None:
        active = registry_selectors.active_model_version()
    return render_dashboard(
        request,
        "dashboard/models.html",
        {
            "page": page,
            "versions": [present_version(version) for version in page],
            "changes": changes,
            "active": active,
            "rollback_form": RollbackForm(),
            "still_needed": present_learning_curve(
                registry_selectors.latest_learning_curve(), checked.checked_photo_counts()
            ),
        },
        nav="models",
    )


@admin_required
@require_http_methods(["GET", "POST"])
def promote(request: HttpRequest, number: int) -> HttpResponse:
    """Make a version the active one by hand: a confirmation page, then the change."""
    version = _version_or_404(number)
    if version.status == ModelVersion.Status.ACTIVE:
        messages.info(request, f"v{version.number} is already the active model.")
        return redirect("dashboard:models")
    form = PromoteForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        registry_services.activate_model_version(
            version, ModelVersionChange.Action.PROMOTE, reason=form.cleaned_data["reason"], user=request.user
        )
        messages.success(request, f"v{version.number} is now the active model: workers switch on their next photo.")
        return redirect("dashboard:models")
    return render_dashboard(
        request,
        "dashboard/promote.html",
        {
            "form": form,
            "row": present_version(version),
            "active": registry_selectors.active_model_version(),
        },
        status=400 if form.is_bound else 200,
        nav="models",
    )


@admin_required
@require_POST
def roll_back(request: HttpRequest, number: int) -> HttpResponse:
    """One click: a retired version serves again."""
    version = _version_or_404(number)
    if version.status != ModelVersion.Status.RETIRED:
        status = version.get_status_display().lower()
        messages.error(request, f"Only a retired version can be rolled back to; v{version.number} is {status}.")
        return redirect("dashboard:models")
    form = RollbackForm(request.POST)
    reason = (form.cleaned_data["reason"] if form.is_valid() else "").strip() or "rolled back from the dashboard"
    registry_services.roll_back_to(version, request.user, reason)
    messages.success(request, f"Rolled back: v{version.number} is the active model again.")
    return redirect("dashboard:models")
