"""What every reader of clinical input (FHIR today; a DICOM SR or HL7 v2 reader beside it)
says when it cannot read what it was sent: `IntakeError`, structured so that each caller
(the import, the command line, `Patient/$match`) uses it as it is, never by re-reading a
message.

- `resource`: the item as the source names it, for people: `Observation/cl-1 (entry 3)`; a
  DICOM SR reader would say `SR 1.2.840... (instance 2)`, an HL7 v2 reader `OBX (segment 5)`.
- `path`: where in what was sent, for machines: a FHIRPath expression for FHIR
  (`Bundle.entry[3].resource.valueQuantity.code`), a DICOM tag path or an HL7 v2 field
  (`OBX-5`) for the others. None when the whole input is wrong.
- `problem`: what is wrong, in a sentence.

The message (`str(error)`) is `resource: element: problem`, the one line the command line
prints and an OperationOutcome's `diagnostics` carries.
"""

from __future__ import annotations

from typing import Literal

#: The FHIR IssueType a reader's refusal is answered with (readers of other formats use the
#: same few: the words are generic).
IssueCode = Literal["invalid", "structure", "value", "not-found", "not-supported", "processing"]


class IntakeError(ValueError):
    """Input that cannot be read as clinical records, naming the item and the element."""

    def __init__(
        self,
        message: str,
        *,
        resource: str | None = None,
        path: str | None = None,
        problem: str | None = None,
        code: IssueCode = "invalid",
    ) -> None:
        super().__init__(message)
        self.resource = resource
        self.path = path
        self.problem = problem if problem is not None else message
        self.code: IssueCode = code
