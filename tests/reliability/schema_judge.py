"""A judge for tests that do not care what it says: it answers every request with the smallest reply that fits the
JSON schema the request asks for (scores in the middle of their range), so the reliability tests keep working
whatever shape the judge's schema takes."""

from __future__ import annotations

import json
from typing import Any

from tests.support.openai_server import Reply


def instance(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """A value that validates against `schema` (the subset of JSON Schema pydantic writes)."""
    if "$ref" in schema:
        return instance(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return instance(options[0], defs)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: instance(sub, defs) for name, sub in props.items()}
    if kind == "array":
        return [instance(schema.get("items", {}), defs) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return "ok" * max(1, schema.get("minLength", 1))
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", 1), schema.get("maximum", 10)
        value = (low + high) // 2 if kind == "integer" else (low + high) / 2
        return value
    if kind == "boolean":
        return False
    return None


def schema_of(body: dict[str, Any]) -> dict[str, Any]:
    fmt = body.get("response_format") or {}
    return fmt.get("json_schema", {}).get("schema") or fmt.get("schema") or {}


def fitting_reply(body: dict[str, Any]) -> Reply:
    schema = schema_of(body)
    return Reply(text=json.dumps(instance(schema, schema.get("$defs", {}))))
