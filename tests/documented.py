"""What the OpenAPI document promises an endpoint answers, held against what the endpoint sent.

Many endpoints build their answer as a dict (a payload function shared with the WebSocket, the outbox or a
task) and document it with a serializer that never writes a response. Nothing ties the two together but
this check: the body must validate against the documented schema made strict (no field the document does
not name, every field it requires present, each of its type and format), so a field added, renamed or
dropped on one side only fails a test.

:class:`DocumentedResponses` applies the same check to every answer a Django test client receives (the
``documented_responses`` fixture, or the whole suite with ``pytest --documented``): the status must be one
the operation documents, the body of a documented media type and, when JSON, valid against its schema.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from openapi_schema_validator import OAS30Validator, oas30_format_checker


@functools.cache
def openapi() -> dict[str, Any]:
    """The platform's OpenAPI document, as JSON (built once per test process)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    started = time.perf_counter()
    document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    BUILD_SECONDS.append(time.perf_counter() - started)
    return document


BUILD_SECONDS: list[float] = []  # how long building the document took (once per process)


def _resolved(node: Any, components: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """``node`` with every ``$ref`` inlined and every object closed to fields it does not name."""
    if isinstance(node, list):
        return [_resolved(item, components, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        assert name not in seen, f"recursive schema {name}"
        return _resolved(components[name], components, (*seen, name))
    out = {key: _resolved(value, components, seen) for key, value in node.items()}
    if out.get("nullable") and len(out.get("allOf", ())) == 1:  # how the document spells a nullable $ref
        out = {**out.pop("allOf")[0], **out}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def documented_response(response: dict[str, Any]) -> dict[str, Any]:
    """A response object of the document, its ``$ref`` (a shared error answer) followed."""
    if "$ref" in response:
        return openapi()["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return response


def documented_schema(path: str, method: str, status: int) -> dict[str, Any]:
    """The JSON schema the document gives for ``method path`` answering ``status`` (path as documented,
    with ``{placeholders}``)."""
    document = openapi()
    operation = document["paths"][path][method.lower()]
    responses = operation["responses"]
    assert str(status) in responses, f"{method} {path} documents no {status} answer (only {sorted(responses)})"
    content = documented_response(responses[str(status)]).get("content") or {}
    assert "application/json" in content, f"{method} {path} {status} documents no JSON body"
    return _resolved(copy.deepcopy(content["application/json"]["schema"]), document["components"]["schemas"])


def documentation_problems(path: str, method: str, status: int, body: Any) -> list[str]:
    """What in ``body`` the document's schema for ``method path`` answering ``status`` does not allow."""
    return _problems(_validator(path, method.lower(), status), body)


def _problems(validator: OAS30Validator, body: Any) -> list[str]:
    return sorted(
        f"{'/'.join(str(part) for part in error.absolute_path) or '(body)'}: {error.message}"
        for error in validator.iter_errors(body)
    )


# OpenAPI's formats, and ``uri`` held to what it promises: an absolute URL (a scheme and a host). jsonschema
# checks it only with an optional package, so a relative ``/files/...`` link passed unseen.
FORMATS = copy.deepcopy(oas30_format_checker)


@FORMATS.checks("uri")
def _absolute_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


@functools.cache
def _validator(path: str, method: str, status: int) -> OAS30Validator:
    return OAS30Validator(documented_schema(path, method, status), format_checker=FORMATS)


def assert_documented(response, path: str, method: str | None = None) -> None:
    """``response`` (a test client's) is exactly what ``path`` documents for its method and status."""
    method = method or response.request["REQUEST_METHOD"]
    problems = documentation_problems(path, method, response.status_code, response.json())
    assert not problems, f"{method} {path} sent what its document does not say:\n" + "\n".join(problems)


# --- Every response a test client receives, held against the document ---------------------------------------

_PLACEHOLDER = re.compile(r"\{[^}]+\}")


@functools.cache
def _templates() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each documented path template as a pattern, literal paths before those with placeholders
    (``/cameras/summary`` before ``/cameras/{id}``)."""
    ordered = sorted(openapi()["paths"], key=lambda template: (template.count("{"), -len(template)))
    return tuple(
        (re.compile("^" + "[^/]+".join(re.escape(part) for part in _PLACEHOLDER.split(t)) + "/?$"), t) for t in ordered
    )


@functools.lru_cache(maxsize=4096)
def documented_path(path: str) -> str | None:
    """The documented template ``path`` is an instance of, if any."""
    return next((template for pattern, template in _templates() if pattern.match(path)), None)


def response_problems(method: str, path: str, status: int, content_type: str, content: bytes | None) -> list[str]:
    """What the document does not say about an answer: an undocumented status for a documented operation, a
    body of a media type it does not name, or a JSON body its schema refuses. Operations it does not
    document (pages, files, HEAD and OPTIONS) are not its business."""
    template = documented_path(path)
    method = method.lower()
    if template is None or method not in openapi()["paths"][template]:
        return []
    responses = openapi()["paths"][template][method]["responses"]
    if str(status) not in responses:
        return [f"{method.upper()} {template}: {status} is not documented (only {', '.join(sorted(responses))})"]
    documented = documented_response(responses[str(status)]).get("content") or {}
    media = content_type.split(";")[0].strip()
    if not content:
        return []
    if media not in documented and "*/*" not in documented:
        return [f"{method.upper()} {template} {status}: {media or 'a body'} is not documented ({sorted(documented)})"]
    if media != "application/json":
        return []
    problems = _problems(_validator(template, method, status), json.loads(content))
    return [f"{method.upper()} {template} {status}: {problem}" for problem in problems]


class DocumentedResponses:
    """Records what the document does not say about each answer a Django test client receives while
    :meth:`watching`. ``problems`` lists them, one line each."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.checked = 0
        self.seconds = 0.0  # spent checking (what the guard costs a run)

    def record(self, response) -> None:
        if getattr(response, "streaming", False):
            return
        openapi()  # built once per process, timed apart (``openapi_build_seconds``)
        started = time.perf_counter()
        request = response.request
        self.checked += 1
        self.problems.extend(
            response_problems(
                request["REQUEST_METHOD"],
                request["PATH_INFO"],
                response.status_code,
                response.get("Content-Type", ""),
                response.content,
            )
        )
        self.seconds += time.perf_counter() - started

    @contextlib.contextmanager
    def watching(self) -> Iterator[DocumentedResponses]:
        from django.test import Client

        original = Client.request

        def request(client, **kwargs):
            response = original(client, **kwargs)
            self.record(response)
            return response

        Client.request = request  # APIClient's request ends in Client.request: both are watched
        try:
            yield self
        finally:
            Client.request = original
