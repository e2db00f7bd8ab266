"""What the OpenAPI document promises an endpoint answers, held against what the endpoint sent.

Many endpoints build their answer as a dict (a payload function shared with the WebSocket, the outbox or a
task) and document it with a serializer that never writes a response. Nothing ties the two together but
this check: the body must validate against the documented schema made strict (no field the document does
not name, every field it requires present, each of its type and format), so a field added, renamed or
dropped on one side only fails a test.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from openapi_schema_validator import OAS30Validator, oas30_format_checker

from config.api.contracts import Contract, contract_for_path
from config.api.spa import snake, transform_keys


@functools.cache
def openapi() -> dict[str, Any]:
    """The platform's OpenAPI document, as JSON (built once per test process)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


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


def documented_schema(path: str, method: str, status: int) -> dict[str, Any]:
    """The JSON schema the document gives for ``method path`` answering ``status`` (path as documented,
    with ``{placeholders}``)."""
    document = openapi()
    operation = document["paths"][path][method.lower()]
    responses = operation["responses"]
    assert str(status) in responses, f"{method} {path} documents no {status} answer (only {sorted(responses)})"
    content = responses[str(status)].get("content") or {}
    assert "application/json" in content, f"{method} {path} {status} documents no JSON body"
    return _resolved(copy.deepcopy(content["application/json"]["schema"]), document["components"]["schemas"])


def _as_documented(path: str, body: Any, schema: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The part of ``body`` the schema describes, in the document's spelling: the 001 envelope's ``data``
    back in snake_case (the renderer camel-cases what the serializer documents)."""
    if contract_for_path(path) != Contract.SPA:
        return body, schema
    assert body.get("success") is True, body
    if {"success", "data", "meta"} <= set(schema.get("properties", {})):  # a paged list documents the envelope
        return {**body, "data": transform_keys(body["data"], snake)}, schema
    return transform_keys(body["data"], snake), schema


def documentation_problems(path: str, method: str, status: int, body: Any) -> list[str]:
    """What in ``body`` the document's schema for ``method path`` answering ``status`` does not allow."""
    schema = documented_schema(path, method, status)
    instance, schema = _as_documented(path, body, schema)
    validator = OAS30Validator(schema, format_checker=oas30_format_checker)
    return sorted(
        f"{'/'.join(str(part) for part in error.absolute_path) or '(body)'}: {error.message}"
        for error in validator.iter_errors(instance)
    )


def assert_documented(response, path: str, method: str | None = None) -> None:
    """``response`` (a test client's) is exactly what ``path`` documents for its method and status."""
    method = method or response.request["REQUEST_METHOD"]
    problems = documentation_problems(path, method, response.status_code, response.json())
    assert not problems, f"{method} {path} sent what its document does not say:\n" + "\n".join(problems)
