"""The audit chain's sealer in a server worker: the entries appended by requests are sealed
onto the chain about once a second (`store.audit_chain`, "Appending and sealing").

Every worker runs one; the chain's head row, locked with SKIP LOCKED, lets one of them seal at
a time and the others pass. Only on PostgreSQL: on SQLite an entry is sealed in the
transaction that appends it. A run that fails (the database unreachable) is logged by its
type and tried again at the next interval: the entries wait, and nothing is lost.
"""

from __future__ import annotations

import logging
import threading
from typing import Final

from sqlalchemy import Engine

from cervixwatch.store.audit_chain import seal_engine

log = logging.getLogger(__name__)

#: How long an entry waits to be sealed, at most, when the database answers.
SEAL_INTERVAL_SECONDS: Final = 1.0
#: How long stopping waits for a run under way.
STOP_WAIT_SECONDS: Final = 10.0


class ChainSealer:
    """`seal_engine` every `interval` seconds in a daemon thread, and once more when stopped
    (so a worker that shuts down leaves nothing of its own waiting)."""

    def __init__(self, engine: Engine, interval: float = SEAL_INTERVAL_SECONDS) -> None:
        self.engine = engine
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cervixwatch-seal", daemon=True)

    @staticmethod
    def needed(engine: Engine) -> bool:
        return engine.dialect.name == "postgresql"

    def start(self) -> ChainSealer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(STOP_WAIT_SECONDS)

    def _run(self) -> None:
        try:
            seal_engine(self.engine)
        except Exception as error:  # the loop must go on
            log.warning("audit chain sealing failed (%s); trying again", type(error).__name__)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._run()
        self._run()
