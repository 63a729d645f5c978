"""The users of the load run (`benchmarks/load.py`), as a locustfile: clinicians reading the
worklist and pregnancies, patients reading their page and reporting symptoms, an EHR importing
new women. Run by `load.py` (`python -m locust -f benchmarks/load_users.py --headless ...`);
what to do comes from the JSON plan named by `CERVIXWATCH_LOAD_PLAN`, and every request's
exact time and outcome go to the plan's `results` file when the run stops.

Clinicians and patients sign in through the sign-in page as a browser does (its pre-session
token, then the session cookie; a patient's report carries the session's CSRF token in the
form). The EHR sends FHIR transaction Bundles of SYNTHETIC women with its bearer token.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import random
import re
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task
from locust.clients import HttpSession
from locust.exception import StopUser

from cervixwatch.clinical.records import Symptom

PLAN: dict[str, Any] = json.loads(Path(os.environ["CERVIXWATCH_LOAD_PLAN"]).read_text())
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_SYMPTOMS = [s.value for s in Symptom]
_ROUTES_OF_IDS = re.compile(r"/my/symptoms/[^/?]+$")

# Each user takes the next account of its kind; the EHR the next new woman's Bundle.
_clinicians = itertools.cycle(PLAN["clinicians"])
_patients = iter(PLAN["patients"])
_bundles = Path(PLAN["bundles"]).read_bytes().splitlines()
_next_bundle = itertools.count()

# --- what every request took, exactly (locust's own percentiles are rounded to 10 ms) -------

_times: dict[str, list[float]] = defaultdict(list)
_failures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
_lock = threading.Lock()


def _record(
    request_type: str,
    name: str,
    response_time: float,
    response: Any = None,
    exception: BaseException | None = None,
    **_: Any,
) -> None:
    route = f"{request_type} {name}"
    with _lock:
        _times[route].append(response_time)
        if exception is not None:
            status = getattr(response, "status_code", None)
            body = (getattr(response, "text", "") or "")[:200].replace("\n", " ")
            _failures[route][f"{status}: {exception!s:.200} {body}".strip()] += 1


def _spawned(user_count: int, **_: Any) -> None:
    Path(PLAN["ready"]).write_text(str(user_count))


def _write_results(**_: Any) -> None:
    with _lock:
        results = {
            "times_ms": dict(_times),
            "failures": {route: dict(kinds) for route, kinds in _failures.items()},
            "bundles_sent": min(next(_next_bundle), len(_bundles)),
            "bundles_available": len(_bundles),
        }
    Path(PLAN["results"]).write_text(json.dumps(results))


# locust's `add_listener` is untyped (and as a decorator would make these untyped too).
for _hook, _listener in (
    (events.request, _record),
    (events.spawning_complete, _spawned),
    (events.test_stop, _write_results),
):
    _hook.add_listener(_listener)  # type: ignore[no-untyped-call]


# --- signing in ----------------------------------------------------------------------------


def _csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    return found.group(1) if found else ""


def sign_in(client: HttpSession, account: dict[str, str]) -> None:
    """The sign-in page (its pre-session cookie and form token), then the form: 303 and the
    session cookie, kept by the client's cookie jar."""
    page = client.get("/sign-in", name="/sign-in")
    with client.post(
        "/sign-in",
        data={
            "username": account["username"],
            "password": account["password"],
            "csrf_token": _csrf_of(page.text),
        },
        allow_redirects=False,
        catch_response=True,
        name="/sign-in",
    ) as answer:
        if answer.status_code != 303:
            answer.failure(f"sign-in answered {answer.status_code}, not 303")
            raise StopUser


class Clinician(HttpUser):
    """Opens the worklist (the first page half the time, else any page), then a pregnancy from
    it: its page and its assessment as JSON; now and then the worklist page itself."""

    fixed_count = int(PLAN["users"]["clinician"])
    wait_time = between(1, 3)

    def on_start(self) -> None:
        sign_in(self.client, next(_clinicians))
        self.pages = 1
        self.items: list[dict[str, Any]] = []

    @task(4)
    def worklist(self) -> None:
        page = 1 if random.random() < 0.5 else random.randint(1, self.pages)
        path = "/api/worklist" if page == 1 else f"/api/worklist?page={page}"
        answer = self.client.get(
            path,
            name="/api/worklist" if page == 1 else "/api/worklist?page=[n]",
            headers={"Accept": "application/json"},
        )
        if answer.ok:
            body = answer.json()
            self.items = body["items"] or self.items
            self.pages = max(1, math.ceil(body["total"] / max(1, body["page_size"])))

    @task(4)
    def pregnancy(self) -> None:
        if not self.items:
            self.worklist()
            return
        pregnancy_id = random.choice(self.items)["pregnancy_id"]
        self.client.get(f"/pregnancies/{pregnancy_id}", name="/pregnancies/[id]")
        self.client.get(
            f"/api/pregnancies/{pregnancy_id}/assessment",
            name="/api/pregnancies/[id]/assessment",
            headers={"Accept": "application/json"},
        )

    @task(1)
    def worklist_page(self) -> None:
        self.client.get("/worklist", name="/worklist")


class Patient(HttpUser):
    """Reads her page; now and then reports one or two symptoms through the form (its CSRF
    token) and reads the advice it lands on."""

    fixed_count = int(PLAN["users"]["patient"])
    wait_time = between(2, 6)

    def on_start(self) -> None:
        account = next(_patients, None)
        if account is None:
            raise StopUser  # more patient users than accounts: load.py makes enough
        sign_in(self.client, account)

    @task(3)
    def my_page(self) -> None:
        self.client.get("/my", name="/my")

    @task(1)
    def report(self) -> None:
        form = self.client.get("/my/symptoms", name="/my/symptoms")
        data = {
            "symptom": random.sample(_SYMPTOMS, random.randint(1, 2)),
            "csrf_token": _csrf_of(form.text),
        }
        with self.client.post(
            "/my/symptoms",
            data=data,
            allow_redirects=False,
            catch_response=True,
            name="/my/symptoms",
        ) as answer:
            location = answer.headers.get("Location", "")
            if answer.status_code != 303 or not _ROUTES_OF_IDS.search(location):
                answer.failure(f"report answered {answer.status_code}, not 303 to its advice")
                return
        self.client.get(location, name="/my/symptoms/[id]")


class Ehr(HttpUser):
    """An integration: one transaction Bundle (a new woman and her records) after another.
    Should the prepared Bundles run out, it sends them again (updates of the same women)."""

    fixed_count = int(PLAN["users"]["ehr"])
    wait_time = between(0.5, 1.5)

    @task
    def import_bundle(self) -> None:
        raw = _bundles[next(_next_bundle) % len(_bundles)]
        self.client.post(
            "/fhir",
            data=raw,
            name="/fhir (transaction)",
            headers={
                "Authorization": f"Bearer {PLAN['ehr_token']}",
                "Content-Type": "application/fhir+json",
                "Accept": "application/fhir+json",
            },
        )
