"""Farmer pages: upload a photo, then watch it become a diagnosis."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from classifier.submissions import selectors as submission_selectors
from webapp.farmer.forms import SubmissionForm
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
