"""JSON API for clients and tests: ``/api/v1/submissions``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from classifier.submissions import selectors as submission_selectors
from classifier.submissions import services as submission_services
from webapp.farmer.forms import AddPhotoForm, SubmissionForm, add_photo_error
from webapp.farmer.openapi import openapi_document
from webapp.farmer.presenters import submission_dict
from webapp.ratelimits import upload_limit


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
    return JsonResponse(submission_dict(submission_selectors.submission_with_prediction(submission.id)), status=202)


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
    return JsonResponse(submission_dict(submission_selectors.submission_with_prediction(submission_id)), status=202)


@csrf_exempt  # read-only: another method gets the API's 405 (require_GET), not the CSRF page's 403
@require_GET
def submission_detail(request: HttpRequest, submission_id) -> JsonResponse:
    submission = submission_selectors.submission_with_prediction(submission_id)
    if submission is None:
        return not_found()
    return JsonResponse(submission_dict(submission))


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
