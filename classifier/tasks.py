"""Celery tasks on the ``inference`` queue (and ``compute_heatmap`` on ``training``). This module
never imports TensorFlow; ``compute_heatmap`` imports it when it runs, on the training worker.

``acks_late`` with ``reject_on_worker_lost``: a task is acknowledged only after it finishes, so a
worker killed mid-task leaves the message to be delivered again; ``record_prediction`` makes
that second delivery harmless. Each photo's model output is stored with the case's answer (one
transaction), so a case's photos are each run once per model version, however often the case is
diagnosed again (a photo added).
A photo that kills the worker on every run would be delivered for ever: each run is counted first,
and after ``MAX_INFERENCE_ATTEMPTS`` the case is marked failed (adding a photo starts the count again).
"""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import OperationalError

from classifier.inference import predictor_for
from classifier.labels import heatmaps
from classifier.labels import selectors as label_selectors
from classifier.models import Submission
from classifier.registry import selectors as registry_selectors
from classifier.registry.model_files import local_copy
from classifier.submissions import selectors as submission_selectors
from classifier.submissions import services as submission_services

logger = logging.getLogger(__name__)


class NoActiveModel(RuntimeError):
    pass


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, NoActiveModel),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=20,
)
def diagnose_submission(submission_id: str) -> str:
    """Run the active model on each photo of a case not yet run, then store the case's answer over its
    usable photos (``classifier.decision.diagnose_case``)."""
    submission = submission_selectors.submission_for_inference(submission_id)
    if submission is None:
        logger.warning("submission %s not found", submission_id)
        return "missing"
    if submission.status != Submission.Status.PENDING:
        return submission.status
    version = registry_selectors.active_model_version()
    if version is None:
        raise NoActiveModel("no active model version; run `manage.py register_default_model`")
    run = submission_services.start_inference_attempt(submission_id)
    if run is None:  # finished meanwhile by another delivery
        return "not pending"
    if run > settings.MAX_INFERENCE_ATTEMPTS:
        logger.error("giving up on submission %s: %s runs ended without a prediction", submission_id, run - 1)
        submission_services.give_up_inference(submission_id, run - 1)
        return Submission.Status.FAILED
    predictor = predictor_for(version)
    started = time.perf_counter()
    photos = list(submission_selectors.usable_photos(submission_id))
    outputs = {}
    try:
        for photo in photos:
            if photo.probabilities is None or photo.diagnosed_by_id != version.pk:
                with default_storage.open(photo.image.name, "rb") as image_file:
                    outputs[photo.pk] = predictor.probabilities(image_file)
                photo.probabilities = outputs[photo.pk].tolist()
        if not photos:
            raise ValueError("no usable photo in this case")
    except (OSError, ValueError) as error:
        logger.exception("could not diagnose submission %s", submission_id)
        submission_services.mark_submission_failed(submission_id, f"{type(error).__name__}: {error}")
        return Submission.Status.FAILED
    diagnosis = submission_services.diagnose_stored(version, photos)
    elapsed_ms = (time.perf_counter() - started) * 1000
    submission_services.record_prediction(submission, version, diagnosis, elapsed_ms, outputs)
    return Submission.Status.DONE


@shared_task
def requeue_stale_submissions() -> int:
    """Enqueue again every submission left pending too long (run by Celery beat every minute)."""
    ids = submission_selectors.stale_pending_submission_ids(settings.STALE_SUBMISSION_SECONDS)
    requeued = sum(submission_services.enqueue_inference(submission_id) for submission_id in ids)
    if ids:
        logger.info("requeued %s of %s stale pending submissions", requeued, len(ids))
    return requeued


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), max_retries=5)
def compute_heatmap(submission_id: str) -> str:
    """Grad-CAM for one case's prediction, on its first usable photo. Routed to the ``training`` queue (settings), whose
    worker may import TensorFlow; the import happens here, inside the task, never at module load.
    """
    submission = label_selectors.submission_for_review(submission_id)
    heatmap = getattr(submission, "heatmap", None) if submission else None
    if heatmap is None:
        return "missing"
    if heatmap.status == heatmap.Status.DONE:
        return heatmap.status
    version = submission.prediction.model_version
    photo = submission_selectors.usable_photos(submission_id).first()
    try:
        if photo is None:
            raise ValueError("no usable photo in this case")
        from classifier.gradcam import render_heatmap

        with default_storage.open(photo.image.name, "rb") as image_file:
            jpeg = render_heatmap(
                str(local_copy(version, heatmaps.keras_model_name(version))),
                image_file,
                list(version.labels).index(submission.prediction.label),
                version.image_size,
            )
    except Exception as error:  # a broken model file or photo: say so on the page, do not retry forever
        logger.exception("could not compute the heatmap for %s", submission_id)
        heatmaps.mark_heatmap_failed(submission_id, f"{type(error).__name__}: {error}")
        return heatmap.Status.FAILED
    heatmaps.record_heatmap(submission_id, jpeg)
    return heatmap.Status.DONE


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=settings.SMS_MAX_ATTEMPTS - 1)
def send_verdict_sms(self, label_id: int) -> str:
    """Send the SMS for one officer's verdict (``classifier.sms.services``): at least once, and
    not again while its row says it went or is being sent.

    A failure that may pass (network, provider busy) is retried with exponential backoff, from
    30 s to an hour; after the last try the row says it failed, for admins to see.
    """
    from classifier.sms import services as sms

    try:
        return sms.send_verdict_sms(label_id)
    except OperationalError as error:  # the database: try again soon
        raise self.retry(exc=error, countdown=10) from error
    except Exception as error:
        if self.request.retries >= self.max_retries:
            sms.give_up_verdict_sms(label_id, f"{type(error).__name__}: {error}")
            return "failed"
        raise self.retry(exc=error, countdown=sms.retry_delay(self.request.retries + 1)) from error


@shared_task
def resend_lost_verdict_sms() -> int:
    """Enqueue the SMS of verdicts whose task was lost, and of messages stuck queued or sending
    (run by Celery beat every few minutes)."""
    from classifier.sms import services as sms

    return sms.resend_lost_verdict_sms()


@shared_task
def forget_phone_numbers() -> int:
    """Erase farmers' numbers once their SMS has served (run by Celery beat every hour)."""
    from classifier.sms import services as sms

    erased = sms.forget_phone_numbers()
    if erased:
        logger.info("erased %s phone numbers", erased)
    return erased


@shared_task
def forget_partial_originals() -> int:
    """Delete the pieces of photos' larger copies that stopped arriving (run by Celery beat every hour)."""
    from classifier.submissions.originals import forget_partial_originals as forget

    return forget()
