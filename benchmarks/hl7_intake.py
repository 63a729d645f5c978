"""Benchmark: HL7 v2 ORU^R01 intake over one MLLP connection, messages acknowledged per second.

    uv run python benchmarks/hl7_intake.py [--messages 1000] [--database-url URL]
    uv run python benchmarks/hl7_intake.py --quick     # 100 messages: a smoke run

1. A fresh SQLite database in a temporary directory (or `--database-url`), migrated, with one
   SYNTHETIC woman per message, each known by her hospital number under the hospital's OID;
   the ORU^R01 messages (one cervical length each) made in memory. Not timed.
2. `cervixwatch hl7-listen` started as a process on a free loopback port.
3. One MLLP connection (python-hl7's MLLPClient, as a reporting system's interface engine
   keeps one open), each message sent once the ACK of the one before has come (original
   mode: in order); each ACK comes once the length is stored for her, her assessment made
   again, the intake log and audit entry written. Timed from the first message to the last
   ACK; every ACK must be AA.

Target (issue 14): at least 200 messages/s. Everything runs on this machine, so the sender
competes with the listener for the CPUs. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import tempfile
import time
from pathlib import Path

from hl7.client import MLLPClient

sys.path.insert(0, str(Path(__file__).parents[1]))

from tests.integrations.hl7_builder import oru

from device_common import (
    cpu_seconds,
    free_port,
    listener,
    patient_id,
    seed_women,
    stored_lengths,
)

TARGET_PER_SECOND = 200.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--quick", action="store_true", help="100 messages: a smoke run")
    args = parser.parse_args()
    count = 100 if args.quick else args.messages
    today = dt.datetime.now(dt.UTC).date()
    observed = (today - dt.timedelta(days=1)).strftime("%Y%m%d") + "0930"
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'bench.db'}"
        seed_women(url, count, today)
        messages = [
            oru(f"B{n:07d}", patient=patient_id(n), value=str(20 + n % 15), observed=observed)
            for n in range(count)
        ]
        port = free_port()
        with (
            listener(["hl7-listen"], port, url, Path(directory) / "listener.log") as pid,
            MLLPClient("127.0.0.1", port) as client,
        ):
            refused = 0
            cpu_before = cpu_seconds(pid)
            started = time.perf_counter()
            for message in messages:
                answer = client.send_message(message)
                if b"MSA|AA|" not in answer:
                    refused += 1
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds(pid) - cpu_before
        stored = stored_lengths(url)
    rate = count / elapsed
    print(
        f"HL7 v2 intake over one MLLP connection ({platform.python_implementation()} "
        f"{platform.python_version()}, {'PostgreSQL' if args.database_url else 'SQLite'}): "
        f"{count} messages in {elapsed:.2f} s = {rate:.1f} messages/s; {refused} not AA, "
        f"{stored} lengths stored; listener CPU {1000 * cpu / count:.1f} ms per message (one "
        f"core: at most {count / cpu:.0f}/s); target >= {TARGET_PER_SECOND:.0f}/s: "
        f"{'met' if rate >= TARGET_PER_SECOND and not refused else 'NOT met'}"
    )
    return 0 if refused == 0 and stored == count else 1


if __name__ == "__main__":
    sys.exit(main())
