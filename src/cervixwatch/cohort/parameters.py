"""Every number the demo cohort is drawn from, as a named constant saying where it comes from.

Two kinds of number live here, and each constant says which it is:

* **PUBLISHED**: a figure from a source summarised in shared/clinical/risk-evidence.md (the
  section is named), with its citation. Where the cohort uses a published figure for a purpose
  a little different from the paper's (a mean over 14-24 weeks placed at 19 weeks, a standard
  deviation derived from a percentile), the comment says so.
* **DEMO**: the demo clinic's own mix (who is referred, how often a scan is missed, how often a
  woman accepts an offered treatment ...), chosen so that the demonstration shows every kind of
  case. These are NOT population estimates, were not taken from any study, and must never be
  quoted as such.

The cohort models no effect of a cervical length or a treatment on the outcome: no combined
model of history, length and treatment can be verified (risk-evidence.md, "(a) 4"), so a past
patient's outcome is drawn from her history alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from statistics import NormalDist

from cervixwatch.clinical.gestation import ga
from cervixwatch.clinical.records import Onset, ReviewOutcome, Symptom
from cervixwatch.cohort.model import Referral
from cervixwatch.knowledge import bundled_evidence

_EVIDENCE = bundled_evidence()
#: The citations of the published figures, as the clinical core shows them.
HASSAN_2000 = _EVIDENCE.hassan.citation
IAMS_1996 = _EVIDENCE.iams.citation
KAZEMIER_2014 = _EVIDENCE.kazemier.citation

OWEN_2010 = "Owen J et al. Am J Obstet Gynecol 2010;203:393.e1-5 (PubMed 20708169)."
ESPLIN_2017 = "Esplin MS et al. (nuMoM2b). JAMA 2017;317:1047-56 (PMC5828036)."
P5_TWINS_2023 = (
    "Brazilian P5 twin cohort: cervical length and spontaneous preterm birth in twins, "
    "doi:10.1055/s-0043-1769467 (risk-evidence.md 6.4)."
)

# --- Cervical length in this pregnancy (PUBLISHED) ------------------------------------------

#: PUBLISHED, Iams 1996 (risk-evidence.md 4): transvaginal length at about 24 weeks in 2,915
#: singleton pregnancies, normally distributed, mean 35.2 mm, SD 8.3 mm.
IAMS_24W_MEAN_MM = 35.2
IAMS_24W_SD_MM = 8.3
#: PUBLISHED, Iams 1996 (risk-evidence.md 4): the same women at about 28 weeks: 33.7 +/- 8.5 mm.
IAMS_28W_MEAN_MM = 33.7
IAMS_28W_SD_MM = 8.5
#: PUBLISHED, Hassan 2000 (risk-evidence.md 6.3): mean length 37.5 mm in 6,877 women scanned at
#: 14-24 weeks. The cohort places this mean at 19+0, the middle of that window (a derived use:
#: Hassan gives no mean by week), and takes Iams' 24-week SD for it (Hassan's SD is not known).
HASSAN_14_24W_MEAN_MM = 37.5
HASSAN_MEAN_AT_DAYS = ga("19+0")
#: Gestational ages (days) at which the Iams figures apply; between the anchors the mean and
#: SD are interpolated linearly, before 19+0 and after 28+0 they are held (DEMO extrapolation:
#: no source here gives lengths by week outside 14-28 weeks).
IAMS_24W_DAYS = ga("24+0")
IAMS_28W_DAYS = ga("28+0")

#: PUBLISHED, Owen 2010 (risk-evidence.md 5, companion evidence): of 1,014 women with a previous
#: spontaneous preterm birth screened at 16+0-22+6 weeks, 153 had a length under 25 mm.
OWEN_2010_SHORT = 153
OWEN_2010_SCREENED = 1014
PRIOR_SPTB_SHORT_FRACTION = OWEN_2010_SHORT / OWEN_2010_SCREENED
SHORT_CERVIX_MM = 25.0
#: Derived: the shift (in SDs of the Hassan/Iams distribution at 19+0) that makes a woman with a
#: previous sPTB or mid-trimester loss have a length under 25 mm at 19+0 with Owen's frequency.
PRIOR_SPTB_Z_SHIFT = (
    SHORT_CERVIX_MM - HASSAN_14_24W_MEAN_MM
) / IAMS_24W_SD_MM - NormalDist().inv_cdf(PRIOR_SPTB_SHORT_FRACTION)

#: PUBLISHED, P5 twins (risk-evidence.md 6.4): 253 twin pregnancies, mean length 33.7 mm and
#: 10th percentile 17.8 mm. The SD is derived from those two under a normal distribution
#: (about 12.4 mm); the same distribution is used at every week (DEMO simplification).
TWIN_MEAN_MM = 33.7
TWIN_P10_MM = 17.8
TWIN_SD_MM = (TWIN_MEAN_MM - TWIN_P10_MM) / NormalDist().inv_cdf(0.9)

#: DEMO: correlation between two scans of the same woman's cervix (so serial lengths track one
#: another while each stays distributed as published). Chosen for demonstration.
SERIAL_LENGTH_CORRELATION = 0.9
#: DEMO: lengths are kept within this range (mm), as a machine would report them.
LENGTH_MIN_MM = 2.0
LENGTH_MAX_MM = 60.0

# --- Obstetric history: recurrence of spontaneous preterm birth ----------------------------


#: PUBLISHED, Kazemier 2014 (risk-evidence.md 6.3): absolute risk of sPTB by (this pregnancy,
#: previous birth), read as numbers from the knowledge file the clinical core shows
#: (knowledge/evidence/), so the two never disagree. Keys: ("singleton"|"twins", "preterm
#: singleton"|"term twins"|...).
KAZEMIER_SPTB_RISK: Mapping[tuple[str, str], float] = {
    key: figure.percent / 100 for key, figure in _EVIDENCE.kazemier_recurrence.items()
}
#: PUBLISHED, Esplin 2017 (nuMoM2b, risk-evidence.md 6.3): 474 of 9,410 nulliparous women (5.0%)
#: had a spontaneous preterm birth. Used for a woman's first birth when it is a singleton.
FIRST_SINGLETON_SPTB_RISK = 474 / 9410
#: PUBLISHED, P5 twins (risk-evidence.md 6.4): spontaneous preterm birth before 37 weeks in
#: 33.6% of twin pregnancies. Used for a twin pregnancy that Kazemier's table does not cover
#: (a first birth, or twins after twins).
TWIN_SPTB_RISK = 0.336
#: DEMO: Kazemier's table in risk-evidence.md has no row for a singleton after a term
#: singleton; the demo uses 3%, chosen below the nulliparous figure because a previous term
#: birth is reassuring. Not a population estimate.
SINGLETON_AFTER_TERM_SINGLETON_SPTB_RISK = 0.03

# --- The demo clinic's mix (DEMO: chosen for demonstration, not population estimates) --------

#: DEMO: why each woman is on the clinic's list. A preterm-birth prevention clinic sees mostly
#: referred high-risk women; the "routine" ones are the antenatal clinic's women booked for the
#: single mid-trimester screen. Chosen so the demo shows every pathway.
REFERRAL_MIX: Mapping[Referral, float] = {
    Referral.PRIOR_SPTB: 0.30,
    Referral.PRIOR_MID_TRIMESTER_LOSS: 0.06,
    Referral.CERVICAL_EXCISION: 0.10,
    Referral.TWINS: 0.06,
    Referral.UTERINE_ANOMALY: 0.02,
    Referral.ROUTINE: 0.46,
}
#: DEMO: gestational age (days) of active pregnancies on the reference date, uniform.
ACTIVE_GA_DAYS = (ga("8+0"), ga("40+0"))
#: DEMO: past patients' deliveries fall this many days before the reference date, uniform.
PAST_DELIVERY_DAYS_AGO = (1, 730)
#: DEMO: the share of a registry's women (`demo-data --bulk`) who have delivered: two years of
#: births (PAST_DELIVERY_DAYS_AGO) beside the pregnancies under way (ACTIVE_GA_DAYS, about 32
#: weeks of them) gives about three in four; their births carry the population audit's
#: outcomes.
REGISTRY_PAST_SHARE = 0.75
#: DEMO: gestational age at booking (the first visit, when history is taken), uniform.
BOOKING_GA_DAYS = (ga("8+0"), ga("12+6"))
#: DEMO: the woman's age in years: normal, clipped.
MATERNAL_AGE_MEAN = 31.0
MATERNAL_AGE_SD = 5.5
MATERNAL_AGE_RANGE = (18, 46)
#: DEMO: how many previous births (not counting losses), by referral: weights for 0, 1, 2, 3.
PREVIOUS_BIRTHS_WEIGHTS: Mapping[Referral, tuple[float, float, float, float]] = {
    Referral.PRIOR_SPTB: (0, 55, 30, 15),
    Referral.PRIOR_MID_TRIMESTER_LOSS: (50, 35, 15, 0),
    Referral.CERVICAL_EXCISION: (45, 35, 15, 5),
    Referral.TWINS: (40, 35, 18, 7),
    Referral.UTERINE_ANOMALY: (45, 35, 15, 5),
    Referral.ROUTINE: (42, 35, 16, 7),
}
#: DEMO: chance that a previous birth was of twins.
PREVIOUS_TWIN_BIRTH = 0.02
#: DEMO: chance of an early miscarriage (6+0-13+6) before each birth or loss in her history.
EARLY_MISCARRIAGE = 0.12
EARLY_MISCARRIAGE_DAYS = (ga("6+0"), ga("13+6"))
#: DEMO: chance of a termination before each birth or loss in her history.
TERMINATION = 0.04
TERMINATION_DAYS = (ga("6+0"), ga("12+6"))
#: DEMO: days between the end of one pregnancy and the start of the next, uniform.
INTERPREGNANCY_DAYS = (150, 1500)
#: DEMO: gestational age of a previous spontaneous preterm birth: (band in days, weight).
SPTB_GESTATION_BANDS: tuple[tuple[tuple[int, int], float], ...] = (
    ((ga("22+0"), ga("27+6")), 12),
    ((ga("28+0"), ga("31+6")), 18),
    ((ga("32+0"), ga("33+6")), 15),
    ((ga("34+0"), ga("36+6")), 55),
)
TERM_GESTATION_DAYS = (ga("37+0"), ga("41+6"))
#: DEMO: how a spontaneous preterm birth started.
SPTB_ONSETS: Mapping[Onset, float] = {
    Onset.SPONTANEOUS_LABOUR: 55,
    Onset.PPROM: 35,
    Onset.PAINLESS_CERVICAL_DILATION: 10,
}
#: DEMO: how a term birth started.
TERM_ONSETS: Mapping[Onset, float] = {Onset.SPONTANEOUS_LABOUR: 70, Onset.MEDICALLY_INDICATED: 30}
#: DEMO: the mid-trimester loss of a woman referred for one: gestation and onset.
MID_TRIMESTER_LOSS_DAYS = (ga("16+0"), ga("23+6"))
MID_TRIMESTER_LOSS_ONSETS: Mapping[Onset, float] = {
    Onset.PAINLESS_CERVICAL_DILATION: 50,
    Onset.SPONTANEOUS_LABOUR: 30,
    Onset.PPROM: 20,
}
#: DEMO: a history date remembered only to the year.
YEAR_ONLY_HISTORY_DATE = 0.1
#: DEMO: excisions of women referred for one: LLETZ (with depth, mm, normal and clipped) or
#: a cone biopsy; some have had two LLETZ.
CONE_BIOPSY = 0.15
SECOND_LLETZ = 0.1
LLETZ_DEPTH_MEAN_MM = 10.0
LLETZ_DEPTH_SD_MM = 4.0
LLETZ_DEPTH_RANGE_MM = (4.0, 25.0)
LLETZ_DEPTH_UNRECORDED = 0.2
#: DEMO: data a clinic is often missing: the fetus count, the EDD.
FETUS_COUNT_UNRECORDED = 0.02
EDD_UNRECORDED = 0.005

# --- The clinic's care (DEMO) ----------------------------------------------------------------

#: DEMO: chance a woman misses a scan that falls due before the reference date (she then shows
#: as overdue on the worklist: "some overdue on purpose").
MISSED_SCAN = 0.15
#: DEMO: chance a scan due on the reference date itself has already been done.
DUE_TODAY_DONE = 0.5
#: DEMO: twins get no cervical-length schedule from the guidelines; the demo clinic measures
#: the length at the anomaly scan (18+0-22+6) this often.
TWIN_ANOMALY_SCAN_LENGTH = 0.6
ANOMALY_SCAN_DAYS = (ga("18+0"), ga("22+6"))
#: DEMO: the clinic's interval between serial scans where the guideline leaves it to the clinic
#: (NICE/SBL-04), the same two weeks as the NICHD protocol ACOG quotes.
CLINIC_SERIAL_INTERVAL_DAYS = 14
#: DEMO: chance a woman accepts a treatment the guidelines give, by the rule's strength.
ACCEPTANCE: Mapping[str, float] = {
    "recommend": 0.85,
    "offer": 0.75,
    "consider": 0.55,
    "shared-decision": 0.5,
}
#: DEMO: vaginal progesterone accepted before 16+0 is started at 16+0.
PROGESTERONE_FROM_DAYS = ga("16+0")
#: DEMO: an ultrasound-indicated cerclage is placed this many days after the scan, uniform.
ULTRASOUND_CERCLAGE_DELAY_DAYS = (1, 7)
#: Cerclage is not placed from 24+0 (the guidelines' windows end there).
CERCLAGE_BEFORE_DAYS = ga("24+0")
#: DEMO: chance the clinic has recorded the removal of a cerclage once she is past 36+0-37+0.
CERCLAGE_REMOVAL_RECORDED = 0.85
REMOVAL_GA_DAYS = (ga("36+0"), ga("37+0"))
#: DEMO: at a scan with a length under 25 mm the cervix is examined; under 15 mm it is
#: sometimes open (dilation in cm), and then the membranes are sometimes visible.
EXAM_IF_SHORT = 0.5
VERY_SHORT_MM = 15.0
DILATED_IF_VERY_SHORT = 0.25
DILATION_CM = (1.0, 1.5, 2.0, 3.0)
MEMBRANES_EXPOSED_IF_DILATED_2CM = 0.3
#: DEMO: women referred after a preterm birth who still have 17-OHPC from elsewhere (shows the
#: discontinuation advice).
ON_17OHPC = 0.03
SEVENTEEN_OHPC_START_DAYS = (ga("16+0"), ga("20+6"))

# --- Symptom reports (DEMO) ------------------------------------------------------------------

#: DEMO: women from 14+0 to 36+6 with a symptom report today or yesterday ("current").
CURRENT_SYMPTOM_REPORT = 0.07
#: DEMO: share of current reports with at least one symptom (an urgent case on the worklist).
CURRENT_REPORT_POSITIVE = 0.5
#: DEMO: women with an older report (2-30 days ago), mostly reassuring.
OLDER_SYMPTOM_REPORT = 0.15
OLDER_REPORT_POSITIVE = 0.2
#: DEMO: which symptom(s) a positive report names (weights).
SYMPTOM_WEIGHTS: Mapping[Symptom, float] = {
    Symptom.CRAMPING: 20,
    Symptom.BACKACHE: 18,
    Symptom.PELVIC_PRESSURE: 18,
    Symptom.DISCHARGE_CHANGE: 12,
    Symptom.CONTRACTIONS: 10,
    Symptom.SPOTTING: 8,
    Symptom.FLUID_LEAK: 7,
    Symptom.BLEEDING: 5,
    Symptom.FEVER: 2,
}
#: DEMO: a report of fluid leaking was confirmed as ruptured membranes.
RUPTURE_IF_FLUID_LEAK = 0.3
#: DEMO: an older report has been reviewed by the team (CD-07: it stays urgent until someone
#: has looked), on the day it was made or the day after; a current one sometimes already.
OLDER_REPORT_REVIEWED = 0.95
CURRENT_REPORT_REVIEWED = 0.2
REVIEW_DELAY_DAYS = (0, 1)
#: DEMO: how a review of a report ended (weights): reassuring reports need no action.
REVIEW_OUTCOME_WEIGHTS_NO_SYMPTOM: Mapping[ReviewOutcome, float] = {
    ReviewOutcome.NO_ACTION_NEEDED: 80,
    ReviewOutcome.ADVISED_BY_PHONE: 20,
}
REVIEW_OUTCOME_WEIGHTS_SYMPTOM: Mapping[ReviewOutcome, float] = {
    ReviewOutcome.ADVISED_BY_PHONE: 45,
    ReviewOutcome.SEEN_IN_TRIAGE: 45,
    ReviewOutcome.ADMITTED: 10,
}
#: DEMO: who reviews in the demo clinic (names as the clinic's staff list shows them).
REVIEWERS = ("Dr A Okafor", "Midwife J Byrne", "Dr S Lindqvist")
