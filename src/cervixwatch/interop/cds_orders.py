"""What an EHR's draft orders (a CDS Hooks `order-select` / `order-sign` context's
`draftOrders`, an R4 Bundle) order, in CervixWatch's terms: vaginal progesterone, 17-OHPC or
a cerclage. A medication is recognised as the FHIR reader recognises it
(`fhir_care._medication`, fhir-mapping.md: the CW code, or RxNorm 312641 given vaginally);
a cerclage is a ServiceRequest coded as a cerclage (SNOMED 90442009, 46681009, 265636007).
Anything else is not ours to judge and is left alone.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from cervixwatch.clinical.records import Medication
from cervixwatch.interop.fhir_care import _medication  # the reader's own, not a second one
from cervixwatch.interop.fhir_codes import CERCLAGE_ROUTE_OF
from cervixwatch.interop.fhir_values import BundleError, Where, codes_of

OrderedKind = Literal["vaginal-progesterone", "hydroxyprogesterone-caproate", "cerclage"]

#: The recommendation codes an order is a case of: a profile's suppression of one of these
#: (twins, a contraindication) speaks against the order too.
CODES_ORDERED: Final[Mapping[OrderedKind, frozenset[str]]] = {
    "vaginal-progesterone": frozenset({"vaginal-progesterone"}),
    "hydroxyprogesterone-caproate": frozenset(),
    "cerclage": frozenset(
        {"history-indicated-cerclage", "ultrasound-indicated-cerclage", "exam-indicated-cerclage"}
    ),
}
#: What a card calls each kind of order.
ORDER_LABELS: Final[Mapping[OrderedKind, str]] = {
    "vaginal-progesterone": "Vaginal progesterone",
    "hydroxyprogesterone-caproate": "17-OHPC",
    "cerclage": "Cervical cerclage",
}
_MEDICATION_KINDS: Final[Mapping[Medication, OrderedKind]] = {
    Medication.VAGINAL_PROGESTERONE: "vaginal-progesterone",
    Medication.HYDROXYPROGESTERONE_CAPROATE: "hydroxyprogesterone-caproate",
}


@dataclass(frozen=True, slots=True)
class DraftOrder:
    """One draft order we recognise: its reference (`MedicationRequest/103`) and kind."""

    reference: str
    kind: OrderedKind


def _kind(resource: dict[str, Any], where: Where) -> OrderedKind | None:
    kind = resource.get("resourceType")
    if kind == "MedicationRequest":
        medication = _medication(resource, {}, where)
        return _MEDICATION_KINDS.get(medication) if medication is not None else None
    if kind == "ServiceRequest" and codes_of(resource.get("code")) & set(CERCLAGE_ROUTE_OF):
        return "cerclage"
    return None


def draft_orders(bundle: object, selections: Collection[str] | None = None) -> list[DraftOrder]:
    """The orders of `bundle` that we recognise; with `selections` (order-select), only the
    selected ones (by `Type/id`). A Bundle that is not one is a BundleError naming it."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise BundleError("context.draftOrders: expected a FHIR Bundle", path="draftOrders")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise BundleError("context.draftOrders.entry: expected a list", path="draftOrders.entry")
    out: list[DraftOrder] = []
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            continue
        reference = f"{resource['resourceType']}/{resource.get('id', '')}"
        if selections is not None and reference not in selections:
            continue
        found = _kind(resource, Where(resource, index))
        if found is not None:
            out.append(DraftOrder(reference, found))
    return out
