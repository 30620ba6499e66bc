"""Officers' dashboard: the review queue (one card per case), one case's review page, and the actions on
them."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from classifier.labels import selectors as label_selectors
from classifier.labels import services as label_services
from classifier.labels.heatmaps import heatmap_state
from classifier.submissions import selectors as submission_selectors
from classifier.submissions import services as submission_services
from webapp.dashboard.access import admin_required, is_dashboard_admin, officer_required
from webapp.dashboard.forms import BulkConfirmForm, DashboardFilterForm, LabelClassForm, LabelForm
from webapp.dashboard.presenters import filter_query, present_review, short_name

PER_PAGE = 24


def render_dashboard(
    request: HttpRequest, template: str, context: dict, status: int = 200, nav: str = "queue"
) -> HttpResponse:
    """Render a dashboard page with what the layout needs (the user's role, the current tab)."""
    context.setdefault("is_dashboard_admin", is_dashboard_admin(request.user))
    context.setdefault("nav", nav)
    return render(request, template, context, status=status)


def _with_query(url: str, query: str) -> str:
    return f"{url}?{query}" if query else url


@officer_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """Unreviewed photos, farmers without an answer first, as a thumbnail grid with filters."""
    classes = list(label_selectors.label_classes())
    form = DashboardFilterForm(request.GET or None, classes=classes)
    filters = form.filters()
    page = Paginator(label_selectors.review_queue(filters), PER_PAGE).get_page(request.GET.get("page"))
    query = filter_query(request.GET)
    return render_dashboard(
        request,
        "dashboard/queue.html",
        {
            "form": form,
            "filters": filters,
            "page": page,
            "query": query,
            "is_filtered": any(value for key, value in request.GET.items() if key not in ("page", "status")),
        },
    )


@officer_required
@require_POST
def bulk_confirm(request: HttpRequest) -> HttpResponse:
    """Confirm the model's answer on the ticked photos of the grid."""
    form = BulkConfirmForm(request.POST)
    query = request.POST.get("q", "")
    if form.is_valid():
        done = label_services.bulk_confirm(form.cleaned_data["submission_ids"], request.user)
        messages.success(request, f"Confirmed {done.confirmed} photo{pluralize(done.confirmed)}.")
        if done.already_reviewed:
            messages.info(
                request, f"{done.already_reviewed} were already reviewed (by someone else) and were left as they are."
            )
        if done.not_answered:
            messages.warning(
                request,
                f"{done.not_answered} photo{pluralize(done.not_answered)} left unconfirmed: the farmer was told "
                '"not sure" or "early or late blight" (or a new photo is being diagnosed), so the model\'s guess '
                "was never an answer. Open each one and give your own verdict.",
            )
    else:
        messages.error(request, " ".join(form.non_field_errors()))
    return redirect(_with_query(reverse("dashboard:queue"), query))


@officer_required
@require_GET
def review(request: HttpRequest, submission_id) -> HttpResponse:
    """One photo: zoomable image, the model's top 3, the heatmap, and the verdict form."""
    submission = label_selectors.submission_for_review(submission_id)
    if submission is None or getattr(submission, "prediction", None) is None:
        raise Http404("No diagnosed photo here")
    classes = list(label_selectors.label_classes())
    filters = DashboardFilterForm(request.GET or None, classes=classes).filters()
    previous_id, next_id = label_selectors.queue_neighbours(filters, submission.prediction)
    query = filter_query(request.GET)
    context = present_review(submission, classes, list(label_selectors.label_history(submission.pk)))
    context.update(
        {
            "query": query,
            "previous_url": _with_query(reverse("dashboard:review", args=[previous_id]), query) if previous_id else "",
            "next_url": _with_query(reverse("dashboard:review", args=[next_id]), query) if next_id else "",
            "next_id": next_id,
            "queue_url": _with_query(reverse("dashboard:queue"), query),
            "heatmap_state": heatmap_state(submission),
            "form": LabelForm(classes=classes),
        }
    )
    return render_dashboard(request, "dashboard/review.html", context)


@officer_required
@require_POST
def label(request: HttpRequest, submission_id) -> HttpResponse:
    """Record a verdict, then go on to the next photo of the same queue."""
    classes = list(label_selectors.label_classes())
    form = LabelForm(request.POST, classes=classes)
    query = request.POST.get("q", "")
    here = _with_query(reverse("dashboard:review", args=[submission_id]), query)
    if not form.is_valid():
        messages.error(request, " ".join(form.non_field_errors()) or "Choose a class from the list.")
        return redirect(here)
    try:
        verdict = label_services.label_submission(
            submission_id, request.user, form.cleaned_data["label"], form.cleaned_data["reject_reason"]
        )
    except label_services.LabellingError as error:
        messages.error(request, str(error))
        return redirect(here)
    what = short_name(verdict.label) if verdict.label else "unusable photo"
    messages.success(request, f"{verdict.get_action_display()}: {what}.")
    submission = label_selectors.submission_for_review(submission_id)
    filters = DashboardFilterForm(QueryDict(query), classes=classes).filters()
    _, next_id = label_selectors.queue_neighbours(filters, submission.prediction)
    if next_id is None:
        messages.info(request, "That was the last photo in this queue.")
        return redirect(_with_query(reverse("dashboard:queue"), query))
    return redirect(_with_query(reverse("dashboard:review", args=[next_id]), query))


@officer_required
@require_POST
def mark_unusable(request: HttpRequest, submission_id) -> HttpResponse:
    """Mark one photo of the case unusable (or usable again): it leaves the case's answer and retraining."""
    query = request.POST.get("q", "")
    try:
        position = int(request.POST.get("position", ""))
    except ValueError:
        raise Http404("No such photo") from None
    photo = submission_selectors.photo_id(submission_id, position)
    if photo is None:
        raise Http404("No such photo")
    unusable = request.POST.get("unusable", "1") == "1"
    submission_services.mark_photo_unusable(photo, request.user, unusable)
    state = "unusable: left out of the answer and of retraining" if unusable else "usable again"
    messages.success(request, f"Photo {position + 1} marked {state}.")
    return redirect(_with_query(reverse("dashboard:review", args=[submission_id]), query))


@officer_required
@require_GET
def label_classes(request: HttpRequest) -> HttpResponse:
    """The classes officers can choose; admins can add one here."""
    return render_dashboard(
        request,
        "dashboard/classes.html",
        {"classes": label_selectors.label_classes(), "form": LabelClassForm()},
        nav="classes",
    )


@admin_required
@require_POST
def add_label_class(request: HttpRequest) -> HttpResponse:
    form = LabelClassForm(request.POST)
    if form.is_valid():
        try:
            added = label_services.add_label_class(
                form.cleaned_data["name"], form.cleaned_data["display_name"], created_by=request.user
            )
        except label_services.LabellingError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Added {added.display_name}: officers can choose it now.")
            return redirect("dashboard:classes")
    return render_dashboard(
        request,
        "dashboard/classes.html",
        {"classes": label_selectors.label_classes(), "form": form},
        status=400,
        nav="classes",
    )
