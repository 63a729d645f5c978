"""What each recommendation code asks of the clinic, for the lists that show only what needs
doing (the worklist, issue 13 part 5) while the pregnancy page shows everything.

- `task`: something to do for this woman (a scan, a treatment to offer, start, stop or
  remove): on the worklist while its state is due or overdue (profiles.md, "The course of
  care"; CD-05).
- `urgent`: same-day evaluation (TRI-01, TRI-05, TRI-06; CD-07): the worklist shows it as the
  row's urgent reason, not again among the actions.
- `advice`: what not to do or what is not indicated (no activity restriction, RCOG75-08 and
  ACOG142-09; cerclage not recommended or contraindicated): nothing to act on, it stays on the
  pregnancy page.
- `pathway`: the referral to a preterm birth prevention clinic (SBL-04, SBL-05, ACOG234): a
  woman on this clinic's worklist has been referred, so it is not a task of the list.

Every code of the contract (`clinical.guidelines.RECOMMENDATION_CODES`) has a kind; the unit
test holds the two together.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

RecommendationKind = Literal["task", "urgent", "advice", "pathway"]

RECOMMENDATION_KINDS: Final[Mapping[str, RecommendationKind]] = {
    "refer-preterm-birth-clinic": "pathway",
    "single-cervical-length-screen": "task",
    "serial-cervical-length": "task",
    "history-indicated-cerclage": "task",
    "ultrasound-indicated-cerclage": "task",
    "exam-indicated-cerclage": "task",
    "vaginal-progesterone": "task",
    "cerclage-not-recommended": "advice",
    "cerclage-contraindicated": "advice",
    "no-activity-restriction": "advice",
    "remove-cerclage": "task",
    "urgent-evaluation": "urgent",
    "consider-abdominal-cerclage": "task",
    "discontinue-17ohpc": "task",
    "preterm-labour-diagnosed": "task",
}

#: The states of a recommendation that leave something to do (the others: in place,
#: declined, missed).
OPEN_STATES: Final = frozenset({"due", "overdue"})


def is_open_task(code: str, state: str) -> bool:
    """Whether a recommendation is an action the clinic still has to take."""
    return RECOMMENDATION_KINDS.get(code, "task") == "task" and state in OPEN_STATES
