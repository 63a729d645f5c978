"""Every log record the test suite makes is read for the demo cohort's patient data (issue 12,
F5: logs carry ids, never names or clinical values): its hospital numbers (DEMO000001...) and
its women's full names ("Ada Sample", "Sample, Ada", a FHIR name's "family": "Sample").
`tests/conftest.py` watches the whole session and fails it at the end if one was logged."""

from __future__ import annotations

import logging
import re
from typing import Final

from cervixwatch.cohort.people import FAMILY_NAMES, GIVEN_NAMES

_GIVEN = "|".join(GIVEN_NAMES)
_FAMILY = "|".join(FAMILY_NAMES)
PATIENT_DATA: Final = re.compile(
    rf"DEMO\d{{6}}|\b(?:{_GIVEN}) (?:{_FAMILY})\b|\b(?:{_FAMILY}), (?:{_GIVEN})\b"
    rf"|\"family\": ?\"(?:{_FAMILY})\""
)
#: Loggers that do not pass their records up to the root (Uvicorn's own configuration).
UNPROPAGATED: Final = ("uvicorn", "uvicorn.access", "uvicorn.error")
#: Raised to INFO for the session, so that what the app and the server log is read.
WATCHED_AT_INFO: Final = ("cervixwatch", *UNPROPAGATED)


class LogWatch(logging.Handler):
    """Keeps every formatted record (with its traceback) that holds demo patient data."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record that cannot be formatted is not ours to fail on
            return
        if PATIENT_DATA.search(text):
            self.found.append(text)

    def install(self) -> None:
        logging.getLogger().addHandler(self)
        for name in UNPROPAGATED:
            logging.getLogger(name).addHandler(self)
        for name in WATCHED_AT_INFO:
            logger = logging.getLogger(name)
            if logger.getEffectiveLevel() > logging.INFO:
                logger.setLevel(logging.INFO)

    def remove(self) -> None:
        logging.getLogger().removeHandler(self)
        for name in UNPROPAGATED:
            logging.getLogger(name).removeHandler(self)
