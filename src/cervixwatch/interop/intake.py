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

And what every reader gives the import use case (`app.importing`), whatever it read, so that one
use case stores what any reader produced:

- `Frame`: who the input is about (`patient`, as the input describes her, if it does), the
  references that name a woman outside the input (for the use case to resolve against the
  store), and its items. Made before anything is looked up.
- `Intake`: her records, what the input takes back (`Withdrawals`), and for each item what the
  use case needs to say what became of it (`Item`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from cervixwatch.clinical.records import Complication, MaternalCondition, PregnancyRecords

if TYPE_CHECKING:
    from cervixwatch.interop.fhir_patient import PatientIdentity

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


# --- what a reader gives the import ---------------------------------------------------------

#: How a record kind is named in an intake: a field of `PregnancyRecords`, or
#: `symptom_reviews` for the reviews held inside reports.
Part = str
#: The pregnancy-level facts an item may state (stored on the pregnancy, not as a record row).
PregnancyFact = Literal["edd", "fetuses", "chorionicity"]


@dataclass(frozen=True, slots=True)
class Item:
    """One item of the input (a FHIR entry; a DICOM SR instance; an HL7 v2 OBX), as the use
    case needs it to answer what became of it."""

    index: int
    #: What the source calls it: `Observation`, `OBX`.
    kind: str
    #: For people: `Observation/cl-1 (entry 3)`.
    label: str
    #: For machines: where it is (`Bundle.entry[3].resource`); `path(field)` adds an element.
    base: str
    #: The id its source gave it (None: sent without one).
    source_id: str | None = None
    #: The record parts it may be stored as (() : it carries no records).
    parts: tuple[Part, ...] = ()
    #: False when its status takes it back (entered in error): it is stored as nothing.
    kept: bool = True
    #: An examination finding: which part of the exam (dilation, effacement, membranes).
    exam_part: str | None = None
    #: A due date, a fetus count or a twin pregnancy's chorionicity, kept on the pregnancy.
    pregnancy_fact: PregnancyFact | None = None
    #: The conditions it states, found by kind when it has no id of its own.
    conditions: tuple[Complication | MaternalCondition, ...] = ()
    #: Sent without an id: the records it gives read alone, to find the row it went to.
    alone: PregnancyRecords | None = None
    #: It asks for what it names to be removed (a FHIR DELETE).
    deletes: bool = False
    #: It describes the woman herself (a FHIR Patient, a PID segment).
    is_patient: bool = False

    def path(self, element: str) -> str:
        return f"{self.base}.{element}"


@dataclass(frozen=True, slots=True)
class PatientReference:
    """An item's reference to a woman not described in the input (`Patient/123`), for the use
    case to resolve against the store."""

    item: Item
    #: The element that holds it (`subject.reference`).
    element: str
    target: str
    #: Whether the item carries records (a reference that names nobody refuses it then).
    of_record: bool


@dataclass(frozen=True, slots=True)
class Frame:
    """Who an input is about, before anything is looked up."""

    items: tuple[Item, ...]
    #: The item describing her, and what it says (None: she is named only by reference).
    patient_item: Item | None = None
    patient: PatientIdentity | None = None
    references: tuple[PatientReference, ...] = ()
    #: The ids of reports the input's reviews name but it does not hold (sent before), for
    #: the use case to supply from the store as `context` (`app.late_reviews`).
    reports_named: tuple[str, ...] = ()

    @property
    def records(self) -> tuple[Item, ...]:
        """The items that carry records (including those that take records back)."""
        return tuple(i for i in self.items if i.parts and not i.deletes)


@dataclass(frozen=True, slots=True)
class Withdrawals:
    """What an input takes back of what was stored from it before."""

    #: {part: source ids}: whatever was stored of each id as this part, except what the
    #: records now given hold (entered in error; now another kind of record; deleted).
    removed: Mapping[Part, Sequence[str]] = field(default_factory=dict)
    #: {source id: ("stopped" | "completed", the day it ended if the source says)}.
    ended_orders: Mapping[str, tuple[Literal["stopped", "completed"], dt.date | None]] = field(
        default_factory=dict
    )
    #: {complication: the day it resolved (None: not said, so the day it is received)}.
    resolved: Mapping[Complication, dt.date | None] = field(default_factory=dict)
    refuted_complications: frozenset[Complication] = frozenset()
    refuted_maternal: frozenset[MaternalCondition] = frozenset()


@dataclass(frozen=True, slots=True)
class Intake:
    """What a reader made of its input: her records (as of no particular day: all of them),
    what the input takes back, and each item."""

    frame: Frame
    records: PregnancyRecords
    withdrawals: Withdrawals
    #: (part, source id, day) of a record to the item and element that dated it, to name
    #: where a record refused for its date came from; None if no item is found.
    dated_by: Callable[[Part, str | None, dt.date], tuple[Item, str] | None]
    #: Records the reader added from `context` (stored ones it was given), not sent.
    added: int = 0
