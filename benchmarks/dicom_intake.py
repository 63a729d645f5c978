"""Benchmark: DICOM SR intake through C-STORE, reports stored per second.

    uv run python benchmarks/dicom_intake.py [--reports 500] [--database-url URL]
    uv run python benchmarks/dicom_intake.py --quick     # 50 reports: a smoke run

1. A fresh SQLite database in a temporary directory (or `--database-url`, e.g. a throwaway
   PostgreSQL database), migrated, with one SYNTHETIC woman per report, each known by her
   hospital number under the hospital's OID. `--reports` SRs (TID 5000, one cervix length
   each, built with highdicom) made in memory. Not timed.
2. `cervixwatch dicom-listen` started as a process on a free loopback port.
3. One association (as an ultrasound machine or a reporting system sends a day's reports),
   every SR sent by C-STORE one after the other with pynetdicom, each answered only once its
   length is stored for her, her assessment made again and the intake log and audit entry
   written (all in one transaction). Timed from the first C-STORE to the last answer.

Target (issue 14): at least 50 reports/s. Everything runs on this machine, so the sender
competes with the listener for the CPUs. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import platform
import socket
import sys
import tempfile
import time
from pathlib import Path

import pydicom
from pynetdicom import AE

sys.path.insert(0, str(Path(__file__).parents[1]))

from tests.integrations.sr_builder import build_sr, sr_bytes

from device_common import (
    HOSPITAL_OID,
    cpu_seconds,
    free_port,
    listener,
    patient_id,
    seed_women,
    stored_lengths,
)

TARGET_PER_SECOND = 50.0
COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--quick", action="store_true", help="50 reports: a smoke run")
    parser.add_argument(
        "--nagle",
        action="store_true",
        help="leave Nagle's algorithm on in the sender (pynetdicom's default)",
    )
    args = parser.parse_args()
    count = 50 if args.quick else args.reports
    today = dt.datetime.now(dt.UTC).date()
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'bench.db'}"
        seed_women(url, count, today)
        reports = [
            pydicom.dcmread(
                io.BytesIO(
                    sr_bytes(
                        build_sr(
                            patient_id(n),
                            oid=HOSPITAL_OID,
                            lengths_mm=(20 + n % 15,),
                            study_day=today - dt.timedelta(days=1),
                        )
                    )
                )
            )
            for n in range(count)
        ]
        port = free_port()
        with listener(
            ["dicom-listen", "--ae-title", "CERVIXWATCH"],
            port,
            url,
            Path(directory) / "listener.log",
        ) as pid:
            ae = AE(ae_title="BENCHSCU")
            ae.add_requested_context(COMPREHENSIVE_SR)
            ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 120
            association = ae.associate("127.0.0.1", port, ae_title="CERVIXWATCH")
            if not association.is_established:
                print("the association was refused", file=sys.stderr)
                return 1
            if not args.nagle:
                # As a sender configured for throughput does (DCMTK: TCP_NODELAY=1): with
                # Nagle's algorithm on, each C-STORE's data set waits for the listener's
                # delayed ACK, ~40 ms a report whatever the listener does.
                connection = association.dul.socket
                assert connection is not None
                assert connection.socket is not None
                connection.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            failed = 0
            cpu_before = cpu_seconds(pid)
            started = time.perf_counter()
            for ds in reports:
                status = association.send_c_store(ds)
                if getattr(status, "Status", None) != 0x0000:
                    failed += 1
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds(pid) - cpu_before
            association.release()
        stored = stored_lengths(url)
    rate = count / elapsed
    print(
        f"DICOM SR intake via C-STORE ({platform.python_implementation()} "
        f"{platform.python_version()}, {'PostgreSQL' if args.database_url else 'SQLite'}): "
        f"{count} reports in {elapsed:.2f} s = {rate:.1f} reports/s; "
        f"{failed} refused, {stored} lengths stored; listener CPU {1000 * cpu / count:.1f} ms "
        f"per report (one core: at most {count / cpu:.0f}/s); target >= {TARGET_PER_SECOND:.0f}/s: "
        f"{'met' if rate >= TARGET_PER_SECOND and not failed else 'NOT met'}"
    )
    return 0 if failed == 0 and stored == count else 1


if __name__ == "__main__":
    sys.exit(main())
