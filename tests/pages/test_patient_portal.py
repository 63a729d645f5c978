"""The patient's portal through the browser's own requests (sign-in form, cookie, CSRF field),
on SQLite and PostgreSQL: her page in plain language and only hers, the education page, the
symptom report that is urgent on her team's worklist at once, who may see what, and the
reading age of what she reads."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
import textstat  # type: ignore[import-untyped]
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cervixwatch.app import clinic_settings, patients, recording, reviewing
from cervixwatch.app.reassessing import Written, write_records
from cervixwatch.clinical.records import DeclinableCode, Medication, ReviewOutcome, Symptom
from cervixwatch.store import PatientFields
from cervixwatch.store.models import Role
from cervixwatch.views import plain_language
from cervixwatch.web.app import create_app
from tests.builders import Woman
from tests.pages.html import post_sign_in_form
from tests.store.tables import delete_everything
from tests.web.accounts import PASSWORD, TEAM, bearer, make_user, test_settings, under_team
from tests.web.api_builders import at, ok
from tests.web.conftest import TODAY

#: A Flesch-Kincaid grade of 7 is a reading age of about 12; the issue asks for about 11.
MAX_GRADE = 7.0
#: A rule id of the profiles ("ACOG142-04", "NICE-01", "SBL-02", "TRI-01"): never shown to her.
RULE_ID = re.compile(r"\b(?:ACOG|SMFM|NICE|RCOG|SBL|TRI|FIGO|COCH|FDA|AFP|CD)\d*-\w+")


@pytest.fixture
def portal(engine: Engine) -> Iterator[TestClient]:
    """A browser with no one signed in, on an app whose clinic's day is TODAY."""
    delete_everything(engine)
    with TestClient(create_app(test_settings(engine), today=lambda: TODAY)) as client:
        yield client
    delete_everything(engine)


# --- helpers ------------------------------------------------------------------------------------


def _store(
    client: TestClient, hospital_number: str, her: Woman, given_name: str | None = None
) -> Written:
    app: Any = client.app
    written = write_records(
        app.state.sessions,
        PatientFields(hospital_number, family_name="Testperson", given_name=given_name),
        her.records,
        as_of=TODAY,
        profiles=app.state.profiles,
    )
    under_team(client, written.patient_id)
    return written


def _sign_in(client: TestClient, username: str) -> None:
    answer = post_sign_in_form(client, username, PASSWORD)
    assert answer.status_code == 303, answer.text


def _as_patient(client: TestClient, patient_id: str) -> None:
    username, _ = make_user(client, Role.PATIENT, patient_id=patient_id)
    _sign_in(client, username)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def _report(client: TestClient, *symptoms: Symptom, csrf: bool = True) -> Any:
    form = client.get("/my/symptoms")
    assert form.status_code == 200, form.text
    data: dict[str, Any] = {"symptom": [s.value for s in symptoms]}
    if csrf:
        data["csrf_token"] = _csrf(form.text)
    return client.post("/my/symptoms", data=data)


def _reports(client: TestClient, pregnancy_id: str) -> list[Any]:
    app: Any = client.app
    return recording.list_records(app.state.sessions, recording.SYMPTOM_REPORT, pregnancy_id)


_BLOCKS = frozenset(
    {"p", "li", "h1", "h2", "h3", "h4", "legend", "label", "dt", "dd", "td", "th", "button"}
)
_VOID = frozenset({"input", "br", "img", "meta", "link", "hr", "source", "wbr", "col"})


