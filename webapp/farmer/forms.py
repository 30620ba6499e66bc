"""Forms for the farmer pages and the API: the same checks for both."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from classifier.decision import MAX_CASE_PHOTOS
from classifier.models import District, Submission
from classifier.sms.numbers import validate_sms_number
from classifier.submissions import services as submission_services
from classifier.validators import CleanPhoto, validate_photo

PHOTO_ERRORS = {
    "required": _("Please choose or take a photo of a potato leaf."),
    "missing": _("Please choose or take a photo of a potato leaf."),
    "empty": _("The file is empty. Please take the photo again."),
    "invalid": _("This file is not a photo we can read. Please send a JPEG, PNG, WebP or HEIC photo."),
}
TOO_MANY_PHOTOS = _("Send at most %(max)s photos for one check.")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """1 to ``MAX_CASE_PHOTOS`` photos sent under one name (``image``); each one checked as a single photo is
    (``classifier.validators.validate_photo``): one bad photo refuses them all."""

    widget = MultipleFileInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*", "multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if not files:
            return [super().clean(None, initial)]  # raises "required"
        if len(files) > MAX_CASE_PHOTOS:
            raise forms.ValidationError(TOO_MANY_PHOTOS % {"max": MAX_CASE_PHOTOS}, code="too_many")
        return [super(PhotosField, self).clean(item, initial) for item in files]


def clean_photos(uploads) -> list[CleanPhoto]:
    return [validate_photo(upload) for upload in uploads]


class DistrictField(forms.ChoiceField):
    """A district by its value or its name, in any case (``Kabale``, ``kabale``, ``KABALE``)."""

    def to_python(self, value):
        return super().to_python(value).strip().lower()


class SubmissionForm(forms.Form):
    image = PhotosField(label=_("Photo of a potato leaf"), error_messages=PHOTO_ERRORS)
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
        uploads = self.cleaned_data["image"]
        self.cleaned_photos = clean_photos(uploads)
        return uploads

    def clean_phone(self):
        phone = self.cleaned_data.get("phone")
        if phone:
            validate_sms_number(phone)
        return phone

    @property
    def phone_retention_days(self) -> int:
        return settings.SMS_PHONE_RETENTION_DAYS

    def submit(self) -> Submission:
        """The new case, in the page's language (the SMS is written in it)."""
        phone = self.cleaned_data.get("phone")
        return submission_services.create_submission(
            self.cleaned_photos, self.cleaned_data["district"], phone.as_e164 if phone else "", get_language() or ""
        )

    def first_error(self) -> str:
        return first_error(self)


class AddPhotoForm(forms.Form):
    """One more photo for an existing case (the result page's "Add another leaf", and the API)."""

    image = forms.FileField(label=_("Photo of a potato leaf"), error_messages=PHOTO_ERRORS)

    def clean_image(self):
        upload = self.cleaned_data["image"]
        self.cleaned_photo = validate_photo(upload)
        return upload

    def first_error(self) -> str:
        return first_error(self)


def first_error(form: forms.Form) -> str:
    for errors in form.errors.values():
        return str(errors[0])
    return ""


ALREADY_ANSWERED = _("An extension officer has already answered. Please start a new check.")


def add_photo_error(error: submission_services.CaseError) -> str:
    """The farmer's words for a photo a case cannot take."""
    if str(error) == "answered":
        return str(ALREADY_ANSWERED)
    return str(TOO_MANY_PHOTOS % {"max": MAX_CASE_PHOTOS})
