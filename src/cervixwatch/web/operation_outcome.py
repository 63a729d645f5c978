"""FHIR OperationOutcome: how the FHIR facade answers any error."""

from __future__ import annotations

from typing import Any, Literal

IssueCode = Literal[
    "invalid",
    "structure",
    "required",
    "value",
    "not-found",
    "not-supported",
    "processing",
    "too-costly",
    "exception",
    "transient",
    "security",
    "forbidden",
    "login",
]


def operation_outcome(
    diagnostics: str,
    code: IssueCode = "invalid",
    severity: Literal["fatal", "error", "warning", "information"] = "error",
    expression: str | None = None,
) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}