class _MainText(HTMLParser):
    """The text a reader reads in <main>, one piece per block (a heading or a list item is a
    sentence to her), without what is marked data-readability="skip" (citations, rule ids)."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[str] = []
        self._current: list[str] = []
        self._depth = 0
        self._main: int | None = None
        self._skip: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        self._depth += 1
        if tag == "main":
            self._main = self._depth
        if self._skip is None and ("data-readability", "skip") in attrs:
            self._skip = self._depth
        if tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if tag in _BLOCKS:
            self._flush()
        if self._skip == self._depth:
            self._skip = None
        if self._main == self._depth:
            self._main = None
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._main is not None and self._skip is None:
            self._current.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._current).split())
        self._current = []
        if text:
            self.blocks.append(text if text[-1] in ".!?:" else text + ".")


def main_text(html: str) -> str:
    parser = _MainText()
    parser.feed(html)
    parser.close()
    return " ".join(parser.blocks)


def grade(html: str) -> float:
    grade_value: float = textstat.flesch_kincaid_grade(main_text(html))
    return grade_value


# --- her page -----------------------------------------------------------------------------------


def test_my_page_shows_her_gestational_age_and_plain_recommendations(
    portal: TestClient,
) -> None:
    # Prior spontaneous preterm birth at 30+0 and a short cervix (22 mm) at 18+0 (V01).
    her = at("20+3").with_prior_sptb("30+0").with_length(22, at="18+0")
    written = _store(portal, "H-ANNA", her, given_name="Anna")
    _as_patient(portal, written.patient_id)

    page = portal.get("/my")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    text = main_text(page.text)
    assert "Hello Anna." in text
    assert "You are 20 weeks and 3 days pregnant today." in text
    assert f"Your due date is {plain_language.long_date(her.edd)}." in text
    # Both guidelines' recommendations, in her words; no rule id and no code (issue 13).
    assert "A stitch in your cervix" in text
    assert "because your scan showed that your cervix is short" in text
    assert "You can choose between progesterone and a stitch." in text
    assert "You do not need bed rest." in text
    for code in ("ultrasound-indicated-cerclage", "vaginal-progesterone", "shared-decision"):
        assert code not in page.text
    assert not RULE_ID.search(page.text), RULE_ID.search(page.text)
    assert 'href="/my/symptoms"' in page.text


def test_an_overdue_scan_is_said_plainly(portal: TestClient) -> None:
    # Prior sPTB: serial scans every 2 weeks from 16+0; the last (35 mm) at 16+0, now 20+0.
    her = at("20+0").with_prior_sptb("32+0").with_length(35, at="16+0")
    written = _store(portal, "H-OVERDUE", her)
    _as_patient(portal, written.patient_id)

    text = main_text(ok_page(portal.get("/my")))
    assert "Overdue." in text
    assert "It is now overdue." in text
    assert "Please call your team to book it." in text


def test_what_she_is_on_is_what_she_is_doing_not_an_offer(portal: TestClient) -> None:
    """Vaginal progesterone since 20+0 and a stitch since 14+0 after a previous sPTB and a
    22 mm cervix (the course of care): she reads them as what she is doing now, with their
    dates, and is never offered either again."""
    her = (
        at("21+0")
        .with_prior_sptb("30+0")
        .with_length(22, at="19+0")
        .with_medication(Medication.VAGINAL_PROGESTERONE, started_at="20+0")
        .with_cerclage("14+0")
    )
    written = _store(portal, "H-NOW", her, given_name="Iris")
    _as_patient(portal, written.patient_id)
    html = ok_page(portal.get("/my"))
    text = main_text(html)
    assert "What you are doing now." in text
    assert "You are using progesterone now. Keep using it each day." in text
    assert f"You started it on {plain_language.long_date(her.day('20+0'))}." in text
    assert "Your team will tell you when to stop." in text
    assert "You have a stitch in your cervix to help keep it closed." in text
    assert f"It was put in on {plain_language.long_date(her.day('14+0'))}." in text
    # Never as an offer: not progesterone, not a stitch, not a choice between them.
    for offer in (
        "advises progesterone",
        "can offer you progesterone",
        "talk with you about progesterone",
        "decide together if you want progesterone",
        "You can choose between progesterone and a stitch.",
        "offer you a stitch",
    ):
        assert offer not in text, offer
    advice = html[html.index('id="advice"') :]
    advice = advice[: advice.index("</section>")]
    assert "<h3>Progesterone</h3>" not in advice
    assert grade(html) <= MAX_GRADE


def test_an_offer_she_declined_is_her_choice_not_a_to_do(portal: TestClient) -> None:
    """A previous sPTB at 30+0; at 17+0 she declined progesterone; now 20+0."""
    her = (
        at("20+0")
        .with_prior_sptb("30+0")
        .with_length(35, at="19+0")
        .with_declined(DeclinableCode.VAGINAL_PROGESTERONE, at="17+0")
    )
    written = _store(portal, "H-NO", her)
    _as_patient(portal, written.patient_id)
    html = ok_page(portal.get("/my"))
    text = main_text(html)
    assert "What you said no to." in text
    assert "You said no to progesterone. That is your choice." in text
    assert "If you change your mind, talk to your team." in text
    advice = html[html.index('id="advice"') :]
    advice = advice[: advice.index("</section>")]
    assert "progesterone" not in advice.lower()
    assert grade(html) <= MAX_GRADE


def test_a_low_tier_is_not_said_alone_beside_a_short_cervix() -> None:
    risk = {"tier": "low", "current_findings": ["short cervix: shortest transvaginal length 22 mm"]}
    sentence = plain_language.care_plan_sentence(risk)
    assert "You do not need extra checks" not in sentence
    assert "a check in this pregnancy found something that needs more care" in sentence
    assert plain_language.care_plan_sentence({"tier": "low", "current_findings": []}) == (
        plain_language.care_plan_sentence({"tier": "low"})
    )


def test_states_of_the_course_of_care_in_plain_words() -> None:
    assessment = _assessment(
        {**_rec("vaginal-progesterone", "nice", "offer", "NICE-01"), "state": "in-place"},
        {**_rec("serial-cervical-length", "acog", "recommend", "SMFM40-01"), "state": "missed"},
        {**_rec("history-indicated-cerclage", "acog", "offer", "ACOG142-03"), "state": "declined"},
        {**_rec("history-indicated-cerclage", "nice", "offer", "RCOG75-01"), "state": "due"},
        {**_rec("refer-preterm-birth-clinic", "nice", "recommend", "SBL-04"), "state": "overdue"},
        current_treatments=[
            {"treatment": "vaginal-progesterone", "since": "2026-01-05", "detail": "..."}
        ],
        scan_plan=[{"missed": True, "next": None}],
    )
    page = plain_language.my_pregnancy(assessment)
    # Still to do: due or overdue only; declined by one guideline but due by another stays.
    assert [r.code for r in page.recommendations] == [
        "history-indicated-cerclage",
        "refer-preterm-birth-clinic",
    ]
    assert page.declined == []
    assert [t.treatment for t in page.treatments] == ["vaginal-progesterone"]
    assert "You started it on 5 January 2026." in page.treatments[0].sentences
    assert page.missed_scans is not None


def ok_page(answer: Any, status: int = 200) -> str:
    assert answer.status_code == status, answer.text
    html: str = answer.text
    return html


def test_a_woman_with_no_current_pregnancy_is_told_kindly(portal: TestClient) -> None:
    app: Any = portal.app
    registered = patients.register_patient(
        app.state.sessions,
        {"hospital_number": "H-NONE", "given_name": "Bea"},
        today=TODAY,
        team_ids=(),
    )
    _as_patient(portal, registered.id)

    text = main_text(ok_page(portal.get("/my")))
    assert "We do not have a current pregnancy on your record." in text
    assert "Hello Bea." in text
    form = main_text(ok_page(portal.get("/my/symptoms")))
    assert "We cannot take a report yet" in form
    token = _csrf(portal.get("/my/symptoms").text)
    refused = portal.post("/my/symptoms", data={"symptom": ["bleeding"], "csrf_token": token})
    assert refused.status_code == 409
    assert "We cannot take a report yet" in refused.text


def test_another_womans_data_never_appears(portal: TestClient) -> None:
    mine = _store(portal, "H-MINE", at("20+3"), given_name="Anna")
    other = _store(
        portal, "H-OTHER-77", at("31+5").with_symptoms(Symptom.BLEEDING), given_name="Zelda"
    )
    _as_patient(portal, mine.patient_id)

    for path in ("/my", f"/my?patient_id={other.patient_id}", "/my/symptoms"):
        html = ok_page(portal.get(path))
        assert "Zelda" not in html
        assert "H-OTHER-77" not in html
        assert other.patient_id not in html
        assert "31 weeks" not in html
    assert "20 weeks and 3 days" in ok_page(portal.get(f"/my?patient_id={other.patient_id}"))
    # Her report lands on her own pregnancy, never on another's (who has one of her own).
    assert _report(portal, Symptom.CRAMPING).status_code == 200
    assert len(_reports(portal, mine.pregnancy_id)) == 1
    assert len(_reports(portal, other.pregnancy_id)) == 1


# --- reporting symptoms -------------------------------------------------------------------------


def test_reporting_bleeding_says_go_now_and_is_urgent_on_her_teams_worklist(
    portal: TestClient,
) -> None:
    _store(portal, "H-CALM", at("24+0"), given_name="Carla")
    her = _store(portal, "H-BLEED", at("20+0"), given_name="Dana")
    _as_patient(portal, her.patient_id)
    _, clinician_token = make_user(portal, Role.CLINICIAN, teams=(TEAM,))
    before = ok(portal.get("/api/worklist", headers=bearer(clinician_token)))
    assert not any(item["urgent"] for item in before["items"])

    answer = _report(portal, Symptom.PELVIC_PRESSURE, Symptom.BLEEDING)
    html = ok_page(answer)
    text = main_text(html)
    # "Go now" comes first: it is the page's heading.
    assert text.startswith("Go to your maternity unit now.")
    assert f"You told us about bleeding on {plain_language.long_date(TODAY)} at " in text
    assert "This needs a check straight away." in text
    assert "It lists pressure low down and bleeding." in text
    assert "It is marked as urgent on their list." in text

    (report,) = _reports(portal, her.pregnancy_id)
    assert report.reported_on == TODAY
    assert report.reported_at is not None
    assert report.reported_at.date() == TODAY
    assert sorted(report.present) == ["bleeding", "pelvic-pressure"]
    assert sorted(report.absent) == sorted(
        s.value for s in Symptom if s not in {Symptom.BLEEDING, Symptom.PELVIC_PRESSURE}
    )

    worklist = ok(portal.get("/api/worklist", headers=bearer(clinician_token)))
    first = worklist["items"][0]
    assert first["patient_id"] == her.patient_id
    assert first["urgent"] is True
    assert "urgent-evaluation" in first["recommendations"]["acog"]
    assert "urgent-evaluation" in first["recommendations"]["nice"]
    # Her own page says the same, in the same words (issue 13: not "call" on one page and
    # "go" on the other).
    mine = main_text(ok_page(portal.get("/my")))
    assert mine.startswith("My pregnancy. Go to your maternity unit now.")
    assert "This needs a check straight away." in mine
    assert "Call your maternity unit now" not in mine


def test_symptoms_without_a_red_flag_say_call_today_and_what_to_watch_for(
    portal: TestClient,
) -> None:
    her = _store(portal, "H-CRAMP", at("22+0"))
    _as_patient(portal, her.patient_id)

    text = main_text(ok_page(_report(portal, Symptom.CRAMPING, Symptom.BACKACHE)))
    assert text.startswith("Call your maternity unit now.")
    assert "Go to your maternity unit now" not in text
    assert "Go to your maternity unit straight away if you get" in text
    assert "You told us about cramps and low backache on " in text
    mine = main_text(ok_page(portal.get("/my")))
    assert mine.startswith("My pregnancy. Call your maternity unit now.")
    assert "Go to your maternity unit now" not in mine


def test_once_her_team_has_seen_her_report_every_page_says_so(portal: TestClient) -> None:
    """CD-07: the review lifts "go now" from both pages at once, and both say her team has
    seen it; her list of reports gives each one's time and whether it has been seen."""
    her = _store(portal, "H-SEEN", at("25+0"))
    _as_patient(portal, her.patient_id)
    advice = _report(portal, Symptom.FLUID_LEAK)
    report_page = str(advice.url)
    (report,) = _reports(portal, her.pregnancy_id)
    time = report.reported_at.astimezone().strftime("%H:%M")
    mine = main_text(ok_page(portal.get("/my")))
    assert "Go to your maternity unit now." in mine
    assert f"{plain_language.long_date(TODAY)} at {time}: fluid leaking." in mine
    assert "Your team has not marked it as seen yet." in mine

    app: Any = portal.app
    reviewing.review_report(
        app.state.sessions,
        report.id,
        {"outcome": ReviewOutcome.ADVISED_BY_PHONE, "reviewer": "Dr A"},
        today=TODAY,
        profiles=app.state.profiles,
    )
    mine = main_text(ok_page(portal.get("/my")))
    assert "Go to your maternity unit now" not in mine
    assert "You need to be checked today" not in mine
    assert f"Seen by your team on {plain_language.long_date(TODAY)}." in mine
    assert mine.startswith("My pregnancy. Your team has seen your report.")
    assert "They gave you advice by phone." in mine
    again = main_text(ok_page(portal.get(report_page)))
    assert again.startswith("Your team has seen your report.")
    assert "They gave you advice by phone." in again
    assert "Go to your maternity unit now" not in again
    assert "Go to your maternity unit straight away if you get" in again


