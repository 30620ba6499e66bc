"""For officers: which farmer-facing translations still await review by a native speaker.

Self-contained (its own URL, template and access check) so that it sits beside the officers'
dashboard without touching it.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, user_passes_test
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy

from classifier.selectors import advice_awaiting_review
from webapp.i18n import REVIEW_MARK, translation_review

# Besides staff, members of these groups may see the page.
REVIEWER_GROUPS = ("officers", "extension officers", "translators")
LOGIN_URL = reverse_lazy("admin:login")


def can_review_translations(user) -> bool:
    return user.is_active and (user.is_staff or user.groups.filter(name__in=REVIEWER_GROUPS).exists())


@login_required(login_url=LOGIN_URL)
@user_passes_test(can_review_translations, login_url=LOGIN_URL)
def translations(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "translations/review.html",
        {"languages": translation_review(), "advice": advice_awaiting_review(), "review_mark": REVIEW_MARK},
    )
