"""Forms for the farmer pages and the API: the same checks for both."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from classifier.models import District
from classifier.validators import validate_photo


class SubmissionForm(forms.Form):
    image = forms.FileField(
        label=_("Photo of a potato leaf"),
        error_messages={
            "required": _("Please choose or take a photo of a potato leaf."),
            "missing": _("Please choose or take a photo of a potato leaf."),
            "empty": _("The file is empty. Please take the photo again."),
            "invalid": _("This file is not a photo we can read. Please send a JPEG, PNG, WebP or HEIC photo."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    district = forms.ChoiceField(
        label=_("District"),
        choices=[
            ("", _("Choose your district")),
            (District.RUBANDA, "Rubanda"),
            (District.KABALE, "Kabale"),
            (District.KISORO, "Kisoro"),
            (District.OTHER, _("Other")),
        ],
        required=False,
        error_messages={"invalid_choice": _("Unknown district. Choose Rubanda, Kabale, Kisoro or Other.")},
    )

    def clean_image(self):
        upload = self.cleaned_data["image"]
        self.cleaned_photo = validate_photo(upload)
        return upload

    def first_error(self) -> str:
        for errors in self.errors.values():
            return str(errors[0])
        return ""
