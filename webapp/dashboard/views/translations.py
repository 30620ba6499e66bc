"""For officers: which farmer-facing translations still await review by a native speaker.

Self-contained (its own URL, template and access check) so that it sits beside the officers'
dashboard without touching it.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from classifier.advice.selectors import advice_awaiting_review
from webapp.dashboard.access import officer_required
from webapp.i18n import REVIEW_MARK, translation_review


@officer_required
def translations(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "translations/review.html",
        {"languages": translation_review(), "advice": advice_awaiting_review(), "review_mark": REVIEW_MARK},
    )
