"""Dashboard forms of the recognition app. They parse and check shapes only: the enrolment rules (image
type, size, one face per image, how many images, unique employee ids) live in
:mod:`recognition.enrolment`, whose refusals are put back on the fields here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator

from config.api.contracts import ApiError
from recognition.api.serializers import EMPLOYEE_ID
from recognition.choices import ProfileStatus
from recognition.enrolment import MAX_IMAGES_PER_UPLOAD
from recognition.images import MAX_IMAGE_BYTES

IMAGES_HELP = (
    f"Up to {MAX_IMAGES_PER_UPLOAD} JPEG, PNG or WebP photographs, {MAX_IMAGE_BYTES // 1048576} MB at most each, "
    "each showing this one person's face."
)


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several files under one field name; the list goes to the enrolment service unchanged."""

    widget = MultipleImageInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleImageInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        items = data if isinstance(data, (list, tuple)) else [data]
        files = [super(MultipleImageField, self).clean(item, initial) for item in items if item]
        if self.required and not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return files


class ServiceErrorsMixin:
    """Shows an enrolment refusal on the fields it names (``images.2`` is the images field), else above the form."""

    def add_service_error(self, error: ApiError) -> None:
        placed = False
        for item in error.field_errors:
            name = item.field.split(".", 1)[0]
            if name in self.fields:  # type: ignore[attr-defined]
                self.add_error(name, item.message)  # type: ignore[attr-defined]
                placed = True
        if not placed:
            self.add_error(None, error.text())  # type: ignore[attr-defined]


class FaceRegistrationForm(ServiceErrorsMixin, forms.Form):
    employee_id = forms.CharField(
        label="Employee ID",
        max_length=50,
        validators=[RegexValidator(EMPLOYEE_ID, "Letters, digits, '-', '_', '.' or '/', at most 50 characters")],
        widget=forms.TextInput(attrs={"placeholder": "EMP-00412", "autocomplete": "off"}),
    )
    name = forms.CharField(max_length=255)
    department = forms.CharField(max_length=255, required=False)
    notes = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    images = MultipleImageField(
        required=False,
        help_text=f"{IMAGES_HELP} Without images the profile waits as pending until images are added.",
    )

    def profile_data(self) -> dict[str, Any]:
        """The profile fields as :func:`recognition.enrolment.create_profile` takes them."""
        return {key: self.cleaned_data[key] for key in ("employee_id", "name", "department", "notes")}


class FaceImagesForm(ServiceErrorsMixin, forms.Form):
    images = MultipleImageField(required=True, help_text=IMAGES_HELP)


class FaceProfileForm(ServiceErrorsMixin, forms.Form):
    """A profile's own fields; the employee id stays as it is (attendance history refers to it)."""

    name = forms.CharField(max_length=255)
    department = forms.CharField(max_length=255, required=False)
    status = forms.ChoiceField(
        choices=ProfileStatus.choices,
        help_text="Archived profiles are kept but never matched.",
    )
    notes = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def changes(self) -> dict[str, Any]:
        """Only what the user changed, for :func:`recognition.enrolment.update_profile`."""
        return {key: self.cleaned_data[key] for key in self.changed_data}


class FaceFilterForm(forms.Form):
    """The profile list's filters (the API's FaceProfileFilterSet applies them)."""

    search = forms.CharField(required=False)
    department = forms.CharField(required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *ProfileStatus.choices], required=False)
