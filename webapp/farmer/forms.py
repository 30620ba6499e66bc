"""Forms for the farmer pages and the API: the same checks for both."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from classifier.models import District, Submission
from classifier.sms.numbers import validate_sms_number
from classifier.submissions import services as submission_services
from classifier.validators import validate_photo


class DistrictField(forms.ChoiceField):
    """A district by its value or its name, in any case (``Kabale``, ``kabale``, ``KABALE``)."""

    def to_python(self, value):
        return super().to_python(value).strip().lower()


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
    district = DistrictField(
        label=_("District"),
        choices=[
            ("", _("Choose your district")),
            (District.RUBANDA, "Rubanda"),
            (District.KABALE, "Kabale"),
            (District.KISORO, "Kisoro"),
            (District.OTHER, _("Other")),
        ],
        required=False,
        error_messages={
            "invalid_choice": _("Unknown district. Choose one of: rubanda, kabale, kisoro, other (any case).")
        },
    )
    phone = PhoneNumberField(
        label=_("Phone number for the answer by SMS (optional)"),
        region=settings.PHONENUMBER_DEFAULT_REGION,
        required=False,
        error_messages={"invalid": _("This phone number does not look right. Example: 0772 123456.")},
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel", "placeholder": "0772 123456"}
        ),
    )

    def clean_image(self):
        upload = self.cleaned_data["image"]
        self.cleaned_photo = validate_photo(upload)
        return upload

    def clean_phone(self):
        phone = self.cleaned_data.get("phone")
        if phone:
            validate_sms_number(phone)
        return phone

    @property
    def phone_retention_days(self) -> int:
        return settings.SMS_PHONE_RETENTION_DAYS

    def submit(self) -> Submission:
        """The new submission, in the page's language (the SMS is written in it)."""
        phone = self.cleaned_data.get("phone")
        return submission_services.create_submission(
            self.cleaned_photo, self.cleaned_data["district"], phone.as_e164 if phone else "", get_language() or ""
        )

    def first_error(self) -> str:
        for errors in self.errors.values():
            return str(errors[0])
        return ""
