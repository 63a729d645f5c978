"""The page a card's `source.url` links to: one rule of a guideline profile explained, as
its knowledge file holds it (the source's own words, section, citation and provenance), with
what the profile does with it (the recommendations it gives, what it withholds). It holds no
one's data, so anyone may read it, in the EHR's browser without signing in to CervixWatch."""

from __future__ import annotations

from html import escape
from typing import Final

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from cervixwatch.clinical.guidelines import RECOMMENDATION_CODES, GuidelineProfile
from cervixwatch.web.access import PUBLIC, allow

router = APIRouter(tags=["CDS Hooks"])

PROVENANCE_WORDS: Final = {
    "S": "verified in the source text",
    "M": "from memory: not yet verified against the source text",
    "D": "derived by CervixWatch: not a guideline statement",
}


def _uses(profile: GuidelineProfile, rule_id: str) -> list[str]:
    out = [
        f"Gives <strong>{escape(RECOMMENDATION_CODES.get(r.code, r.code))}</strong> "
        f"({escape(r.strength)}): {escape(r.summary)}"
        for r in profile.rules
        if rule_id in r.rule_ids
    ]
    out += [
        "Withholds "
        + escape("; ".join(RECOMMENDATION_CODES.get(code, code) for code in sorted(s.codes)))
        + f": {escape(s.reason)}"
        for s in profile.suppressions
        if s.rule == rule_id
    ]
    return out


def rule_page(profile: GuidelineProfile, rule_id: str) -> str:
    source = profile.sources[rule_id]
    uses = _uses(profile, rule_id)
    used = "".join(f"<li>{line}</li>" for line in uses) or "<li>No rule of this profile.</li>"
    title = f"{rule_id}: {profile.title} {profile.version}"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} - CervixWatch</title>
<link rel="stylesheet" href="/static/app.css">
<link rel="stylesheet" href="/static/cds-rule.css">
</head>
<body>
<main id="main" class="rule-page">
<h1>{escape(title)}</h1>
<dl>
<dt>The source's words</dt><dd>{escape(source.words)}</dd>
<dt>Section</dt><dd>{escape(source.section)}</dd>
<dt>Citation</dt><dd>{escape(profile.citations.get(source.citation, source.citation))}</dd>
<dt>Provenance</dt><dd>{escape(PROVENANCE_WORDS.get(source.provenance, source.provenance))}</dd>
</dl>
<h2>What CervixWatch does with it</h2>
<ul>{used}</ul>
</main>
</body>
</html>
"""


@router.get("/cds-services/rules/{profile_id}/{rule_id}", summary="A rule explained")
@allow(PUBLIC)
def explain_rule(request: Request, profile_id: str, rule_id: str) -> HTMLResponse:
    profile = request.app.state.profiles.get(profile_id)
    if profile is None or rule_id not in profile.sources:
        raise HTTPException(404, f"no rule {rule_id} in a guideline profile {profile_id}")
    return HTMLResponse(rule_page(profile, rule_id))