def test_the_units_numbers_are_links_and_none_is_invented(portal: TestClient) -> None:
    her = _store(portal, "H-PHONE", at("22+0"))
    _as_patient(portal, her.patient_id)
    without = ok_page(_report(portal, Symptom.BLEEDING))
    assert 'href="tel:' not in without
    assert "Call your maternity unit to tell them you are on your way." in main_text(without)
    assert "Your team can give you the number." in main_text(ok_page(portal.get("/my")))

    app: Any = portal.app
    clinic_settings.save_settings(
        app.state.sessions,
        {"phone": "01632 960 001", "triage_phone": "01632 960 999", "guidelines": ["nice"]},
        known_guidelines=list(app.state.profiles),
        by=None,
    )
    for path in ("/my", "/my/symptoms", "/learn"):
        html = ok_page(portal.get(path))
        assert '<a href="tel:01632960999">01632 960 999</a>' in html, path
    mine = ok_page(portal.get("/my"))
    assert 'href="tel:01632960001"' in mine
    assert not RULE_ID.search(mine)
    assert grade(mine) <= MAX_GRADE


@pytest.mark.parametrize(
    "symptom", [Symptom.BLEEDING, Symptom.FLUID_LEAK, Symptom.CONTRACTIONS, Symptom.FEVER]
)
def test_each_red_flag_alone_says_go_now(symptom: Symptom) -> None:
    advice = plain_language.symptom_advice({symptom})
    assert advice.go_now
    assert advice.red_flags == (plain_language.SYMPTOM_NAMES[symptom],)


