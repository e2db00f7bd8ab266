"""Serializer fields shared by the families' documents."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field({"type": "string", "format": "uri-reference"})
class SignedUrlField(serializers.CharField):
    """A signed, expiring file URL: relative to the platform (``/files/...``) with local storage, absolute
    with S3, so documented as a URI reference, not ``format: uri`` (which promises an absolute URL)."""
