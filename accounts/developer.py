"""The developer console: the platform's own endpoints, and calling one of them as the signed-in caller.

The catalogue comes from the OpenAPI document drf-spectacular generates, so every endpoint of every
contract family is in it without a list to keep up to date. Ids are ``DEV-`` and the first 8 hex digits
of SHA-256 over ``"METHOD /path/template"``: the same on every process and after every restart, and an
endpoint keeps its id when others are added (a sequential number would shift).

An invocation never leaves the process. It builds a ``WSGIRequest`` for a path made from a catalogue
template (path parameters percent-encoded, never containing ``/``), carrying only the credential the
caller authenticated with, and runs it through Django's own handler with the full middleware stack. So
the caller's permissions, rate limits and the audit trail apply to the inner call exactly as to a direct
one, and there is no host, scheme or port anywhere a caller could point at another server.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import inspect
import io
import json
import logging
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote_to_bytes, urlencode, urlsplit

from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponseBase
from django.urls import Resolver404, resolve

from accounts.authentication import AccessTokenAuthentication, ApiKeyAuthentication
from config.api.contracts import ApiError, FieldError, Kind, camel

logger = logging.getLogger("argus.developer")

# Marks a request the console made (a WSGI environ key: no HTTP client can send one).
INNER_REQUEST_MARK = "argus.developer_console"
CONSOLE_INVOKE_URL_NAME = "developer-endpoint-invoke"
METHODS = ("get", "post", "put", "patch", "delete")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Bodies larger than this come back cut short (``truncated``): the console shows answers, not downloads.
MAX_BODY_BYTES = 1024 * 1024
# Response headers the console does not pass on: the inner call has no cookies to set.
HIDDEN_HEADERS = frozenset({"set-cookie"})
_PATH_PARAM = re.compile(r"{([^{}/]+)}")
_TEXT_TYPES = re.compile(r"^text/|[/+](json|xml|yaml|javascript)\b|^application/x-www-form-urlencoded")


@dataclass(frozen=True)
class Endpoint:
    """One operation of the OpenAPI document."""

    id: str
    method: str
    path: str
    label: str
    description: str
    tag: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    has_body: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "description": self.description,
            "method": self.method,
            "path": self.path,
            "tag": self.tag,
            "path_params": list(self.path_params),
            "query_params": list(self.query_params),
            "has_body": self.has_body,
        }


def endpoint_id(method: str, path: str) -> str:
    """The stable id of an operation: ``DEV-`` + 8 hex digits of SHA-256 over ``"METHOD path"``."""
    digest = hashlib.sha256(f"{method.upper()} {path}".encode()).hexdigest()
    return f"DEV-{digest[:8].upper()}"


@functools.cache
def _generic_docstrings() -> frozenset[str]:
    """Docstrings of the shared API base classes, which drf-spectacular reports for views that have none."""
    from config.api import base, edge, face_service, plain, spa

    found = set()
    for module in (base, edge, face_service, plain, spa):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and cls.__doc__:
                found.add(inspect.cleandoc(cls.__doc__))
    return frozenset(found)


def _first_paragraph(text: str) -> str:
    return " ".join(text.strip().split("\n\n", 1)[0].split()).replace("``", "")


def _label(operation: dict[str, Any], method: str, path: str) -> str:
    if operation.get("summary"):
        return str(operation["summary"])
    # drf-spectacular's operationId (api_v1_cameras_test_connection_create), less its family prefix.
    words = str(operation.get("operationId") or f"{method} {path}").split("_")
    while words and (words[0] in ("api", "face", "service") or re.fullmatch(r"v\d+", words[0])):
        words.pop(0)
    text = " ".join(words) or path
    return text[:1].upper() + text[1:]


def _description(operation: dict[str, Any], method: str, path: str) -> str:
    description = (operation.get("description") or "").strip()
    if description and description not in _generic_docstrings():
        return _first_paragraph(description)
    return str(operation.get("summary") or f"{method} {path}")


@functools.cache
def catalogue() -> tuple[Endpoint, ...]:
    """Every operation of the platform's OpenAPI document, sorted by path then method (built once per process)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    endpoints = []
    for path, item in sorted(schema.get("paths", {}).items()):
        shared = item.get("parameters", [])
        for lower in METHODS:
            operation = item.get(lower)
            if operation is None:
                continue
            method = lower.upper()
            parameters = [*shared, *operation.get("parameters", [])]
            endpoints.append(
                Endpoint(
                    id=endpoint_id(method, path),
                    method=method,
                    path=path,
                    label=_label(operation, method, path),
                    description=_description(operation, method, path),
                    tag=(operation.get("tags") or ["api"])[0],
                    path_params=tuple(_PATH_PARAM.findall(path)),
                    query_params=tuple(p["name"] for p in parameters if p.get("in") == "query"),
                    has_body="requestBody" in operation,
                )
            )
    return tuple(endpoints)


