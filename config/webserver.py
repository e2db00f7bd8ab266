"""What Argus changes in daphne, the web server it runs under (applied by config/asgi.py).

Twisted, under daphne, parses every ``multipart/form-data`` body into ``request.args`` with the standard
library's email parser: pure Python, about 30 ms of CPU for a 2 MB photo, run in the reactor thread that
serves every connection of the process. Daphne never reads ``request.args`` (it hands the raw body to
Django, which parses it again on the request's own thread), so each photo upload stalled every other
request for nothing. Twisted has a switch for it (``parsePOSTFormSubmission``); daphne does not pass it.
"""

from __future__ import annotations

from typing import Any


def skip_twisted_form_parsing() -> bool:
    """Have daphne's requests skip Twisted's form parsing. False where daphne is not installed."""
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:
        return False
    if getattr(WebRequest, "argus_skips_form_parsing", False):
        return True
    original = WebRequest.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._parsePOSTFormSubmission = False  # read by twisted.web.http.Request.requestReceived

    WebRequest.__init__ = __init__
    WebRequest.argus_skips_form_parsing = True
    return True