def test_the_form_lists_every_symptom_of_the_domain(portal: TestClient) -> None:
    her = _store(portal, "H-FORM", at("20+0"))
    _as_patient(portal, her.patient_id)
    html = ok_page(portal.get("/my/symptoms"))
    for symptom in Symptom:
        assert f'value="{symptom.value}"' in html
        assert f'<label for="symptom-{symptom.value}">' in html
    assert 'name="csrf_token"' in html


def test_a_report_with_nothing_ticked_is_refused_beside_the_field(portal: TestClient) -> None:
    her = _store(portal, "H-EMPTY", at("20+0"))
    _as_patient(portal, her.patient_id)
    html = ok_page(_report(portal), 400)
    assert 'id="symptoms-error"' in html
    assert 'aria-describedby="symptoms-error"' in html
    assert 'aria-invalid="true"' in html
    assert "Tick at least one box." in html
    assert _reports(portal, her.pregnancy_id) == []


def test_an_unknown_symptom_is_refused_and_the_others_stay_ticked(portal: TestClient) -> None:
    her = _store(portal, "H-ODD", at("20+0"))
    _as_patient(portal, her.patient_id)
    token = _csrf(portal.get("/my/symptoms").text)
    answer = portal.post(
        "/my/symptoms", data={"symptom": ["cramping", "headache"], "csrf_token": token}
    )
    html = ok_page(answer, 400)
    assert re.search(r'value="cramping"\s+checked', html)
    assert _reports(portal, her.pregnancy_id) == []