def find(identifier: str) -> Endpoint:
    """The catalogue entry with this id; 404 for anything else."""
    for endpoint in catalogue():
        if endpoint.id == identifier:
            return endpoint
    raise ApiError(Kind.NOT_FOUND, f"No endpoint {identifier} in the developer console")


def _is_console_invoke(endpoint: Endpoint) -> bool:
    sample = _PATH_PARAM.sub("0", endpoint.path)
    try:
        return resolve(sample).url_name == CONSOLE_INVOKE_URL_NAME
    except Resolver404:
        return False


def _refuse(field: str, message: str) -> ApiError:
    return ApiError(Kind.VALIDATION, message, field_errors=[FieldError(field, message)])


def ensure_local_path(path: str) -> str:
    """Refuse anything but a path on this site: no scheme, no host, no protocol-relative ``//host``."""
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//") or "\\" in path:
        raise _refuse("path", "Only the platform's own paths can be invoked")
    return path


def build_path(endpoint: Endpoint, path_params: Mapping[str, Any] | None) -> str:
    """The endpoint's template with each ``{name}`` filled in, percent-encoded.

    Every template parameter is required (sent by its name or in camelCase), no others are accepted, and
    a value may not contain ``/`` or be ``.``/``..``: it fills one path segment, never moves the call
    to another path.
    """
    given = dict(path_params or {})
    values: dict[str, str] = {}
    for name in endpoint.path_params:
        key = name if name in given else camel(name) if camel(name) in given else None
        if key is None:
            raise _refuse(f"pathParams.{name}", f"Path parameter {name} is required")
        value = given.pop(key)
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise _refuse(f"pathParams.{name}", "Must be a string or an integer")
        text = str(value)
        if not text or "/" in text or "\\" in text or text in (".", ".."):
            raise _refuse(f"pathParams.{name}", "Must be one path segment (no '/', not '.' or '..')")
        values[name] = quote(text, safe="")
    if given:
        name = sorted(given)[0]
        raise _refuse(f"pathParams.{name}", f"{endpoint.path} has no parameter {name}")
    path = _PATH_PARAM.sub(lambda match: values[match.group(1)], endpoint.path)
    return ensure_local_path(path)


def _query_string(query: Mapping[str, Any] | None) -> str:
    pairs: list[tuple[str, str]] = []
    for name, value in (query or {}).items():
        if name == "api_key":
            # The inner call runs with the caller's own credential and no other.
            raise _refuse("query.api_key", "Credentials cannot be passed as query parameters")
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bool):
                pairs.append((name, "true" if item else "false"))
            elif isinstance(item, (str, int, float)):
                pairs.append((name, str(item)))
            else:
                raise _refuse(f"query.{name}", "Must be a string, number, boolean or a list of them")
    return urlencode(pairs)


def _credentials(request) -> dict[str, str]:
    """The one credential the caller authenticated with, as WSGI headers for the inner call."""
    authenticator = getattr(request, "successful_authenticator", None)
    if isinstance(authenticator, AccessTokenAuthentication):
        return {"HTTP_AUTHORIZATION": request.META["HTTP_AUTHORIZATION"]}
    if isinstance(authenticator, ApiKeyAuthentication):
        raw = request.headers.get("X-API-Key") or request.query_params.get("api_key")
        return {"HTTP_X_API_KEY": raw}
    raise ApiError(Kind.UNAUTHENTICATED)


@functools.cache
def _handler() -> BaseHandler:
    """Django's request handler with the project's middleware, as the server runs it (synchronously)."""
    handler = BaseHandler()
    handler.load_middleware()
    return handler


