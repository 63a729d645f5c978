"""Security headers, CORS, the self-hosted /docs and rate limits, on a tiny app of their own
(the real app's wiring is tested with the real app)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser

import pytest
from fastapi import FastAPI, Response
from fastapi.testclient import TestClient
from httpx2 import Response as Answer
from limits.errors import ConfigurationError

from cervixwatch.settings import Settings
from cervixwatch.web.hardening import (
    CONTENT_SECURITY_POLICY,
    add_hardening,
    mount_docs,
)
from cervixwatch.web.rate_limits import RateLimited, RateLimiter, too_many_requests

ALLOWED_ORIGIN = "https://ehr.example.org"
OTHER_ORIGIN = "https://elsewhere.example.com"


def make_app(cors_origins: list[str] | None = None) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None)

    @app.get("/")
    def home() -> dict[str, str]:
        return {"page": "home"}

    @app.get("/api/patients")
    def patients() -> list[str]:
        return ["p1"]

    @app.post("/api/patients")
    def register() -> dict[str, str]:
        return {"id": "p2"}

    @app.get("/api/cached")
    def cached(response: Response) -> dict[str, str]:
        response.headers["Cache-Control"] = "private, max-age=60"
        return {}

    @app.get("/api/own-headers")
    def own_headers(response: Response) -> dict[str, str]:
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["Content-Security-Policy"] = "sandbox"
        return {}

    @app.get("/api/limited")
    def limited() -> None:
        raise RateLimited(30)

    @app.get("/fhir/Patient")
    def fhir_patients() -> dict[str, str]:
        return {"resourceType": "Bundle"}

    @app.get("/auth/me")
    def me() -> dict[str, str]:
        return {"username": "midwife"}

    @app.get("/apiary")
    def apiary() -> dict[str, str]:
        return {}

    mount_docs(app)
    add_hardening(app, Settings(cors_origins=cors_origins or [], rate_limit_storage="memory://"))
    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as test_client:
        yield test_client


@pytest.fixture
def cors_client() -> Iterator[TestClient]:
    with TestClient(make_app([ALLOWED_ORIGIN])) as test_client:
        yield test_client


# --- security headers ---------------------------------------------------------------------------

EVERY_KIND_OF_ANSWER = [
    "/",
    "/api/patients",
    "/fhir/Patient",
    "/docs",
    "/docs/static/swagger-ui.css",
    "/openapi.json",
    "/no-such-page",
]


@pytest.mark.parametrize("path", EVERY_KIND_OF_ANSWER)
def test_every_answer_carries_the_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers.get_list("content-security-policy") == [CONTENT_SECURITY_POLICY]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    permissions = {part.strip() for part in headers["permissions-policy"].split(",")}
    assert permissions == {"camera=()", "microphone=()", "geolocation=()", "payment=()"}


def test_the_policy_allows_only_the_apps_own_scripts() -> None:
    directives = dict(
        directive.strip().split(" ", 1) for directive in CONTENT_SECURITY_POLICY.split(";")
    )
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY


def test_refused_and_failed_answers_carry_the_headers_too(client: TestClient) -> None:
    answer = client.get("/api/limited")
    assert answer.status_code == 429
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert answer.headers["cache-control"] == "no-store"


def test_no_hsts_over_plain_http(client: TestClient) -> None:
    assert "strict-transport-security" not in client.get("/").headers


def test_hsts_over_https() -> None:
    with TestClient(make_app(), base_url="https://testserver") as client:
        for path in ("/", "/api/patients", "/docs"):
            assert client.get(path).headers["strict-transport-security"] == "max-age=31536000"


@pytest.mark.parametrize("path", ["/api/patients", "/fhir/Patient", "/auth/me"])
def test_patient_data_is_never_cached(client: TestClient, path: str) -> None:
    assert client.get(path).headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/", "/apiary", "/docs", "/docs/static/docs-init.js"])
def test_other_answers_are_left_to_the_usual_caching(client: TestClient, path: str) -> None:
    assert "cache-control" not in client.get(path).headers


def test_a_handlers_own_cache_control_is_kept(client: TestClient) -> None:
    assert client.get("/api/cached").headers["cache-control"] == "private, max-age=60"


def test_a_handlers_own_headers_are_kept_but_cannot_drop_the_policy(client: TestClient) -> None:
    headers = client.get("/api/own-headers").headers
    assert headers["x-frame-options"] == "SAMEORIGIN"
    # Browsers enforce both policies, so the handler can tighten ours but never loosen it.
    assert sorted(headers.get_list("content-security-policy")) == sorted(
        ["sandbox", CONTENT_SECURITY_POLICY]
    )


# --- CORS ---------------------------------------------------------------------------------------


def _preflight(client: TestClient, origin: str, method: str = "POST", headers: str = "") -> Answer:
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        request_headers["Access-Control-Request-Headers"] = headers
    return client.options("/api/patients", headers=request_headers)


def _cors_headers(answer: Answer) -> dict[str, str]:
    return {k: v for k, v in answer.headers.items() if k.lower().startswith("access-control-")}


def test_no_cors_headers_when_no_origin_is_configured(client: TestClient) -> None:
    simple = client.get("/api/patients", headers={"Origin": ALLOWED_ORIGIN})
    preflight = _preflight(client, ALLOWED_ORIGIN, headers="Authorization")
    assert simple.status_code == 200
    assert _cors_headers(simple) == {}
    assert _cors_headers(preflight) == {}


def test_preflight_from_a_configured_origin_is_allowed(cors_client: TestClient) -> None:
    answer = _preflight(
        cors_client, ALLOWED_ORIGIN, "PATCH", "Authorization, Content-Type, X-CSRF-Token"
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    methods = {m.strip() for m in answer.headers["access-control-allow-methods"].split(",")}
    assert methods == {"GET", "POST", "PUT", "PATCH", "DELETE"}
    allowed = {h.strip().lower() for h in answer.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "x-csrf-token"} <= allowed
    assert "access-control-allow-credentials" not in answer.headers
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_simple_request_from_a_configured_origin_is_allowed(cors_client: TestClient) -> None:
    answer = cors_client.get("/api/patients", headers={"Origin": ALLOWED_ORIGIN})
    assert answer.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "access-control-allow-credentials" not in answer.headers
    exposed = {
        h.strip().lower() for h in answer.headers["access-control-expose-headers"].split(",")
    }
    assert "retry-after" in exposed


def test_another_origin_is_refused(cors_client: TestClient) -> None:
    preflight = _preflight(cors_client, OTHER_ORIGIN, headers="Authorization")
    simple = cors_client.get("/api/patients", headers={"Origin": OTHER_ORIGIN})
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers


@pytest.mark.parametrize(
    ("method", "headers"), [("TRACE", ""), ("POST", "X-Something-Else"), ("POST", "Cookie")]
)
def test_unlisted_methods_and_headers_are_refused(
    cors_client: TestClient, method: str, headers: str
) -> None:
    assert _preflight(cors_client, ALLOWED_ORIGIN, method, headers).status_code == 400


# --- /docs --------------------------------------------------------------------------------------


class _PageParts(HTMLParser):
    """Every script (its src and inline text), stylesheet, inline style and event handler."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[str | None, str]] = []
        self.stylesheets: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.scripts.append((found.get("src"), ""))
            self._in_script = True
        elif tag == "link" and found.get("rel") == "stylesheet" and found.get("href"):
            self.stylesheets.append(str(found["href"]))
        elif tag == "style":
            self.inline.append("<style>")
        self.inline.extend(name for name in found if name == "style" or name.startswith("on"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            src, text = self.scripts[-1]
            self.scripts[-1] = (src, text + data)


def _docs_page(client: TestClient) -> _PageParts:
    answer = client.get("/docs")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    parts = _PageParts()
    parts.feed(answer.text)
    return parts


def test_docs_page_has_no_inline_script_or_style(client: TestClient) -> None:
    page = _docs_page(client)
    assert page.scripts
    for src, text in page.scripts:
        assert src, "every script must come from a file"
        assert not text.strip()
    assert page.inline == []


def test_docs_assets_are_served_by_the_app(client: TestClient) -> None:
    page = _docs_page(client)
    assets = [src for src, _ in page.scripts if src] + page.stylesheets
    assert {asset.rsplit("/", 1)[-1] for asset in assets} == {
        "swagger-ui-bundle.js",
        "docs-init.js",
        "swagger-ui.css",
    }
    for asset in assets:
        assert asset.startswith("/docs/static/"), "no CDN: hospital networks block them"
        answer = client.get(asset)
        assert answer.status_code == 200, asset
        kind = "text/css" if asset.endswith(".css") else "text/javascript"
        assert answer.headers["content-type"].split(";")[0] == kind


def test_swagger_ui_bundle_is_served(client: TestClient) -> None:
    answer = client.get("/docs/static/swagger-ui-bundle.js")
    assert answer.status_code == 200
    assert "SwaggerUIBundle" in answer.text


def test_served_swagger_ui_can_render_the_apps_openapi_version(client: TestClient) -> None:
    # Swagger UI 4 (e.g. swagger-ui-bundle 1.x) shows "Unable to render this definition" for
    # OpenAPI 3.1, which FastAPI writes; its bundle lists the versions it accepts.
    version = client.get("/openapi.json").json()["openapi"]
    major_minor = ".".join(version.split(".")[:2])
    assert major_minor == "3.1"
    assert f"openapi: {major_minor}." in client.get("/docs/static/swagger-ui-bundle.js").text


def test_docs_start_swagger_ui_on_the_apps_openapi_document(client: TestClient) -> None:
    page = client.get("/docs").text
    assert 'data-openapi-url="/openapi.json"' in page
    init = client.get("/docs/static/docs-init.js").text
    assert "SwaggerUIBundle(" in init
    assert 'dom_id: "#swagger-ui"' in init
    assert client.get("/openapi.json").status_code == 200


def test_redoc_and_the_default_docs_are_not_served(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404
    assert client.get("/docs/oauth2-redirect").status_code == 404


def test_mount_docs_refuses_an_app_that_serves_fastapis_default_pages() -> None:
    with pytest.raises(ValueError, match="docs_url=None"):
        mount_docs(FastAPI())
    with pytest.raises(ValueError, match="docs_url=None"):
        mount_docs(FastAPI(docs_url=None))


# --- rate limits --------------------------------------------------------------------------------


def test_rate_limiter_allows_the_limit_then_refuses() -> None:
    limiter = RateLimiter("memory://")
    assert [limiter.hit("3/minute", "sign-in-user", "midwife") for _ in range(5)] == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_rate_limits_are_counted_per_key() -> None:
    limiter = RateLimiter()
    for _ in range(2):
        assert limiter.hit("2/minute", "sign-in-user", "midwife")
    assert not limiter.hit("2/minute", "sign-in-user", "midwife")
    assert limiter.hit("2/minute", "sign-in-user", "obstetrician")
    assert limiter.hit("2/minute", "sign-in-address", "midwife")


def test_keys_are_not_joined_into_each_others_counters() -> None:
    limiter = RateLimiter()
    assert limiter.hit("1/minute", "scope", "a/b")
    assert limiter.hit("1/minute", "scope", "a", "b")


def test_retry_after_is_zero_until_refused_then_within_the_window() -> None:
    limiter = RateLimiter()
    assert limiter.retry_after("1/minute", "api", "token-1") == 0
    assert limiter.hit("1/minute", "api", "token-1")
    assert not limiter.hit("1/minute", "api", "token-1")
    assert 1 <= limiter.retry_after("1/minute", "api", "token-1") <= 60


def test_check_raises_rate_limited_with_retry_after() -> None:
    limiter = RateLimiter()
    limiter.check("1/hour", "api", "token-1")
    with pytest.raises(RateLimited) as refused:
        limiter.check("1/hour", "api", "token-1")
    assert refused.value.status_code == 429
    assert 3590 <= refused.value.retry_after <= 3600
    assert refused.value.headers == {"Retry-After": str(refused.value.retry_after)}


def test_rate_limiter_is_thread_safe() -> None:
    limiter = RateLimiter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: limiter.hit("50/minute", "api", "x"), range(200)))
    assert results.count(True) == 50


def test_a_raised_rate_limited_answers_429_with_retry_after(client: TestClient) -> None:
    answer = client.get("/api/limited")
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "30"
    assert answer.json() == {"detail": "too many requests; try again later"}


def test_too_many_requests_response() -> None:
    answer = too_many_requests(0)
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "1"
    assert answer.body == b'{"detail":"too many requests; try again later"}'


def test_an_unknown_storage_is_refused_at_once() -> None:
    with pytest.raises(ConfigurationError, match="unknown storage scheme"):
        RateLimiter("nosuchstore://")