def test_a_report_without_the_csrf_token_is_refused(portal: TestClient) -> None:
    her = _store(portal, "H-CSRF", at("20+0"))
    _as_patient(portal, her.patient_id)
    answer = _report(portal, Symptom.BLEEDING, csrf=False)
    assert answer.status_code == 403
    assert "CSRF" in answer.text
    wrong = portal.post("/my/symptoms", data={"symptom": ["bleeding"], "csrf_token": "guess"})
    assert wrong.status_code == 403
    assert _reports(portal, her.pregnancy_id) == []


# --- who may see what ---------------------------------------------------------------------------


def test_a_clinician_is_refused_the_patients_pages(portal: TestClient) -> None:
    username, _ = make_user(portal, Role.CLINICIAN, teams=(TEAM,))
    _sign_in(portal, username)
    for path in ("/my", "/my/symptoms"):
        answer = portal.get(path)
        assert answer.status_code == 403
        assert "You do not have access to this page" in answer.text
    # ... but may read the education page.
    assert "About cervical insufficiency" in ok_page(portal.get("/learn"))


def test_the_signed_out_are_sent_to_sign_in(portal: TestClient) -> None:
    for path, target in (
        ("/my", "/sign-in?next=/my"),
        ("/my/symptoms", "/sign-in?next=/my/symptoms"),
        ("/learn", "/sign-in?next=/learn"),
    ):
        answer = portal.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].replace("%2F", "/") == target
    posted = portal.post("/my/symptoms", data={"symptom": ["bleeding"]}, follow_redirects=False)
    assert posted.status_code == 303


