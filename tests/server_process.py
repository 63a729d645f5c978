"""Starting `cervixwatch serve` as a real process for the tests that run it: a free port and
the command line, on a SQLite file of the test's own, with none of the environment's
CERVIXWATCH_ settings."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path


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


def _children(parent: int) -> list[tuple[int, bytes]]:
    """The living (not zombie) children of `parent` and their command lines, off /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent and fields[0] != "Z":
            found.append((int(entry.name), command))
    return found


def workers_of(parent: int) -> list[int]:
    """The worker processes `cervixwatch serve` (pid `parent`) has started and that still run:
    the children of its fork server (`serving._Supervisor`: workers are forked from a process
    that imported the app once), not zombies, read off /proc."""
    servers = [pid for pid, command in _children(parent) if b"forkserver" in command]
    return sorted(pid for server in servers for pid, _ in _children(server))
