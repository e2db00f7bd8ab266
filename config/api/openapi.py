"""The OpenAPI document as each family's client sees the wire (drf-spectacular postprocessing hook).

Serializers describe fields in Python's snake_case and bodies bare; the 001 family's renderer and parsers
(``config.api.spa``) camel-case every key and put every answer in the envelope ``{success, data, meta}``.
Errors are answered by one exception handler in each family's own format (``config.api.contracts``). This
hook rewrites the generated document to match: 001 component schemas camel-cased (request and response),
001 answers wrapped in the envelope, and each operation's error answers documented in its family's format.
"""

from __future__ import annotations

import re
from typing import Any

from config.api.contracts import Contract, camel, contract_for_path
from config.api.spa import FREE_FORM_KEYS

METHODS = ("get", "put", "post", "patch", "delete")
REF = "#/components/schemas/"
RESPONSES_REF = "#/components/responses/"

# --- Error bodies, one schema per family ---------------------------------------------------------------

_TEXT = {"type": "string"}
_ANY = {}  # any JSON value (details differ per error)

ERROR_SCHEMAS: dict[Contract, tuple[str, dict[str, Any]]] = {
    Contract.SPA: (
        "SpaError",
        {
            "type": "object",
            "description": "001's error envelope.",
            "required": ["success", "error", "requestId"],
            "properties": {
                "success": {"type": "boolean", "enum": [False]},
                "error": {
                    "type": "object",
                    "required": ["code", "message", "details"],
                    "properties": {"code": _TEXT, "message": _TEXT, "details": {**_ANY, "nullable": True}},
                },
                "requestId": _TEXT,
            },
        },
    ),
    Contract.GATEWAY: (
        "GatewayError",
        {
            "type": "object",
            "description": "002's error body (code from 002's catalogue: AUTH_*, VAL_*, RATE_*, SVC_*).",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "timestamp", "requestId"],
                    "properties": {
                        "code": _TEXT,
                        "message": _TEXT,
                        "timestamp": {"type": "string", "format": "date-time"},
                        "requestId": _TEXT,
                        "correlationId": _TEXT,
                        "details": _ANY,
                    },
                }
            },
        },
    ),
    Contract.EDGE: (
        "EdgeError",
        {
            "type": "object",
            "description": "003's error body.",
            "required": ["detail", "error_code", "timestamp", "request_id"],
            "properties": {
                "detail": _TEXT,
                "error_code": _TEXT,
                "timestamp": {"type": "string", "format": "date-time"},
                "request_id": _TEXT,
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "properties": {"field": _TEXT, "message": _TEXT},
                    },
                },
                "details": _ANY,
            },
            # A refusal may add what the spec names beside it (a conflicting id, a limit).
            "additionalProperties": True,
        },
    ),
    Contract.FACE_SERVICE: (
        "FaceServiceError",
        {
            "type": "object",
            "description": "004's error body.",
            "required": ["status", "message", "code"],
            "properties": {
                "status": {"type": "integer"},
                "message": _TEXT,
                "code": _TEXT,
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "properties": {"field": _TEXT, "message": _TEXT},
                    },
                },
            },
        },
    ),
    Contract.COUNTING: (
        "CountingError",
        {
            "type": "object",
            "description": "000's error body (FastAPI handler of its spec).",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "type", "message", "status_code", "path", "timestamp", "request_id"],
                    "properties": {
                        "code": _TEXT,
                        "type": _TEXT,
                        "message": _TEXT,
                        "status_code": {"type": "integer"},
                        "path": _TEXT,
                        "timestamp": {"type": "string", "format": "date-time"},
                        "request_id": _TEXT,
                        "details": _ANY,
                    },
                }
            },
        },
    ),
}

# 000's answer to a retired API version (config.api.versioning), whichever family the path belongs to.
RETIRED_VERSION = (
    "RetiredApiVersion",
    {
        "type": "object",
        "required": ["error", "sunset_date", "message"],
        "properties": {
            "error": {"type": "string", "enum": ["API version deprecated"]},
            "sunset_date": {"type": "string", "description": "HTTP date, as in the Sunset header"},
            "message": _TEXT,
        },
    },
)

ERROR_DESCRIPTIONS = {
    "400": "The request is malformed or a value is invalid",
    "401": "Not authenticated, or the credentials are invalid or expired",
    "403": "Authenticated without the permission (or over a quota)",
    "404": "No such resource",
    "410": "This API version is retired (settings.API_RETIRED_VERSIONS); Sunset says since when",
    "409": "The change conflicts with the resource's state (a duplicate, a stale version, a missing setup)",
    "413": "The request body is larger than the platform accepts",
    "415": "The body's media type is not one the operation accepts",
    "422": "A value is invalid (000's request validation)",
    "429": "Rate limit exceeded (Retry-After says when to try again)",
    "500": "The capture or processing failed (004's FRAME_CAPTURE_FAILED, VIDEO_PROCESSING_FAILED...)",
    "503": "A service the operation depends on is unavailable; try again shortly",
}


def _error_statuses(contract: Contract, path: str, method: str, operation: dict[str, Any]) -> list[str]:
    """The error answers an operation can give: any operation can be refused as unauthenticated, forbidden,
    rate limited or unavailable, a value it reads can be invalid, an object it names can be missing; a write
    can conflict; a body can be too large or of a type it does not take."""
    # 404: an object named in the path, the body or a filter (``?camera_id=``) does not exist.
    statuses = ["400", "401", "403", "404", "429", "503"]
    if contract == Contract.COUNTING:
        statuses.append("422")  # 000 answers an invalid request with 422 (a malformed one too)
    if method != "get":
        statuses += ["409", "413"]
    if "requestBody" in operation:
        statuses.append("415")
    if contract == Contract.FACE_SERVICE:
        statuses.append("500")  # 004 answers a failed capture or processing with 500 and its code
    if re.match(r"^/api/v\d+/", path):
        statuses.append("410")  # a version a site retired answers 410 (000's versioning)
    return sorted(statuses)


