"""What a FHIR resource's status does to the record it carries, in one table that the reader
(`fhir_bundle`, `fhir_care`: is it read?) and the import (`fhir_intake`: does it take back what
was stored before?) both use, so the two cannot disagree (issue 11: they did).

- `READ`: the resource is read as a record.
- `SKIP`: not read now, and what was stored of it before stays (a procedure in preparation, a
  draft order, a review not yet done).
- `WITHDRAW`: not read, and what was stored of it before is taken back (entered in error,
  cancelled, a procedure not done).
- `END`: a medication order that has ended (stopped, completed): the stored order is kept, no
  longer active.

The statuses are those of the R4 value sets bound (required) to each element; a status a
resource type does not list has that type's `default`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Final


class Effect(Enum):
    READ = "read"
    SKIP = "skip"
    WITHDRAW = "withdraw"
    END = "end"


READ: Final = Effect.READ
SKIP: Final = Effect.SKIP
WITHDRAW: Final = Effect.WITHDRAW
END: Final = Effect.END


@dataclass(frozen=True, slots=True)
class StatusTable:
    """One resource type's statuses (`status`) and what each does; `default` for the rest."""

    effects: Mapping[str, Effect]
    default: Effect

    def effect(self, status: object) -> Effect:
        return self.effects.get(status, self.default) if isinstance(status, str) else self.default

    def having(self, *effects: Effect) -> frozenset[str]:
        return frozenset(s for s, e in self.effects.items() if e in effects)


#: Per resource type. Observation (observation-status), Procedure (event-status),
#: MedicationRequest (medicationrequest-status), MedicationStatement
#: (medication-statement-status), QuestionnaireResponse (questionnaire-answers-status), Task
#: (task-status).
STATUSES: Final[Mapping[str, StatusTable]] = {
    "Observation": StatusTable({"entered-in-error": WITHDRAW, "cancelled": WITHDRAW}, READ),
    "Procedure": StatusTable(
        {
            "entered-in-error": WITHDRAW,
            # Not done: no excision or cerclage (with the patient's refusal as its reason, an
            # offer declined: `fhir_care.procedure`).
            "not-done": WITHDRAW,
            "preparation": SKIP,
            "stopped": SKIP,
            "unknown": SKIP,
        },
        READ,
    ),
    "MedicationRequest": StatusTable(
        {
            "active": READ,
            "entered-in-error": WITHDRAW,
            "stopped": END,
            "cancelled": END,
            "on-hold": END,
            "completed": END,
        },
        SKIP,  # draft, unknown: not an order in force
    ),
    # Only a declined medication is read from a MedicationStatement (fhir-mapping.md).
    "MedicationStatement": StatusTable({"not-taken": READ, "entered-in-error": WITHDRAW}, SKIP),
    "QuestionnaireResponse": StatusTable({"entered-in-error": WITHDRAW, "stopped": SKIP}, READ),
    "Task": StatusTable(
        {
            "completed": READ,
            "entered-in-error": WITHDRAW,
            "cancelled": WITHDRAW,
            "rejected": WITHDRAW,
            "failed": WITHDRAW,
        },
        SKIP,  # a review not yet done
    ),
}

#: Condition: what its verificationStatus and clinicalStatus codes do.
#: Verification statuses that do not make a Condition one the woman has.
UNCONFIRMED_CONDITION: Final = frozenset(
    {"provisional", "differential", "unconfirmed", "refuted", "entered-in-error"}
)
#: ... and of those, the ones that take back what was stored of it.
REFUTED_CONDITION: Final = frozenset({"refuted", "entered-in-error"})
#: Clinical statuses of a condition that has ended.
INACTIVE_CONDITION: Final = frozenset({"inactive", "resolved", "remission"})

#: An Observation sent as a revision stands instead of the one it revises.
REVISED_OBSERVATION: Final = frozenset({"amended", "corrected"})

#: How an ended medication order ended (`END`): its status, as a stored order's.
ENDED_AS: Final[Mapping[str, str]] = {
    "stopped": "stopped",
    "cancelled": "stopped",
    "on-hold": "stopped",
    "completed": "completed",
}


def effect(resource_type: str, status: object) -> Effect:
    """What `status` does to a resource of `resource_type` (READ for types without statuses
    here, such as Condition, whose codes are read by `fhir_care.condition`)."""
    table = STATUSES.get(resource_type)
    return READ if table is None else table.effect(status)
