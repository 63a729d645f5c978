"""Synthetic ORU^R01 results as an ultrasound reporting system sends them (standards.md,
section 6). Synthetic patients only."""

from __future__ import annotations

HOSPITAL_AUTHORITY = "HOSP&1.2.826.0.1.999999.1&ISO"


def oru(
    control_id: str,
    *,
    patient: str = "SYN-0001",
    authority: str = HOSPITAL_AUTHORITY,
    value: str = "23",
    unit: str = "mm^millimeter^UCUM",
    code: str = "11961-0^Cervix [Length] by US^LN",
    status: str = "F",
    observed: str = "20261120100500",
    order: str = "ACC1",
    encoding: str = "^~\\&",
    segments: tuple[str, ...] = ("PID", "OBR", "OBX"),
    birth: str = "19900101",
) -> str:
    """One ORU^R01 with one OBX; `segments` leaves some out."""
    lines = [
        f"MSH|{encoding}|VIEWPOINT|MATERNITY|CERVIXWATCH|HOSP|20261120101500||ORU^R01^ORU_R01|"
        f"{control_id}|P|2.5.1",
        f"PID|1||{patient}^^^{authority}^MR||Synthetic^Ada||{birth}|F",
        f"OBR|1||{order}|US^Ultrasound|||20261120100000",
        f"OBX|1|NM|{code}||{value}|{unit}|||||{status}|||{observed}",
    ]
    kept = [line for line in lines if line[:3] == "MSH" or line[:3] in segments]
    return "\r".join(kept) + "\r"
