"""JSON API for clients and tests: ``/api/v1/submissions``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classifier.models import Submission
from classifier.submissions import answers, originals
from classifier.submissions import selectors as submission_selectors
from classifier.submissions import services as submission_services
from webapp.farmer.forms import AddPhotoForm, SubmissionForm, add_photo_error
from webapp.farmer.openapi import openapi_document
from webapp.farmer.presenters import present_submission, submission_dict
from webapp.middleware.request_size import declared_length
from webapp.ratelimits import original_limit, upload_limit


def _too_many_requests() -> JsonResponse:
    message = _("Too many photos from this phone in a short time. Please wait a minute.")
    return JsonResponse({"error": message}, status=429, headers={"Retry-After": "60"})


def not_found() -> JsonResponse:
    return JsonResponse({"error": "not found"}, status=404)


def _form_errors(form) -> JsonResponse:
    errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
    return JsonResponse({"error": form.first_error(), "errors": errors}, status=400)


@csrf_exempt  # a cookie-less API for apps; it changes nothing but its own new submission
@require_POST
@upload_limit
def create_submission(request: HttpRequest) -> JsonResponse:
    """A new case of 1 to 6 photos (``image`` parts): 202 with the case."""
    if getattr(request, "limited", False):
        return _too_many_requests()
    form = SubmissionForm(request.POST, request.FILES)
    if not form.is_valid():
        return _form_errors(form)
    submission = form.submit()
    return _case_response(request, submission.id)


@csrf_exempt  # as above: it adds to the case whose unguessable id the client holds
@require_POST
@upload_limit
def add_photo(request: HttpRequest, submission_id) -> JsonResponse:
    """One more photo (``image``) for a case: 202 with the case, now pending until its new answer."""
    if submission_selectors.submission_with_prediction(submission_id) is None:
        return not_found()
    if getattr(request, "limited", False):
        return _too_many_requests()
    form = AddPhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        return _form_errors(form)
    try:
        submission_services.add_photo(submission_id, form.cleaned_photo)
    except submission_services.CaseError as error:
        message = add_photo_error(error)
        return JsonResponse({"error": message, "errors": {"image": [message]}}, status=400)
    return _case_response(request, submission_id)


def _is_answered(submission_id) -> bool:
    return submission_selectors.case_status(submission_id) != Submission.Status.PENDING


def _case_response(request: HttpRequest, submission_id) -> JsonResponse:
    """The case just stored or added to: 202 while pending; with ``?wait=`` seconds (at most
    ``ANSWER_WAIT_SECONDS``) its answer when the worker has it by then, 201 (one round trip on a slow
    link). ``?fragment=1`` (the farmer's page) adds ``html``: the result page's answer, rendered."""
    wait = answers.requested_wait(request.GET.get("wait"))
    answers.wait_for_answer(submission_id, wait, lambda: _is_answered(submission_id))
    found = submission_selectors.submission_with_prediction(submission_id)
    body = submission_dict(found)
    body["waited"] = wait > 0
    if request.GET.get("fragment") == "1":
        body["html"] = render_to_string("farmer/_result.html", {"result": present_submission(found)}, request)
    # 201 whenever the body carries the answer (it may land just after the wait ran out).
    return JsonResponse(body, status=202 if found.status == Submission.Status.PENDING else 201)


@csrf_exempt  # read-only: another method gets the API's 405 (require_GET), not the CSRF page's 403
@require_GET
def submission_detail(request: HttpRequest, submission_id) -> JsonResponse:
    submission = submission_selectors.submission_with_prediction(submission_id)
    if submission is None:
        return not_found()
    return JsonResponse(submission_dict(submission))


def _content_range(request: HttpRequest) -> tuple[int, int] | None:
    """``Content-Range: bytes START-END/TOTAL`` of a piece whose body is END - START + 1 bytes."""
    value = request.headers.get("Content-Range", "")
    unit, _, spec = value.partition(" ")
    span, _, total = spec.partition("/")
    first, _, last = span.partition("-")
    try:
        start, end, size = int(first), int(last), int(total)
    except ValueError:
        return None
    if unit != "bytes" or end < start or end - start + 1 != len(request.body):
        return None
    return start, size


def _progress(found: originals.Progress, status: int = 200) -> JsonResponse:
    return JsonResponse({"received": found.received, "total": found.total, "complete": found.complete}, status=status)


@csrf_exempt  # as above: the case's unguessable id is the key
@require_http_methods(["GET", "PUT"])
@original_limit
def photo_original(request: HttpRequest, submission_id, position: int) -> JsonResponse:
    """A photo's larger copy, for officers, sent after the answer in resumable pieces
    (``classifier.submissions.originals``). GET: how much has arrived. PUT: one piece, with
    ``Content-Range: bytes START-END/TOTAL``; 409 with ``received`` to resume from."""
    try:
        if request.method == "GET":
            return _progress(originals.progress(submission_id, position))
        if getattr(request, "limited", False):
            return _too_many_requests()
        if declared_length(request) > originals.MAX_PIECE_BYTES:  # refused before the body is read
            return JsonResponse({"error": "A piece is at most 1 MB."}, status=413)
        span = _content_range(request)
        if span is None:
            message = "Send a piece with Content-Range: bytes START-END/TOTAL matching its body."
            return JsonResponse({"error": message}, status=400)
        return _progress(originals.receive_piece(submission_id, position, span[0], span[1], request.body))
    except originals.OriginalError as error:
        if error.code == "missing":
            return not_found()
        if error.code == "offset":
            return JsonResponse({"error": str(error), "received": error.received}, status=409)
        return JsonResponse({"error": str(error)}, status=400)


@csrf_exempt  # as above
@require_GET
def openapi_schema(request: HttpRequest) -> JsonResponse:
    """This API's OpenAPI document (``webapp/farmer/openapi.yaml``)."""
    return JsonResponse(openapi_document())


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The site's 404 (``handler404``): the API's JSON error under ``/api/`` (an unknown path, a case id that
    is not a UUID), as its own views answer; the page elsewhere."""
    if request.path.startswith("/api/"):
        return not_found()
    return defaults.page_not_found(request, exception)
