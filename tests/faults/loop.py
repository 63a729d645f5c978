"""The bounded import loop: a few client threads, each sending one new woman after another
(`POST /fhir`, a connection each) until told to stop or the cap is reached, every attempt
kept: when it was sent, when and how it was answered, or that no answer came."""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from dataclasses import dataclass

from tests.faults.harness import post_bundle
from tests.faults.women import Women

CLIENTS = 3
#: The most women one run sends, whatever happens (the loop is bounded).
CAP = 60_000


@dataclass(slots=True)
class Attempt:
    number: int
    template: int
    hospital_number: str
    sent_at: float
    answered_at: float | None = None
    #: The answer's status; None: no answer (the connection was refused, reset or timed out).
    status: int | None = None
    request_id: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class ImportLoop:
    def __init__(self, port: int, token: str, women: Women, first: int = 0) -> None:
        self.port = port
        self.token = token
        self.women = women
        self.attempts: list[Attempt] = []
        self._numbers = itertools.count(first)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(CLIENTS)]

    def __enter__(self) -> ImportLoop:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _client(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                number = next(self._numbers)
            if number >= CAP:
                return
            woman = self.women.woman(number)
            attempt = Attempt(number, woman.template, woman.hospital_number, time.monotonic())
            with self._lock:
                self.attempts.append(attempt)
            try:
                answer = post_bundle(self.port, self.token, woman.raw)
            except (OSError, http.client.HTTPException) as error:
                attempt.error = type(error).__name__
                attempt.answered_at = time.monotonic()
                # A refused connection comes back at once: do not spin while no one listens.
                time.sleep(0.05)
                continue
            attempt.request_id = answer.request_id
            attempt.status = answer.status
            attempt.answered_at = time.monotonic()

    def succeeded_count(self, since: float) -> int:
        """How many imports sent at or after `since` have been answered 2xx."""
        with self._lock:
            return sum(1 for a in self.attempts if a.sent_at >= since and a.succeeded)

    def succeeded_since(self, moment: float) -> float | None:
        """When the first import sent at or after `moment` was answered 2xx (None: none yet)."""
        with self._lock:
            answered = [
                a.answered_at
                for a in self.attempts
                if a.sent_at >= moment and a.succeeded and a.answered_at is not None
            ]
        return min(answered, default=None)
