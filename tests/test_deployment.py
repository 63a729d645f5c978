"""The deployment's reverse proxy (docs/deployment.md): `deploy/nginx/cervixwatch.conf` passes
nginx's own configuration test (`nginx -t`), and, run for real in front of the app with a
self-signed certificate, serves it over TLS, sends plain HTTP to HTTPS, keeps /metrics from
the outside and writes no path in its log, only the app's request id. The systemd units pass
`systemd-analyze verify`, and the example settings name only real settings.

Debian's nginx is installed by `make test` as root; without it the proxy's tests skip."""

from __future__ import annotations

import datetime as dt
import http.client
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine

from cervixwatch.settings import Settings
from tests.server_process import free_port
from tests.web.live_server import served

CONFIG = Path(__file__).parent.parent / "deploy" / "nginx" / "cervixwatch.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

needs_nginx = pytest.mark.skipif(
    NGINX is None,
    reason="nginx is not installed (make test installs Debian's nginx when run as root; "
    "else: apt-get install nginx)",
)


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cervixwatch.example.org")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    chain = directory / "fullchain.pem"
    private = directory / "privkey.pem"
    chain.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return chain, private


def _main_config(
    directory: Path, *, http_port: int = 80, https_port: int = 443, app_port: int = 8000
) -> Path:
    """nginx.conf for the test: the site's file as shipped, with the certificate, the log,
    the ports and the app's address of this test, included in an http block as
    /etc/nginx/nginx.conf includes conf.d/."""
    chain, private = _certificate(directory)
    site = CONFIG.read_text()
    for shipped, here in (
        ("/etc/cervixwatch/tls/fullchain.pem", str(chain)),
        ("/etc/cervixwatch/tls/privkey.pem", str(private)),
        ("/var/log/nginx/cervixwatch.access.log", str(directory / "access.log")),
        ("127.0.0.1:8000", f"127.0.0.1:{app_port}"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl"),
    ):
        assert shipped in site, f"{shipped} is no longer in {CONFIG.name}"
        site = site.replace(shipped, here)
    # IPv6 listeners as shipped would need [::] free on the same ports: left out here.
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    (directory / "cervixwatch.conf").write_text(site)
    main = directory / "nginx.conf"
    main.write_text(
        f"pid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'};\n"
        "events {}\n"
        "http {\n"
        f"    access_log {directory / 'default-access.log'};\n"
        f"    client_body_temp_path {directory / 'body'};\n"
        f"    proxy_temp_path {directory / 'proxy'};\n"
        f"    include {directory / 'cervixwatch.conf'};\n"
        "}\n"
    )
    return main


def _nginx(directory: Path, main: Path, *arguments: str) -> list[str]:
    assert NGINX is not None
    return [
        NGINX,
        "-p",
        str(directory),
        "-c",
        str(main),
        "-e",
        str(directory / "error.log"),
        *arguments,
    ]


@needs_nginx
def test_the_shipped_proxy_configuration_passes_nginx_own_test(tmp_path: Path) -> None:
    """The file as shipped, IPv6 listeners included (a test binds nothing)."""
    chain, private = _certificate(tmp_path)
    site = CONFIG.read_text()
    site = site.replace("/etc/cervixwatch/tls/fullchain.pem", str(chain))
    site = site.replace("/etc/cervixwatch/tls/privkey.pem", str(private))
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "cervixwatch.conf").write_text(site)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path / 'nginx.pid'};\nevents {{}}\n"
        f"http {{ include {tmp_path / 'cervixwatch.conf'}; }}\n"
    )
    checked = subprocess.run(
        _nginx(tmp_path, main, "-t"), capture_output=True, text=True, timeout=30, check=False
    )
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr
    assert "test is successful" in checked.stderr


@pytest.fixture
def proxy(engine: Engine, tmp_path: Path) -> Iterator[tuple[int, int, Path]]:
    """nginx in front of the app: (HTTP port, HTTPS port, nginx's access log)."""
    http_port, https_port = free_port(), free_port()
    with served(engine) as base:
        app_port = int(base.rsplit(":", 1)[1])
        main = _main_config(tmp_path, http_port=http_port, https_port=https_port, app_port=app_port)
        for temporary in ("body", "proxy"):
            (tmp_path / temporary).mkdir()
        nginx = subprocess.Popen(
            _nginx(tmp_path, main, "-g", "daemon off;"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # its errors go to error.log (-e)
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                    break
                except OSError:
                    assert nginx.poll() is None, (tmp_path / "error.log").read_text()
                    assert time.monotonic() < deadline, "nginx did not start"
                    time.sleep(0.1)
            yield http_port, https_port, tmp_path / "access.log"
        finally:
            nginx.terminate()
            nginx.wait(timeout=20)


def _get(port: int, path: str, *, tls: bool) -> http.client.HTTPResponse:
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=10, context=context
        )
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Host": "cervixwatch.example.org"})
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer


@needs_nginx
def test_the_proxy_serves_the_app_over_tls_and_keeps_metrics_inside(
    proxy: tuple[int, int, Path],
) -> None:
    http_port, https_port, access_log = proxy
    health = _get(https_port, "/healthz", tls=True)
    assert health.status == 200
    request_id = health.getheader("X-Request-ID")
    assert request_id
    assert _get(https_port, "/readyz", tls=True).status == 200
    # The app would refuse a proxied scrape too; the proxy does not pass it on at all.
    assert _get(https_port, "/metrics", tls=True).status == 404
    assert _get(https_port, "/fhir/Patient?family=Quillfeather", tls=True).status == 401
    redirected = _get(http_port, "/worklist?q=x", tls=False)
    assert redirected.status == 301
    assert redirected.getheader("Location") == "https://cervixwatch.example.org/worklist?q=x"
    time.sleep(0.2)  # nginx writes its access line as the request ends
    logged = access_log.read_text()
    assert f"request_id={request_id}" in logged
    assert "Quillfeather" not in logged
    assert not re.search(r"/(healthz|fhir|metrics)", logged), logged


UNITS = Path(__file__).parent.parent / "deploy" / "systemd"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """The units as shipped, with /opt/cervixwatch/.venv read as this environment (verify
    checks that each command is there to run); any warning fails too."""
    assert SYSTEMD_ANALYZE is not None
    venv = Path(sys.executable).parent.parent
    assert (venv / "bin" / "cervixwatch").exists()
    units = sorted(UNITS.iterdir())
    assert {u.suffix for u in units} == {".service", ".timer"}
    for unit in units:
        text = unit.read_text().replace("/opt/cervixwatch/.venv", str(venv))
        (tmp_path / unit.name).write_text(text)
    checked = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *(f"./{u.name}" for u in units)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert not checked.stderr.strip(), checked.stderr


def test_the_example_environment_names_only_real_settings() -> None:
    example = Path(__file__).parent.parent / "deploy" / "cervixwatch.env.example"
    named = re.findall(r"^#?CERVIXWATCH_(\w+)=", example.read_text(), flags=re.MULTILINE)
    assert named
    unknown = [n for n in named if n.lower() not in Settings.model_fields]
    assert not unknown, f"not settings: {unknown}"