def test_her_reads_and_reports_are_in_the_audit_log(portal: TestClient) -> None:
    her = _store(portal, "H-AUDIT", at("20+0"))
    _as_patient(portal, her.patient_id)
    assert portal.get("/my").status_code == 200
    assert _report(portal, Symptom.SPOTTING).status_code == 200
    _, auditor = make_user(portal, Role.AUDITOR)
    log = ok(
        portal.get(
            "/api/audit-events", params={"patient_id": her.patient_id}, headers=bearer(auditor)
        )
    )
    seen = {(e["action"], e["method"], e["route"], e["actor_role"]) for e in log["items"]}
    assert ("read", "GET", "/my", "patient") in seen
    assert ("write", "POST", "/my/symptoms", "patient") in seen


# --- the education page -------------------------------------------------------------------------


def test_the_education_page_corrects_the_leaflet_and_cites_its_sources(
    portal: TestClient,
) -> None:
    her = _store(portal, "H-LEARN", at("20+0"))
    _as_patient(portal, her.patient_id)
    html = " ".join(ok_page(portal.get("/learn")).split())
    text = main_text(html)
    assert "Bed rest is not advised." in text
    assert "it is put in the vagina each day" in text
    assert "taken off sale in 2023" in text
    assert "Makena" in text
    # The leaflet is not copied: its bed-rest advice and "injections" are not repeated.
    assert "Reducing your activity level" not in html
    assert "Injections of progesterone" not in html
    for source in (
        "Practice Bulletin No. 142",
        "Practice Bulletin No. 234",
        "Consult Series #70",
        "NICE guideline NG25",
        "Green-top Guideline No. 75",
        "CD003581",
        "withdrawal of 17-alpha hydroxyprogesterone caproate",
    ):
        assert source in html


# --- reading age --------------------------------------------------------------------------------


def test_what_she_reads_is_at_a_reading_age_of_about_11(portal: TestClient) -> None:
    her = _store(
        portal,
        "H-READ",
        at("20+3").with_prior_sptb("30+0").with_length(22, at="18+0"),
        given_name="Anna",
    )
    _as_patient(portal, her.patient_id)
    pages = {
        "/my": ok_page(portal.get("/my")),
        "/learn": ok_page(portal.get("/learn")),
        "/my/symptoms": ok_page(portal.get("/my/symptoms")),
        "advice (call)": ok_page(_report(portal, Symptom.CRAMPING, Symptom.DISCHARGE_CHANGE)),
        "advice (go now)": ok_page(_report(portal, Symptom.FLUID_LEAK, Symptom.FEVER)),
    }
    grades = {name: grade(html) for name, html in pages.items()}
    assert all(len(main_text(html).split()) > 40 for html in pages.values())
    assert max(grades.values()) <= MAX_GRADE, grades


