"""Dashboard forms of the accounts app."""

from __future__ import annotations

from django import forms
from django.conf import settings

from accounts.choices import GridMode, Theme
from accounts.validators import available_timezones


class PreferencesForm(forms.Form):
    """The same settings as ``PUT /api/v1/settings/preferences``, less the client's free-form extras."""

    theme = forms.ChoiceField(choices=Theme.choices)
    grid_mode = forms.ChoiceField(choices=GridMode.choices, label="Camera grid")
    auto_rotate = forms.BooleanField(required=False, label="Rotate through cameras automatically")
    language = forms.ChoiceField(choices=())
    timezone = forms.ChoiceField(choices=(), label="Time zone", help_text="Times on the dashboard are shown in it")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [(code, name) for code, name in settings.LANGUAGES]
        self.fields["timezone"].choices = [(name, name) for name in sorted(available_timezones())]
