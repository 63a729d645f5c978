"""The risk-evidence knowledge file (knowledge/evidence/risk-*.yaml) as `RiskEvidence`.

Numbers stay numbers: the display text is made from them in `clinical.risk`, and the demo cohort
reads the same numbers (no figure is parsed back from text).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cervixwatch.clinical.gestation import ga
from cervixwatch.clinical.risk import LengthBand, RecurrenceFigure, RiskEvidence, Study


def _study(raw: Mapping[str, Any]) -> Study:
    window = raw.get("window")
    days = (ga(window["from"]), ga(window["upto"])) if window else (0, 0)
    return Study(
        citation=" ".join(str(raw["citation"]).split()),
        population=str(raw["population"]),
        window_days=days,
    )


def evidence_from_data(data: Mapping[str, Any]) -> RiskEvidence:
    """Build the evidence tables; a missing key or a non-number raises (the loader names the
    file)."""
    kazemier = data["kazemier_2014"]
    recurrence = {
        (str(row["current"]), str(row["previous"])): RecurrenceFigure(
            percent=float(row["percent"]),
            ci_low=float(row["ci_low"]),
            ci_high=float(row["ci_high"]),
            decimals=row.get("decimals"),
        )
        for row in kazemier["rows"]
    }
    iams = data["iams_1996"]
    hassan = data["hassan_2000"]
    conde = data["conde_agudelo_2010"]
    return RiskEvidence(
        kazemier=_study(kazemier),
        kazemier_recurrence=recurrence,
        iams=_study(iams),
        iams_bands=tuple(
            LengthBand(float(b["cutoff_mm"]), float(b["relative_risk"]), str(b["percentile"]))
            for b in iams["bands"]
        ),
        hassan=_study(hassan),
        hassan_cutoff_mm=float(hassan["cutoff_mm"]),
        hassan_ppv_percent=float(hassan["ppv_percent"]),
        hassan_before_weeks=int(hassan["outcome_before_weeks"]),
        conde_agudelo=_study(conde),
        conde_agudelo_bands=tuple(
            LengthBand(
                float(b["cutoff_mm"]), float(b["lr_positive"]), str(b["outcome"]), b.get("also", "")
            )
            for b in conde["bands"]
        ),
    )
