"""How each kind of record is coded in FHIR, once, in both directions: the writer
(`fhir_write`) codes a record with these, the readers (`fhir_care`, `fhir_bundle`,
`fhir_intake`) read a code back with their inverses, and the search index (`app.search_index`)
finds in SQL what the writer would write. Codes and their sources:
shared/clinical/fhir-mapping.md and standards.md (`knowledge.codes`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Final, TypeVar

from cervixwatch.clinical.records import (
    CerclageIndication,
    CerclageRoute,
    Chorionicity,
    Complication,
    DatingMethod,
    DeclinableCode,
    ExcisionKind,
    MaternalCondition,
    Medication,
)
from cervixwatch.knowledge import codes as c

E = TypeVar("E", bound=Enum)

COMPLICATION_CODES: Final[Mapping[Complication, c.Code]] = {
    Complication.PRETERM_LABOUR: c.PRETERM_LABOUR,
    Complication.RUPTURED_MEMBRANES: c.RUPTURED_MEMBRANES,
    Complication.CHORIOAMNIONITIS: c.CHORIOAMNIONITIS,
    Complication.VAGINAL_BLEEDING: c.VAGINAL_BLEEDING,
    Complication.FETAL_DEATH: c.FETAL_DEATH,
    Complication.LETHAL_FETAL_ANOMALY: c.LETHAL_FETAL_ANOMALY,
    Complication.PLACENTA_PRAEVIA: c.PLACENTA_PRAEVIA,
}
MATERNAL_CODES: Final[Mapping[MaternalCondition, c.Code]] = {
    MaternalCondition.UTERINE_ANOMALY: c.UTERINE_ANOMALY,
    MaternalCondition.INTRAUTERINE_ADHESIONS: c.INTRAUTERINE_ADHESIONS,
    MaternalCondition.CERVICAL_INSUFFICIENCY: c.CERVICAL_INSUFFICIENCY,
}
#: The EDD's code by how it was worked out (an EDD of unknown method: `c.EDD`).
DATING_CODES: Final[Mapping[DatingMethod, c.Code]] = {
    DatingMethod.LAST_MENSTRUAL_PERIOD: c.EDD_FROM_LMP,
    DatingMethod.OVULATION_DATE: c.EDD_FROM_OVULATION,
    DatingMethod.ULTRASOUND: c.EDD_FROM_ULTRASOUND,
}
#: A twin pregnancy's chorionicity, as the Condition it is read from and written as.
CHORIONICITY_CODES: Final[Mapping[Chorionicity, c.Code]] = {
    Chorionicity.DICHORIONIC_DIAMNIOTIC: c.DCDA_TWIN_PREGNANCY,
    Chorionicity.MONOCHORIONIC: c.MC_TWIN_PREGNANCY,
}
EXCISION_CODES: Final[Mapping[ExcisionKind, c.Code]] = {
    ExcisionKind.LLETZ: c.LLETZ,
    ExcisionKind.CONE_BIOPSY: c.CONE_BIOPSY,
    ExcisionKind.TRACHELECTOMY: c.TRACHELECTOMY,
}
CERCLAGE_CODES: Final[Mapping[CerclageRoute, c.Code]] = {
    CerclageRoute.TRANSVAGINAL: c.CERCLAGE_VAGINAL,
    CerclageRoute.TRANSABDOMINAL: c.CERCLAGE_ABDOMINAL,
    CerclageRoute.UNKNOWN: c.CERCLAGE_UNSPECIFIED,
}
MEDICATION_CODES: Final[Mapping[Medication, c.Code]] = {
    Medication.VAGINAL_PROGESTERONE: c.VAGINAL_PROGESTERONE,
    Medication.HYDROXYPROGESTERONE_CAPROATE: c.HYDROXYPROGESTERONE_CAPROATE,
}
#: A cerclage's indication, as the CW reason code of its Procedure.
INDICATION_CODES: Final[Mapping[CerclageIndication, c.Code]] = {
    i: c.cw(i.value) for i in CerclageIndication
}
#: A declined cerclage as the Procedure it is read from and written as: code and CW reason.
DECLINED_CERCLAGE: Final[Mapping[DeclinableCode, tuple[c.Code, c.Code | None]]] = {
    DeclinableCode.HISTORY_INDICATED_CERCLAGE: (
        c.CERCLAGE_VAGINAL,
        INDICATION_CODES[CerclageIndication.HISTORY],
    ),
    DeclinableCode.ULTRASOUND_INDICATED_CERCLAGE: (
        c.CERCLAGE_VAGINAL,
        INDICATION_CODES[CerclageIndication.ULTRASOUND],
    ),
    DeclinableCode.EXAM_INDICATED_CERCLAGE: (
        c.CERCLAGE_VAGINAL,
        INDICATION_CODES[CerclageIndication.EXAM],
    ),
    DeclinableCode.ABDOMINAL_CERCLAGE: (c.CERCLAGE_ABDOMINAL, None),
}


def inverse(table: Mapping[E, c.Code]) -> dict[c.Code, E]:
    """A code table read backwards: the record kind of each code."""
    return {code: kind for kind, code in table.items()}


#: The readers' side.
COMPLICATION_OF: Final = inverse(COMPLICATION_CODES)
MATERNAL_OF: Final = inverse(MATERNAL_CODES)
CHORIONICITY_OF: Final = inverse(CHORIONICITY_CODES)
DATING_OF: Final = inverse(DATING_CODES)
CERCLAGE_ROUTE_OF: Final = inverse(CERCLAGE_CODES)
INDICATION_OF: Final = inverse(INDICATION_CODES)
#: The offer of cerclage declined, by the indication its Procedure gives as CW reason code.
DECLINED_CERCLAGE_OF: Final[Mapping[c.Code, DeclinableCode]] = {
    INDICATION_CODES[CerclageIndication.HISTORY]: DeclinableCode.HISTORY_INDICATED_CERCLAGE,
    INDICATION_CODES[CerclageIndication.ULTRASOUND]: DeclinableCode.ULTRASOUND_INDICATED_CERCLAGE,
    INDICATION_CODES[CerclageIndication.EXAM]: DeclinableCode.EXAM_INDICATED_CERCLAGE,
    INDICATION_CODES[CerclageIndication.ABDOMINAL]: DeclinableCode.ABDOMINAL_CERCLAGE,
}

#: FHIR's Observation categories (http://terminology.hl7.org/CodeSystem/observation-category).
OBSERVATION_CATEGORY_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
#: The category of each kind of Observation, as shared/clinical/standards.md section 2 gives it:
#: the cervical length an imaging result, the digital exam's findings an exam, fetal
#: fibronectin a laboratory result. (It gives none for the due date, the fetus count or the
#: pregnancy history, so they carry none.)
OBSERVATION_CATEGORIES: Final[Mapping[c.Code, str]] = {
    c.CERVICAL_LENGTH: "imaging",
    c.DILATION: "exam",
    c.EFFACEMENT: "exam",
    c.MEMBRANES_EXPOSED: "exam",
    c.FFN_QUANTITATIVE: "laboratory",
    c.FFN_QUALITATIVE: "laboratory",
}
