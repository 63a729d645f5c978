"""Every page, as the person it is for sees it: no serious or critical accessibility violation
(axe-core), nothing wider than a 360 px phone, one h1, and a screenshot at 1280 and 360 px in
tests/artifacts/ for a person to look at."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import pytest
from playwright.sync_api import Browser, Page, StorageState, expect

from cervixwatch.clinical.records import CerclageIndication, LengthMethod, Medication
from cervixwatch.store.models import Role
from cervixwatch.web.pages.forms import FORMS
from tests.browser.harness import (
    ARTIFACTS,
    LiveServer,
    OpenPage,
    axe,
    describe,
    screenshot,
    sign_in,
)
from tests.web.accounts import TEAM
from tests.web.api_builders import at


@dataclass(frozen=True, slots=True)
class People:
    """The module's women and users."""

    pregnancy_id: str  # a full record: history, scans, cerclage, medication
    new_pregnancy_id: str  # nothing recorded yet but her dates
    clinician: str
    patient: str  # the woman of `pregnancy_id`
    reporter: str  # another woman, who reports symptoms
    admin: str
    auditor: str


@pytest.fixture(scope="module")
def people(live: LiveServer) -> People:
    """Three women and the users who see them."""
    full = (
        at("24+3")
        .with_prior_sptb("31+2")
        .with_prior_loss("19+0")
        .with_length(31, at="16+1")
        .with_length(27, at="18+0")
        .with_length(23, at="20+0")
        .with_length(24, at="22+0", method=LengthMethod.TRANSABDOMINAL)
        .with_closed_cervix("20+1")
        .with_cerclage("20+4", indication=CerclageIndication.ULTRASOUND)
        .with_medication(Medication.VAGINAL_PROGESTERONE, started_at="16+1")
    )
    written = live.seed("CW-P-100", full, family_name="Nakamura-Ellison")
    new = live.seed("CW-P-101", at("12+5"), family_name="Osei")
    reporter = live.seed("CW-P-102", at("27+0"), family_name="Ferreira")
    return People(
        pregnancy_id=written.pregnancy_id,
        new_pregnancy_id=new.pregnancy_id,
        clinician=live.user(Role.CLINICIAN, teams=(TEAM,)),
        patient=live.user(Role.PATIENT, patient_id=written.patient_id),
        reporter=live.user(Role.PATIENT, patient_id=reporter.patient_id),
        admin=live.user(Role.ADMIN),
        auditor=live.user(Role.AUDITOR),
    )


def _report(*labels: str) -> Callable[[Page], None]:
    def report(page: Page) -> None:
        for label in labels:
            page.get_by_label(label).check()
        page.get_by_role("button", name="Send my report").click()
        expect(page.get_by_role("alert")).to_be_visible()

    return report


@dataclass(frozen=True, slots=True)
class Shown:
    """A page: who signs in, where she goes, what she does there first, the status it
    answers."""

    who: str | None  # an attribute of `People`; None: signed out
    path: str  # {pregnancy} and {new} are filled in
    then: Callable[[Page], None] | None = None
    status: int = 200


PAGES: Final[dict[str, Shown]] = {
    "sign-in": Shown(None, "/sign-in"),
    "set-password": Shown(None, "/set-password"),
    "worklist": Shown("clinician", "/worklist"),
    "intake-review": Shown("clinician", "/intake/review"),
    "pregnancy": Shown("clinician", "/pregnancies/{pregnancy}"),
    "pregnancy-nothing-recorded": Shown("clinician", "/pregnancies/{new}"),
    "pregnancy-phone-report": Shown("clinician", "/pregnancies/{pregnancy}/phone-report"),
    "pregnancy-details": Shown("clinician", "/pregnancies/{pregnancy}/details"),
    **{
        f"record-{form.slug}": Shown("clinician", f"/pregnancies/{{pregnancy}}/record/{form.slug}")
        for form in FORMS
    },
    "my-pregnancy": Shown("patient", "/my"),
    "learn": Shown("patient", "/learn"),
    "report-symptoms": Shown("patient", "/my/symptoms"),
    "advice-go-now": Shown("reporter", "/my/symptoms", _report("Pressure low down", "Bleeding")),
    "advice-call-today": Shown("reporter", "/my/symptoms", _report("Low backache")),
    "account": Shown("admin", "/account"),
    "clinic-settings": Shown("admin", "/admin/clinic"),
    "clinic-letter-form": Shown("clinician", "/pregnancies/{pregnancy}/letter"),
    "admin-accounts": Shown("admin", "/admin/users"),
    "admin-new-account": Shown("admin", "/admin/users/new"),
    "admin-care-teams": Shown("admin", "/admin/teams"),
    "audit-log": Shown("auditor", "/audit"),
    "audit-chain": Shown("auditor", "/audit/chain"),
    "error-not-found": Shown("clinician", "/pregnancies/no-such-pregnancy", status=404),
    "error-forbidden": Shown("patient", "/worklist", status=403),
}

HOMES: Final = {"clinician": "/worklist", "admin": "/admin/users", "auditor": "/audit"}


@pytest.fixture(scope="module")
def signed_in(browser: Browser, live: LiveServer, people: People) -> dict[str, StorageState]:
    """Each person signed in once, through the form: her cookies, for every page she opens
    (signing in anew for each page would only make the tests slower)."""
    states = {}
    for who in {shown.who for shown in PAGES.values() if shown.who is not None}:
        context = browser.new_context(base_url=live.url)
        try:
            sign_in(context.new_page(), getattr(people, who), lands_on=HOMES.get(who, "/my"))
            states[who] = context.storage_state()
        finally:
            context.close()
    return states


@pytest.mark.parametrize("name", PAGES)
def test_page(
    name: str, open_page: OpenPage, people: People, signed_in: dict[str, StorageState]
) -> None:
    shown = PAGES[name]
    page = open_page(signed_in[shown.who] if shown.who is not None else None)
    path = shown.path.format(pregnancy=people.pregnancy_id, new=people.new_pregnancy_id)
    response = page.goto(path)
    assert response is not None
    assert response.status == shown.status, f"{path}: {response.status}"
    if shown.then is not None:
        shown.then(page)
    expect(page.locator("h1")).to_have_count(1)
    notes = ARTIFACTS / f"{name}-axe.txt"
    notes.unlink(missing_ok=True)
    if lesser := axe(page):  # moderate and minor: kept beside the screenshots for a person
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        notes.write_text("".join(f"{describe(v)}\n" for v in lesser), encoding="utf-8")
    screenshot(page, name)


def test_the_clinic_letter_is_a_pdf(
    open_page: OpenPage, people: People, signed_in: dict[str, StorageState]
) -> None:
    """From the pregnancy page's link to the letter's form (it asks to whom), to the PDF."""
    page = open_page(signed_in["clinician"])
    page.goto(f"/pregnancies/{people.pregnancy_id}")
    page.get_by_role("link", name=re.compile("Clinic letter")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Clinic letter")
    page.get_by_label("To", exact=True).fill("Dr J Smith")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the letter (PDF)").click()
    assert download.value.suggested_filename.endswith(".pdf")
    path = download.value.path()
    assert path.read_bytes().startswith(b"%PDF")
