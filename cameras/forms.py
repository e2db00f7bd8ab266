"""Dashboard forms of the cameras app. They only parse and check shapes: the rules (stream URL
validation, password handling, versions) live in :mod:`cameras.services`, whose errors are put back
on the fields here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator

from cameras import streams
from cameras.api.serializers import CAMERA_ID
from cameras.choices import CameraStatus, StreamType
from config.api.contracts import ApiError

URL_HELP_ADD = "With its password if it has one (rtsp://user:password@host/path): it is stored encrypted, shown as ***."
URL_HELP_EDIT = (
    "The password is never shown: it appears as *** and submitting *** keeps the stored one. "
    "Type the URL with a new password to change it."
)


# Analysis settings an empty field leaves as they are.
ANALYSIS_SETTINGS = ("analysis_fps", "detect_width", "detect_height")


class CameraForm(forms.Form):
    id = forms.CharField(
        label="ID",
        required=False,
        max_length=50,
        validators=[RegexValidator(CAMERA_ID, "Letters, digits, '-', '_' or '.', at most 50 characters")],
        help_text="Leave empty for the next free id (CAM-NN).",
    )
    name = forms.CharField(max_length=255)
    location = forms.CharField(max_length=255, required=False)
    stream_type = forms.ChoiceField(label="Stream type", choices=StreamType.choices, initial=StreamType.RTSP)
    stream_url = forms.CharField(
        label="Stream URL",
        required=False,
        max_length=2000,
        help_text=URL_HELP_ADD,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    enabled = forms.BooleanField(required=False, initial=True, help_text="Disabled cameras are not health-checked.")
    status = forms.ChoiceField(
        choices=CameraStatus.choices,
        initial=CameraStatus.OFFLINE,
        help_text="Health checks set online/offline; maintenance pauses them and their outage alerts.",
    )
    tags = forms.CharField(required=False, help_text="Comma-separated, e.g. entrance, outdoor")
    # What the vision workers use (cameras.vision): faces on or off, and the frames they analyse. Left empty, an
    # analysis setting keeps its value (the model's default on a new camera).
    recognition_enabled = forms.BooleanField(
        label="Recognition", required=False, help_text="Faces passing this camera are recognised, continuously."
    )
    analysis_fps = forms.FloatField(
        label="Analysis rate (fps)",
        required=False,
        min_value=0.2,
        max_value=30.0,
        help_text="Frames analysed per second (0.2 to 30; default 5).",
    )
    detect_width = forms.IntegerField(
        label="Detect width",
        required=False,
        min_value=160,
        max_value=3840,
        help_text="Frames are scaled down (never up) to fit this width and height for analysis (default 1280x720).",
    )
    detect_height = forms.IntegerField(label="Detect height", required=False, min_value=120, max_value=2160)
    # The version the edit was based on: a change made meanwhile by someone else is refused, not overwritten.
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            # A camera's id is its identity across every contract; it is shown, never changed.
            self.fields["id"].disabled = True
            self.fields["id"].help_text = ""
            self.fields["stream_url"].help_text = URL_HELP_EDIT
            # Health checks change the status without bumping the version; the page sends back the
            # status it showed, so only a status the user changed is written.
            self.fields["status"].show_hidden_initial = True

    def clean_tags(self) -> list[str]:
        return [tag.strip() for tag in self.cleaned_data["tags"].split(",") if tag.strip()]

    def clean_stream_url(self) -> str:
        url = self.cleaned_data["stream_url"].strip()
        _bare, password = streams.split_credentials(url)
        if not self.editing and streams.is_masked_password(password):
            # On a new camera *** would stand for nothing and the camera would silently get no password.
            raise forms.ValidationError("Type the real password: *** only stands for a password already stored.")
        return url

    def service_data(self) -> dict[str, Any]:
        """What the services take: every field on create, only the changed ones on edit.

        Sending unchanged fields back would overwrite what health checks wrote since the page was
        loaded (status, in particular), and they do not bump the version.
        """
        data = {
            key: value
            for key, value in self.cleaned_data.items()
            if key != "version" and not (key in ANALYSIS_SETTINGS and value is None)
        }
        if not data.get("id"):
            data.pop("id", None)
        if self.editing:
            data.pop("id", None)
            data = {key: value for key, value in data.items() if key in self.changed_data}
        return data

    def add_service_error(self, error: ApiError) -> None:
        """Show a service's refusal on the fields it names (else above the form)."""
        for item in error.field_errors:
            self.add_error(item.field if item.field in self.fields else None, item.message)
        if not error.field_errors:
            self.add_error(None, error.text())

    def hide_submitted_password(self) -> None:
        """Mask the password in the URL before the form is shown again, so it never goes back to the page.

        The user must type it again; a note on the field says so, as submitting *** would keep the
        old stored password (or none) without a word.
        """
        url = self.data.get(self.add_prefix("stream_url"), "")
        _bare, password = streams.split_credentials(url)
        if not password or streams.is_masked_password(password):
            return
        self.data = self.data.copy()
        self.data[self.add_prefix("stream_url")] = streams.masked_url(url)
        self.add_error("stream_url", "For safety the password was not sent back: type it again.")
