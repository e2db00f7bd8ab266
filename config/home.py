"""The Home page's panels, each contributed by the app that owns what it shows.

Home is the shell's page (accounts), which may not look into cameras or attendance; those apps register a
:class:`HomePanel` from their ``AppConfig.ready()``, and Home shows, in ``order``, every panel whose
``context(request)`` answers a dict (None hides it: the user's role does not cover it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class HomePanel:
    name: str
    template: str
    context: Callable[[HttpRequest], dict[str, Any] | None]
    order: int = 100


_panels: dict[str, HomePanel] = {}


def register(panel: HomePanel) -> None:
    """Show ``panel`` on Home (a later panel of the same name replaces it)."""
    _panels[panel.name] = panel


def panels_for(request: HttpRequest) -> list[dict[str, Any]]:
    """``[{"name", "template", "context"}]`` of the panels ``request.user`` may see, in order."""
    shown = []
    for panel in sorted(_panels.values(), key=lambda panel: (panel.order, panel.name)):
        context = panel.context(request)
        if context is not None:
            shown.append({"name": panel.name, "template": panel.template, "context": context})
    return shown
