"""A URLconf for the admission tests (``tests/config/test_admission.py``): a quick view and one that waits
until the test lets it go, standing aside first when asked to."""

from __future__ import annotations

import threading

from django.http import HttpResponse
from django.urls import path

from config.admission import stand_aside

# Set by the test: the slow view has started; the slow view may finish.
started = threading.Event()
release = threading.Event()


def quick(request):
    return HttpResponse("quick")


def slow(request):
    if request.GET.get("aside"):
        stand_aside()
    started.set()
    release.wait(30)
    return HttpResponse("slow")


urlpatterns = [path("admission/quick", quick), path("admission/slow", slow)]
