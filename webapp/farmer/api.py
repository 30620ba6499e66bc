"""JSON API for clients and tests: ``/api/v1/submissions``."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from classifier.submissions import selectors as submission_selectors
from webapp.farmer.forms import SubmissionForm
from webapp.farmer.presenters import submission_dict
from webapp.ratelimits import upload_limit


@csrf_exempt  # a cookie-less API for apps; it changes nothing but its own new submission
@require_POST
@upload_limit
def create_submission(request: HttpRequest) -> JsonResponse:
    if getattr(request, "limited", False):
        message = _("Too many photos from this phone in a short time. Please wait a minute.")
        return JsonResponse({"error": message}, status=429, headers={"Retry-After": "60"})
    form = SubmissionForm(request.POST, request.FILES)
    if not form.is_valid():
        errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
        return JsonResponse({"error": form.first_error(), "errors": errors}, status=400)
    submission = form.submit()
    return JsonResponse(
        {"id": str(submission.id), "status": submission.status, "url": submission_dict(submission)["url"]},
        status=202,
    )


@require_GET
def submission_detail(request: HttpRequest, submission_id) -> JsonResponse:
    submission = submission_selectors.submission_with_prediction(submission_id)
    if submission is None:
        return JsonResponse({"error": "not found"}, status=404)
    return JsonResponse(submission_dict(submission))