# --- 001: camelCase and the envelope -----------------------------------------------------------------


def _refs(node: Any, found: set[str], free: set[str], schemas: dict[str, Any], *, in_free: bool = False) -> None:
    """Component names ``node`` reaches: into ``found`` where keys are renamed, ``free`` under free-form
    keys (kept as the serializer spells them)."""
    if isinstance(node, list):
        for item in node:
            _refs(item, found, free, schemas, in_free=in_free)
        return
    if not isinstance(node, dict):
        return
    if "$ref" in node and node["$ref"].startswith(REF):
        name = node["$ref"].removeprefix(REF)
        target = free if in_free else found
        if name not in target:
            target.add(name)
            _refs(schemas[name], found, free, schemas, in_free=in_free)
        return
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            for prop, schema in value.items():
                _refs(schema, found, free, schemas, in_free=in_free or prop in FREE_FORM_KEYS)
        else:
            _refs(value, found, free, schemas, in_free=in_free)


def _camelized(node: Any, renamed: dict[str, str]) -> Any:
    """``node`` with every property name camel-cased (not below free-form keys), as the 001 renderer does."""
    if isinstance(node, list):
        return [_camelized(item, renamed) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str) and value.startswith(REF):
            out[key] = REF + renamed.get(value.removeprefix(REF), value.removeprefix(REF))
        elif key == "properties" and isinstance(value, dict):
            out[key] = {
                camel(prop): (schema if prop in FREE_FORM_KEYS else _camelized(schema, renamed))
                for prop, schema in value.items()
            }
        elif key == "required" and isinstance(value, list):
            out[key] = [camel(name) for name in value]
        else:
            out[key] = _camelized(value, renamed)
    return out


def _is_spa_page(schema: dict[str, Any]) -> bool:
    return {"success", "data", "meta"} <= set(schema.get("properties", {}))


def _enveloped(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["success", "data"],
        "properties": {"success": {"type": "boolean", "enum": [True]}, "data": schema},
    }


def _json_schemas(container: dict[str, Any]) -> list[dict[str, Any]]:
    """The media-type objects of a response or request body that carry a schema."""
    return [media for media in (container.get("content") or {}).values() if "schema" in media]


def document_families(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS entry: see the module docstring."""
    schemas: dict[str, Any] = result.setdefault("components", {}).setdefault("schemas", {})
    operations = [
        (path, method, operation, contract_for_path(path))
        for path, item in result.get("paths", {}).items()
        for method, operation in item.items()
        if method in METHODS
    ]

    # Components the 001 family renames, and those another family (or a free-form value) shows as they are.
    spa_names: set[str] = set()
    raw_names: set[str] = set()
    for _path, _method, operation, contract in operations:
        parts = [operation.get("requestBody", {}), *operation.get("responses", {}).values()]
        if contract == Contract.SPA:
            _refs(parts, spa_names, raw_names, schemas)
        else:
            _refs(parts, raw_names, raw_names, schemas)
    renamed: dict[str, str] = {}
    for name in sorted(spa_names):
        if name in raw_names and _camelized(schemas[name], {}) != schemas[name]:
            renamed[name] = f"{name}Camel"  # shared with a snake_case family: a camel-cased twin
    for name in sorted(spa_names):
        camel_schema = _camelized(schemas[name], renamed)
        schemas[renamed.get(name, name)] = camel_schema
        if _is_spa_page(camel_schema):
            camel_schema["required"] = ["success", "data", "meta"]
            camel_schema["properties"]["success"] = {"type": "boolean", "enum": [True]}
            camel_schema["properties"]["meta"]["required"] = ["page", "pageSize", "total", "totalPages"]

    for name, schema in (*ERROR_SCHEMAS.values(), RETIRED_VERSION):
        schemas[name] = schema
    answers: dict[str, Any] = result["components"].setdefault("responses", {})

    for path, method, operation, contract in operations:
        responses = operation.setdefault("responses", {})
        if contract == Contract.SPA:
            for media in _json_schemas(operation.get("requestBody", {})):
                media["schema"] = _camelized(media["schema"], renamed)
            for response in responses.values():
                for media in _json_schemas(response):
                    schema = _camelized(media["schema"], renamed)
                    target = schemas.get(schema.get("$ref", "").removeprefix(REF), schema)
                    media["schema"] = schema if _is_spa_page(target) else _enveloped(schema)
        if contract in ERROR_SCHEMAS:
            name = ERROR_SCHEMAS[contract][0]
            for status in _error_statuses(contract, path, method, operation):
                body = RETIRED_VERSION[0] if status == "410" else name
                content = {"application/json": {"schema": {"$ref": REF + body}}}
                if status not in responses:
                    # One shared response object per family and status: the document stays readable.
                    shared = f"{body}{status}" if status != "410" else body
                    answers.setdefault(shared, {"description": ERROR_DESCRIPTIONS[status], "content": content})
                    responses[status] = {"$ref": RESPONSES_REF + shared}
                elif not responses[status].get("content"):  # the view described it; the body is the family's
                    responses[status]["content"] = content
    return result