# --- the plain-language view --------------------------------------------------------------------


def _assessment(*recommendations: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "guidelines": [
            {"id": "acog", "title": "ACOG/SMFM (United States)"},
            {"id": "nice", "title": "NICE/RCOG (United Kingdom)"},
        ],
        "recommendations": list(recommendations),
        **more,
    }


def _rec(code: str, guideline: str, strength: str, rule: str) -> dict[str, Any]:
    return {"code": code, "guideline": guideline, "strength": strength, "rule": rule, "rules": []}


def test_guidelines_that_differ_are_shown_side_by_side() -> None:
    (progesterone,) = plain_language.plain_recommendations(
        _assessment(
            _rec("vaginal-progesterone", "acog", "recommend", "SMFM70-03"),
            _rec("vaginal-progesterone", "nice", "consider", "NICE-03"),
        )
    )
    assert progesterone.sentences[0] == "Your team may talk with you about progesterone."
    assert [(g.title, g.words) for g in progesterone.differ] == [
        ("ACOG/SMFM (United States)", "advised"),
        ("NICE/RCOG (United Kingdom)", "may be talked about"),
    ]
    assert progesterone.rules == ("SMFM70-03", "NICE-03")
    (clinic,) = plain_language.plain_recommendations(
        _assessment(_rec("refer-preterm-birth-clinic", "nice", "recommend", "SBL-04"))
    )
    assert clinic.silent == ("ACOG/SMFM (United States)",)


def test_a_code_without_plain_words_sends_her_to_her_team() -> None:
    (unknown,) = plain_language.plain_recommendations(
        _assessment(_rec("some-new-code", "acog", "recommend", "NEW-01"))
    )
    assert unknown.heading == "Something to ask your team about"
    assert "Please ask your team about it." in unknown.sentences
    assert unknown.rules == ("NEW-01",)


def test_unknown_is_never_said_to_be_normal() -> None:
    page = plain_language.my_pregnancy(
        _assessment(gestational_age=None, edd=None, risk={"tier": None}, missing=["edd"])
    )
    assert "We do not know how many weeks pregnant you are yet" in page.gestation
    assert page.scan is None
    assert page.no_scan == "We cannot plan your scans until your due date is on your record."
    assert page.care_plan.startswith("Your team does not know enough yet")
    assert "need more details" in page.no_recommendation


def test_dates_are_written_out() -> None:
    assert plain_language.long_date(dt.date(2026, 3, 2)) == "2 March 2026"
    assert plain_language.join_words(["a", "b", "c"]) == "a, b and c"


def test_the_advice_page_is_reached_by_redirect_so_a_reload_sends_nothing_again(
    portal: TestClient,
) -> None:
    mine = _store(portal, "H-PRG", at("22+0"), given_name="Ruth")
    other = _store(portal, "H-PRG-2", at("24+0").with_symptoms(Symptom.BLEEDING))
    _as_patient(portal, mine.patient_id)
    token = _csrf(portal.get("/my/symptoms").text)
    posted = portal.post(
        "/my/symptoms", data={"symptom": ["bleeding"], "csrf_token": token}, follow_redirects=False
    )
    assert posted.status_code == 303
    advice = posted.headers["location"]
    assert advice.startswith("/my/symptoms/")
    for _ in range(2):  # reloading the advice page
        assert "Go to your maternity unit now" in ok_page(portal.get(advice))
    assert len(_reports(portal, mine.pregnancy_id)) == 1
    # Another woman's report id answers as one that does not exist.
    [theirs] = _reports(portal, other.pregnancy_id)
    assert portal.get(f"/my/symptoms/{theirs.id}").status_code == 404
