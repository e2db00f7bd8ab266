"""The dashboard's navigation and the error pages of every contract family."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from config.api.contracts import ApiError, Contract, Kind, contract_for_path
from config.api.exceptions import json_error_response

# The dashboard's sections. Each app adds its page by URL name; sections whose page does not exist
# yet are left out of the navigation rather than shown as dead links.
NAVIGATION = [
    ("Home", "home"),
    ("Live view", "recognition:live"),
    ("Cameras", "cameras:list"),
    ("Faces", "recognition:faces"),
    ("Unknown faces", "recognition:unknown-faces"),
    ("Attendance", "attendance:logs"),
    ("Reports", "attendance:reports"),
    ("Alerts", "cameras:alerts"),
    ("ANPR", "anpr:events"),
    ("Counting", "counting:dashboard"),
    ("System health", "system"),
    ("Audit", "accounts:audit"),
    ("Developer", "accounts:developer"),
]


def navigation(request) -> dict:
    items = []
    for label, name in NAVIGATION:
        try:
            items.append({"label": label, "url": reverse(name)})
        except NoReverseMatch:
            continue
    return {"navigation": items}


def not_found(request, exception=None):
    if contract_for_path(request.path) != Contract.HTML:
        return json_error_response(request.path, ApiError(Kind.NOT_FOUND))
    return render(request, "404.html", status=404)


def server_error(request):
    if contract_for_path(request.path) != Contract.HTML:
        return json_error_response(request.path, ApiError(Kind.INTERNAL))
    return render(request, "500.html", status=500)
