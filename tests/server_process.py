"""Starting `cervixwatch serve` as a real process for the tests that run it: a free port and
the command line, on a SQLite file of the test's own, with none of the environment's
CERVIXWATCH_ settings."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from cervixwatch.serving import worker_pids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve_command(port: int, database: Path, *options: str) -> list[str]:
    """`cervixwatch serve` on 127.0.0.1:`port` with the SQLite file `database`."""
    return [
        sys.executable,
        "-c",
        "from cervixwatch.cli import app; app()",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *options,
        "--database-url",
        f"sqlite:///{database}",
        "--log-level",
        "warning",
    ]


def clean_environment() -> dict[str, str]:
    """This process's environment without CERVIXWATCH_ settings (the command gives its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CERVIXWATCH_")}


def workers_of(parent: int) -> list[int]:
    """The worker processes `cervixwatch serve` (pid `parent`) runs (`serving.worker_pids`)."""
    return worker_pids(parent)