def _inner_request(outer, method: str, path: str, query: str, body: bytes | None, credentials: dict) -> WSGIRequest:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        # WSGI carries the decoded path as latin-1 text, as a server would hand it to Django.
        "PATH_INFO": unquote_to_bytes(path).decode("iso-8859-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": outer.META.get("SERVER_NAME") or "localhost",
        "SERVER_PORT": str(outer.get_port()),
        "HTTP_HOST": outer.get_host(),
        "REMOTE_ADDR": outer.META.get("REMOTE_ADDR") or "127.0.0.1",
        "HTTP_ACCEPT": "application/json",
        "HTTP_USER_AGENT": f"Argus developer console; {outer.META.get('HTTP_USER_AGENT', '')}"[:1000],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": outer.scheme,
        "wsgi.input": io.BytesIO(body or b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        INNER_REQUEST_MARK: True,
        **credentials,
    }
    # The same request id ties the inner call's log lines and audit entry to the console call.
    if getattr(outer, "request_id", None):
        environ["HTTP_X_REQUEST_ID"] = outer.request_id
    for header in ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO"):
        if header in outer.META:
            environ[header] = outer.META[header]
    if body is not None:
        environ["CONTENT_TYPE"] = "application/json"
        environ["CONTENT_LENGTH"] = str(len(body))
    return WSGIRequest(environ)


def _read_and_release(response: HttpResponseBase) -> tuple[bytes, bool]:
    """The body (at most MAX_BODY_BYTES, and whether it was cut), then the response's resources freed.

    ``response.close()`` is not used: it would also send ``request_finished``, whose handler closes the
    database connection the outer request is still using.
    """
    try:
        if response.streaming:
            chunks, size = [], 0
            for chunk in response.streaming_content:
                chunks.append(bytes(chunk))
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    break
            content = b"".join(chunks)
        else:
            content = response.content
    finally:
        for closer in getattr(response, "_resource_closers", []):
            try:
                closer()
            except Exception:
                logger.exception("closing the developer console's inner response failed")
        response._resource_closers = []
    return content[:MAX_BODY_BYTES], len(content) > MAX_BODY_BYTES


def _body(content: bytes, content_type: str, truncated: bool) -> tuple[Any, str]:
    if not content:
        return None, "none"
    if "json" in content_type and not truncated:
        try:
            return json.loads(content), "json"
        except ValueError:
            pass
    if _TEXT_TYPES.search(content_type):
        return content.decode("utf-8", errors="replace"), "text"
    return base64.b64encode(content).decode("ascii"), "base64"


def invoke(
    request,
    endpoint: Endpoint,
    *,
    payload: Any = None,
    path_params: Mapping[str, Any] | None = None,
    query: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Call ``endpoint`` in this process as the caller of ``request`` (a DRF request) and describe the answer.

    Returns ``{status, headers, body, body_encoding, truncated, duration_ms}``; ``body`` is the parsed
    JSON when the answer is JSON, text for text, base64 otherwise. Refusals raise :class:`ApiError`.
    """
    if request.META.get(INNER_REQUEST_MARK) or _is_console_invoke(endpoint):
        raise ApiError(Kind.VALIDATION, "The developer console cannot invoke itself", code="INVOKE_NOT_ALLOWED")
    path = build_path(endpoint, path_params)
    query_string = _query_string(query)
    if payload is not None and endpoint.method not in BODY_METHODS:
        raise _refuse("payload", f"{endpoint.method} takes no payload; send its parameters in query")
    body = json.dumps(payload).encode() if payload is not None else None
    inner = _inner_request(request, endpoint.method, path, query_string, body, _credentials(request))
    started = time.perf_counter()
    response = _handler().get_response(inner)
    content, truncated = _read_and_release(response)
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    content_type = response.get("Content-Type", "")
    parsed, encoding = _body(content, content_type, truncated)
    headers = {key: value for key, value in response.items() if key.lower() not in HIDDEN_HEADERS}
    return {
        "status": response.status_code,
        "headers": headers,
        "body": parsed,
        "body_encoding": encoding,
        "truncated": truncated,
        "duration_ms": duration_ms,
    }
