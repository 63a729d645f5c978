"""Settings from the environment (prefix CERVIXWATCH_) or a `.env` file, never from the repo."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from cervixwatch.knowledge import BUNDLED_PROFILES
from cervixwatch.knowledge.codes import DEFAULT_HOSPITAL_NUMBER_SYSTEM


class CdsHooksClient(BaseModel):
    """An EHR allowed to call the CDS services (`Settings.cds_hooks_clients`)."""

    issuer: str
    jwks_urls: list[str] = []
    jwks: dict[str, Any] | None = None


class SmartEhr(BaseModel):
    """An EHR that launches CervixWatch as a SMART app (`Settings.smart_ehrs`): its FHIR
    base (`iss`), the client_id CervixWatch is registered under there, the scopes asked for,
    and the browser origins allowed to show CervixWatch's pages in a frame."""

    iss: str
    client_id: str
    scope: str = "launch openid fhirUser patient/*.rs"
    frame_origins: list[str] = []


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CERVIXWATCH_", env_file=".env", extra="ignore")

    #: SQLAlchemy URL; SQLite (WAL) is the embedded default, PostgreSQL the production database.
    database_url: str = "sqlite:///./cervixwatch.db"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    #: Directory of guideline profile files.
    knowledge_dir: Path = BUNDLED_PROFILES
    #: Largest request body accepted, in bytes (a FHIR Bundle for one patient is far smaller).
    max_request_bytes: int = 5 * 1024 * 1024
    #: Default page size of list endpoints, and the most a client may ask for.
    page_size: int = 50
    max_page_size: int = 500
    #: The identifier system of this installation's hospital numbers (MRNs): the number a
    #: form registers is an identifier of this system, and the hospital number the pages show
    #: is a woman's identifier of this system (else the one typed MR). Set it to the system the
    #: hospital's EHR uses in FHIR, so its Patients and the clinic's forms name one woman.
    hospital_number_system: str = DEFAULT_HOSPITAL_NUMBER_SYSTEM
    #: The site's table of ultrasound devices' own codes and patient-ID issuers (YAML, the
    #: shape of knowledge/devices/codes.yaml; docs/integrations.md). None: standard codes only.
    device_codes_file: Path | None = None

    # --- access control (see docs/security.md) ---------------------------------------------
    #: How long a sign-in lasts (hours), and how long an idle one lasts (minutes).
    session_hours: int = 12
    session_idle_minutes: int = 60
    #: Send the session cookie only over TLS. None: when the request came over https (behind a
    #: proxy named in `trusted_proxies`, the scheme is the client's).
    cookie_secure: bool | None = None
    #: Wrong passwords for one account from one client address after which that address
    #: must wait before trying again: `lockout_backoff_seconds`, doubling with each further
    #: wrong one, at most `lockout_backoff_max_seconds`. Never a lock: other addresses, and
    #: the account's sign-ins and tokens, are left alone (issue 12, F4).
    lockout_threshold: int = 10
    lockout_backoff_seconds: int = 15
    lockout_backoff_max_seconds: int = 900
    #: Days an API token lasts when its creator does not say, and the most she may ask for
    #: (issue 12, F3: a bounded lifetime, 90 days by default).
    token_days: int = 90
    token_max_days: int = 90
    #: Making a token needs the password again; an account without one (single sign-on only)
    #: needs a browser sign-in begun at most this many minutes ago (NIST SP 800-63B, 7.2).
    token_reauth_minutes: int = 5
    #: Hours a one-time code (what an admin gives a new or reset account instead of a
    #: password, issue 12, F2) lasts before the user must have set her password with it.
    one_time_code_hours: int = 24
    #: Seconds a bearer token's principal is remembered between requests (0: looked up on
    #: every request). A revocation made through the app or the CLI still bites at once in
    #: every worker (the access generation, `access/token_cache.py`); only a change written
    #: to the tables by hand waits this long.
    token_cache_seconds: float = 5.0
    #: Rate limits ("N/period" as the `limits` library reads them) and where their counters
    #: live: memory:// is per process; redis://host:port shares them between processes.
    rate_limit_storage: str = "memory://"
    sign_in_rate_limit: str = "10/minute"
    api_rate_limit: str = "1200/minute"
    #: Origins allowed to call the API from a browser (CORS); none by default.
    cors_origins: list[str] = []
    #: Reverse proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed (a JSON
    #: list of addresses or networks, e.g. '["127.0.0.1"]' for nginx on this host; Uvicorn's
    #: `forwarded_allow_ips`). None by default: the client's address (rate limits, back-off,
    #: the audit log) and the scheme are the connection's own (issue 12, low finding).
    trusted_proxies: list[str] = []
    #: `Host` names the app answers (Starlette's TrustedHostMiddleware; "*.example.org" for
    #: subdomains, "*" for any), others get 400. Unset: `host` (unless it is 0.0.0.0 or ::),
    #: localhost and 127.0.0.1 (`web/hosts.py`). Set it to the name users reach the app by.
    allowed_hosts: list[str] | None = None
    #: OpenID Connect single sign-on, off unless an issuer is set.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    #: Signs the short-lived state of an OpenID Connect sign-in; required when OIDC is on.
    oidc_state_secret: SecretStr | None = None

    # --- operations (see docs/deployment.md) -----------------------------------------------
    #: How `cervixwatch serve` writes its logs: "text", Uvicorn's lines as before, or "json",
    #: one JSON object a line with the request's id (`web/log_format.py`).
    log_format: Literal["text", "json"] = "text"
    #: The bearer token a Prometheus scraper sends for /metrics; unset, /metrics answers only
    #: on this host's loopback, to requests that did not come through a proxy.
    metrics_token: SecretStr | None = None
    #: A file of audit checkpoints this server can read (JSON lines, as `cervixwatch audit
    #: checkpoint --out FILE` appends them): /metrics then shows the newest one's age.
    audit_checkpoints: Path | None = None
    #: Where `cervixwatch population run --out` writes the network's rows (assessments.parquet):
    #: the population audit page (/quality/audit) counts its measures there. Unset: the page
    #: says how to make them.
    population_dir: Path | None = None

    # --- FHIR Bulk Data $export (docs/fhir-api.md, "Bulk Data") ----------------------------
    #: Where exports are written, one directory a job (the job's state is kept there, so
    #: every worker of the host must see the same directory). Unset: `cervixwatch-exports`
    #: in the system's temporary directory (tempfile.gettempdir()).
    export_dir: Path | None = None
    #: Hours an export's files are kept once written, then deleted (an operational setting).
    export_expire_hours: float = Field(default=24.0, gt=0)

    # --- notifications of urgent symptom reports (docs/deployment.md, "Notifications") ------
    #: The address users reach the app at: notifications link to a woman's pregnancy page here.
    public_base_url: str = "http://127.0.0.1:8000"
    #: The SMTP server e-mail notifications go through; unset, e-mail deliveries fail (and
    #: are retried, then recorded as failed). STARTTLS on the submission port by default;
    #: `smtp_ssl` for implicit TLS (port 465); a login when `smtp_username` is set.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "cervixwatch@localhost"
    #: Seconds an SMTP server or a webhook receiver has to answer.
    notify_timeout_seconds: float = 10.0
    #: Minutes a red-flag report may wait without a review before its escalation is sent,
    #: for care teams with no setting of their own. An operational setting, not a clinical
    #: rule (the guidelines give none): unset, only teams with a setting escalate.
    notify_escalate_after_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    #: Attempts at a delivery before it is recorded as failed; the wait after the first
    #: failed attempt (seconds), doubling after each, at most `notify_retry_max_seconds`.
    notify_max_attempts: int = Field(default=8, ge=1)
    notify_retry_seconds: float = Field(default=30.0, gt=0)
    notify_retry_max_seconds: float = Field(default=3600.0, gt=0)
    #: Seconds a dispatcher's claim on a delivery lasts: one that died while sending leaves
    #: it to be sent again after this.
    notify_claim_seconds: float = Field(default=300.0, gt=0)
    #: Whether each server worker runs the dispatcher (every `notify_interval_seconds`);
    #: false: run `cervixwatch notify --once` from cron, or `cervixwatch notify` beside it.
    notify_in_server: bool = True
    notify_interval_seconds: float = Field(default=10.0, gt=0)

    # --- CDS Hooks (docs/integrations.md, "CDS Hooks") --------------------------------------
    #: The EHRs allowed to call the CDS services, a JSON list: each an `issuer` (the JWT's
    #: `iss`), the JWK Set URLs its `jku` may name (`jwks_urls`; without a `jku` the keys are
    #: read from these) and/or its public keys given out of band (`jwks`, a JWK Set). None by
    #: default: every call is refused until an EHR is configured.
    cds_hooks_clients: list[CdsHooksClient] = []
    #: Browser origins of EHRs allowed to call the CDS services (CORS); none by default.
    cds_hooks_origins: list[str] = []
    #: The services' base URL as the EHR calls it (https://cds.example.org): a JWT's `aud`
    #: must be this followed by the path called. Unset: the URL the request came to.
    cds_hooks_base_url: str | None = None
    # --- SMART on FHIR as a server (docs/integrations.md, "SMART apps") ----------------------
    #: This server's address as SMART apps reach it (https://cervixwatch.example.org): an
    #: app's `aud` must be this and /fhir, a backend client's JWT `aud` this and /oauth/token.
    #: Unset: the URL the request came to.
    smart_base_url: str | None = None
    #: The EHRs that may launch CervixWatch as a SMART app (a JSON list of `SmartEhr`); none
    #: by default: `/smart/launch` refuses every `iss`.
    smart_ehrs: list[SmartEhr] = []

    #: The guideline profile whose due actions become cards; unset: the first of those the
    #: clinic's pages show (the clinic settings), else the first loaded.
    cds_hooks_guideline: str | None = None
    #: Seconds the EHR's FHIR server (no prefetch) and a JWK Set URL have to answer, and how
    #: long a fetched JWK Set is kept.
    cds_hooks_fetch_timeout_seconds: float = Field(default=10.0, gt=0)
    cds_hooks_jwks_cache_seconds: float = Field(default=300.0, ge=0)


@cache
def get_settings() -> Settings:
    return Settings()
