"""Farmer pages: upload a case's photos, then watch it become an answer; add a leaf; answer a check."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classifier.submissions import selectors as submission_selectors
from classifier.submissions import services as submission_services
from classifier.thumbnails import ensure_thumbnail
from webapp.farmer.forms import AddPhotoForm, SubmissionForm, add_photo_error
from webapp.farmer.presenters import present_submission
from webapp.ratelimits import upload_limit


@require_http_methods(["GET", "POST"])
@upload_limit
def upload(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if getattr(request, "limited", False):
            message = _("Too many photos from this phone in a short time. Please wait a minute.")
            return render(request, "farmer/upload.html", {"form": SubmissionForm(), "error": message}, status=429)
        form = SubmissionForm(request.POST, request.FILES)
        if form.is_valid():
            submission = form.submit()
            return redirect("submission", submission_id=submission.id)
        return render(request, "farmer/upload.html", {"form": form}, status=400)
    return render(request, "farmer/upload.html", {"form": SubmissionForm()})


def submission(request: HttpRequest, submission_id) -> HttpResponse:
    found = submission_selectors.submission_with_prediction(submission_id)
    if found is None:
        raise Http404("No such photo")
    return render(request, "farmer/submission.html", {"result": present_submission(found)})


def _result(request: HttpRequest, found, status: int = 200, error: str = "") -> HttpResponse:
    return render(
        request, "farmer/submission.html", {"result": present_submission(found), "error": error}, status=status
    )


@require_POST
@upload_limit
def add_photo(request: HttpRequest, submission_id) -> HttpResponse:
    """The result page's "Add another leaf" without JavaScript: one more photo, then the page again."""
    found = submission_selectors.submission_with_prediction(submission_id)
    if found is None:
        raise Http404("No such photo")
    if getattr(request, "limited", False):
        return _result(request, found, 429, _("Too many photos from this phone in a short time. Please wait a minute."))
    form = AddPhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        return _result(request, found, 400, form.first_error())
    try:
        submission_services.add_photo(submission_id, form.cleaned_photo)
    except submission_services.CaseError as error:
        return _result(request, found, 400, add_photo_error(error))
    return redirect("submission", submission_id=submission_id)


@require_POST
def field_check(request: HttpRequest, submission_id) -> HttpResponse:
    """The farmer's answer to her own check (yes / no / can't tell): stored with the case; the page then
    shows the advice for that answer."""
    found = submission_selectors.submission_with_prediction(submission_id)
    if found is None:
        raise Http404("No such photo")
    check = present_submission(found).get("check")
    if check is None or not submission_services.record_field_check(
        submission_id, check["name"], request.POST.get("answer", "")
    ):
        return _result(request, found, 400)
    return redirect("submission", submission_id=submission_id)


@require_GET
def photo(request: HttpRequest, submission_id, position: int) -> HttpResponse:
    """A small square of one photo of the case, for its result page (the case's id is the key, as for
    the page itself)."""
    name = submission_selectors.photo_image_name(submission_id, position)
    if not name:
        raise Http404("No such photo")
    try:
        thumb = ensure_thumbnail(submission_id, name, position)
        handle = default_storage.open(thumb, "rb")
    except (OSError, ValueError):
        raise Http404("No thumbnail") from None
    response = FileResponse(handle, content_type="image/jpeg")
    patch_cache_control(response, private=True, max_age=7 * 24 * 3600)
    return response
