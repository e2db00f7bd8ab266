"""Loaded first by pytest (``-p tests.devenv`` in pyproject.toml), before Django reads its settings.

Settings default to production behaviour (DEBUG off, a real secret required); the suite runs as
development, says so here, and the worker processes it starts inherit it.
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "true")
