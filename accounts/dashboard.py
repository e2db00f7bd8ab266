"""The shell every app's dashboard pages share: the permission check, the 403 page and the access token
the pages' scripts call the JSON API and the WebSocket with.

Pages check the same permission strings the API checks. The page itself is signed in by session cookie;
the API and ``/ws`` take a JWT, which :func:`token` hands the signed-in page. Templates: the 403 page is
``accounts/403.html``, the pager of a paginated list ``accounts/_pager.html``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from rest_framework_simplejwt.tokens import AccessToken

from accounts.audit import origin_of
from accounts.signals import DASHBOARD_TOKEN_SESSION_KEY
from accounts.tokens import access_token_for, session_revoked

FORBIDDEN_TEMPLATE = "accounts/403.html"
# A cached token is handed out again only while it has this long left, so the page can still use it.
TOKEN_REUSE_MARGIN_SECONDS = 120


def forbidden(request: HttpRequest, permission: str) -> HttpResponse:
    """The 403 page, naming the permission the user's role lacks."""
    return render(request, FORBIDDEN_TEMPLATE, {"permission": permission}, status=403)


def permission_required(*permissions: str, json: bool = False) -> Callable:
    """Sign-in first, then any one of ``permissions``; else the login page and the 403 page.

    ``json=True`` is for endpoints the page's own scripts call: a fetch() cannot follow a redirect to the
    login page usefully, so they answer a JSON 401 or 403 instead.
    """
    needed = " or ".join(permissions)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                if json:
                    return JsonResponse({"error": "Not signed in"}, status=401)
                return redirect_to_login(request.get_full_path())
            if not any(request.user.has_permission(permission) for permission in permissions):
                if json:
                    return JsonResponse({"error": f"Your role does not include {needed}"}, status=403)
                return forbidden(request, needed)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def paging_query(request: HttpRequest) -> str:
    """The list's filters for the pager's links (``accounts/_pager.html``): the query without page or blanks."""
    pairs = [(name, value) for name, values in request.GET.lists() if name != "page" for value in values if value]
    return urlencode(pairs)


@never_cache
@require_GET
def token(request: HttpRequest) -> JsonResponse:
    """``{"token": <access token>, "expiresIn": seconds}`` for the signed-in user.

    Anonymous callers get 401 (the page's script reloads, which lands on the login page). The token is
    kept in the browser session and handed out again while it is good, so reloading a page does not open
    a new token session each time; signing out revokes it (:mod:`accounts.signals`).
    """
    if not request.user.is_authenticated:
        return JsonResponse({"error": "Not signed in"}, status=401)
    cached = request.session.get(DASHBOARD_TOKEN_SESSION_KEY) or {}
    now = time.time()
    if cached.get("exp", 0) - now > TOKEN_REUSE_MARGIN_SECONDS and not session_revoked(cached.get("sid", "")):
        raw = cached["token"]
    else:
        origin = origin_of(request)
        raw = access_token_for(request.user, ip=origin.ip, user_agent=f"Argus dashboard; {origin.user_agent}")
        claims = AccessToken(raw)
        cached = {"token": raw, "exp": claims["exp"], "sid": claims["sid"]}
        request.session[DASHBOARD_TOKEN_SESSION_KEY] = cached
    return JsonResponse({"token": raw, "expiresIn": max(int(cached["exp"] - now), 0)})
