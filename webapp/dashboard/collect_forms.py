"""Forms of officers' collection: a garden visit (opened without JavaScript, or relabelled), photos added to
one, and the admins' dataset export. The rules a visit must follow are in ``classifier.collection.services``;
these only read what was posted."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from classifier.checked import COLLECTED, UPLOADS
from classifier.collection.dataset import LICENCES
from classifier.collection.services import PARISH_MAX_LENGTH
from classifier.models import District, Evidence
from webapp.dashboard.forms import DateField

NOT_SURE_YET = ""


def label_choices(classes) -> list[tuple[str, str]]:
    """Every class officers can give, then "not sure yet" (never training data until relabelled)."""
    return [(c.name, c.display_name or c.name) for c in classes] + [(NOT_SURE_YET, "Not sure yet")]


class VisitLabelForm(forms.Form):
    """What the plants have, and what the officer based it on."""

    label = forms.ChoiceField(label="What the plants have", required=False, widget=forms.RadioSelect)
    evidence = forms.MultipleChoiceField(
        label="Evidence used", choices=Evidence.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, data=None, *, classes=(), **kwargs):
        super().__init__(data, **kwargs)
        self.fields["label"].choices = label_choices(classes)


class VisitForm(VisitLabelForm):
    """A garden visit: coarse location only (district, parish, date), never the farmer's name or number."""

    district = forms.ChoiceField(label="District", choices=[("", "Choose…")] + list(District.choices))
    parish = forms.CharField(
        label="Parish", max_length=PARISH_MAX_LENGTH, help_text="Only the parish: never the farmer's name or number."
    )
    visited_on = DateField(label="Date")
    farmer_agreed = forms.BooleanField(
        label="The farmer agreed that photos of these leaves may be used to train the model and be shared",
        required=True,
    )

    field_order = ["district", "parish", "visited_on", "label", "evidence", "farmer_agreed"]

    def __init__(self, data=None, *, classes=(), **kwargs):
        super().__init__(data, classes=classes, initial={"visited_on": timezone.localdate()}, **kwargs)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several files from one input (the plain form's camera or gallery)."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files:
            raise forms.ValidationError("Choose at least one photo.")
        return [super(MultipleImageField, self).clean(item, initial) for item in files]


class AddPhotosForm(forms.Form):
    photos = MultipleImageField(label="Photos", widget=MultipleFileInput(attrs={"accept": "image/*", "multiple": True}))


class DatasetForm(forms.Form):
    """What an admin exports: which checked photos, under which licence and name."""

    title = forms.CharField(label="Title", max_length=200, initial="Kigezi potato leaf field photos")
    publisher = forms.CharField(label="Publisher (who releases it)", max_length=200)
    licence = forms.ChoiceField(
        label="Licence", choices=[(key, f"{name} ({key})") for key, (name, _) in LICENCES.items()]
    )
    collected = forms.BooleanField(label="Officers' photos from garden visits", required=False, initial=True)
    uploads = forms.BooleanField(
        label="Farmers' reviewed uploads (farmers were not asked whether their photos may be published)",
        required=False,
        initial=False,
    )

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("collected") or cleaned.get("uploads")):
            raise forms.ValidationError("Choose at least one kind of photo.")
        return cleaned

    def sources(self) -> tuple[str, ...]:
        return tuple(
            source for source, key in ((COLLECTED, "collected"), (UPLOADS, "uploads")) if self.cleaned_data.get(key)
        )
