"""Running the web app under Uvicorn with several worker processes, each accepting on its own
socket.

Why not `uvicorn.run(workers=N)`: there the workers share one listening socket and race to
accept; the worker that wakes first takes every connection waiting, so connections opened
together (an integration engine's or a proxy's pool of keep-alive connections) all land on one
worker while the others idle. Measured with `benchmarks/api.py` (8 keep-alive clients, 2
workers): one worker at 97% CPU, the other at 0.2%, and 119 bundles/s where spread connections
gave about 150/s (docs/performance.md).

On Linux the parent here opens one listening socket per worker, all bound to the same address
with `SO_REUSEPORT`, and the kernel hands each new connection to one of them by a hash of its
addresses. All are listening before any worker starts, so connections that arrive while the
workers start are spread too (each waits in its socket's queue for its worker). Worker i
serves socket i; a worker that dies is restarted on the same socket, so what waits in its
queue is served, not lost. On SIGINT or SIGTERM the parent stops them all (Uvicorn's graceful
shutdown: requests in progress finish). Where `SO_REUSEPORT` is missing, or with one worker,
this is plain `uvicorn.run`.
"""

from __future__ import annotations

import logging
import logging.config
import multiprocessing
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType
from typing import Any, Final

from cervixwatch.build_info import describe_build

log = logging.getLogger("cervixwatch.serving")

#: Seconds a stopping worker is given to finish its requests before it is killed.
STOP_GRACE_SECONDS: Final = 30
#: A worker that dies within this many seconds of starting died young. If no worker has yet
#: lived longer, the server cannot start (a broken configuration): it stops rather than
#: restart forever. Once one has, the server was healthy: a worker that dies young is restarted
#: after a back-off that doubles each time (issue 12, F10: killing a worker and then its
#: replacement a second later stopped the whole server, the healthy worker included).
EARLY_DEATH_SECONDS: Final = 5
#: The first back-off before restarting a worker that died young, and the longest.
FIRST_BACKOFF_SECONDS: Final = 0.5
MAX_BACKOFF_SECONDS: Final = 30.0
#: Where the workers keep their metrics (prometheus_client's multiprocess mode).
METRICS_DIRECTORY_VARIABLE: Final = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(frozen=True, slots=True)
class Listen:
    """What each worker runs: the app factory on `host`:`port`."""

    app: str
    host: str
    port: int
    log_level: str = "info"
    #: "text" (Uvicorn's lines) or "json" (`web.log_format`: one object a line, request ids).
    log_format: str = "text"
    #: Proxies whose X-Forwarded-For and X-Forwarded-Proto Uvicorn believes (settings'
    #: `trusted_proxies`); none: Uvicorn's proxy headers are off, whoever connects (its
    #: default would believe any process on 127.0.0.1, issue 12).
    trusted_proxies: tuple[str, ...] = ()

    def log_config(self) -> dict[str, Any] | None:
        """Uvicorn's `log_config` for the format; None: Uvicorn's default (text)."""
        if self.log_format != "json":
            return None
        from cervixwatch.web.log_format import uvicorn_log_config

        return uvicorn_log_config(self.log_level)

    def uvicorn_options(self) -> dict[str, Any]:
        config = self.log_config()
        options: dict[str, Any] = {} if config is None else {"log_config": config}
        options["timeout_keep_alive"] = KEEP_ALIVE_SECONDS
        options["proxy_headers"] = bool(self.trusted_proxies)
        if self.trusted_proxies:
            options["forwarded_allow_ips"] = list(self.trusted_proxies)
        return options


#: How long an idle keep-alive connection is kept open. Longer than the proxy's own idle time
#: for its pooled connections to the app (nginx's upstream `keepalive_timeout`, 60 s, set in
#: deploy/nginx/cervixwatch.conf), so that the proxy, never the app, closes an idle one: a
#: request sent on a connection the app is closing at that moment fails (nginx answers 502 to
#: a POST it cannot retry). With Uvicorn's default of 5 s the load run saw it once in 6,771
#: requests (docs/reliability.md, "Load").
KEEP_ALIVE_SECONDS: Final = 75


def spreads_connections() -> bool:
    """Whether this system lets several sockets share a port and spreads connections over
    them (Linux's `SO_REUSEPORT`; BSD's option of that name does not spread them)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def run(listen: Listen, workers: int) -> None:
    """Serve until SIGINT or SIGTERM."""
    config = listen.log_config()
    if config is not None:  # this process's own lines (the supervisor's) as JSON too
        logging.config.dictConfig(config)
        log.info("build: %s", describe_build())  # as text, `demo.serve` prints it
    if workers <= 1:
        _serve(listen, workers)
        return
    # Each worker counts its own requests; the metrics of a scrape, which one worker
    # answers, are the sum of all of theirs, kept in files in this directory (prometheus_client's
    # multiprocess mode, `web.metrics`). Set before any worker imports prometheus_client, and
    # new for each run, so no count of an earlier run is summed in.
    with tempfile.TemporaryDirectory(prefix="cervixwatch-metrics-") as metrics:
        os.environ[METRICS_DIRECTORY_VARIABLE] = metrics
        try:
            _serve(listen, workers)
        finally:
            os.environ.pop(METRICS_DIRECTORY_VARIABLE, None)


def _serve(listen: Listen, workers: int) -> None:
    import uvicorn  # the web server is needed only here

    if workers <= 1 or not spreads_connections():
        uvicorn.run(
            listen.app,
            factory=True,
            host=listen.host,
            port=listen.port,
            workers=workers,
            log_level=listen.log_level,
            **listen.uvicorn_options(),
        )
        return
    sockets: list[socket.socket] = []
    try:
        for _ in range(workers):
            try:
                sockets.append(_listening_socket(listen))
            except OSError as error:
                raise SystemExit(
                    f"cannot listen on {listen.host}:{listen.port}: {error.strerror or error}"
                ) from None
        _Supervisor(listen, sockets).run()
    finally:
        for sock in sockets:
            sock.close()


#: Connections a socket holds waiting to be accepted (Uvicorn's default).
BACKLOG: Final = 2048


def _listening_socket(listen: Listen) -> socket.socket:
    """A TCP socket listening on the address, in its `SO_REUSEPORT` group. Its protocol is
    given as TCP so that asyncio sets TCP_NODELAY on the connections it accepts."""
    family = socket.AF_INET6 if ":" in listen.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((listen.host, listen.port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def _worker(listen: Listen, sock: socket.socket) -> None:
    """One worker process: Uvicorn on its own socket."""
    import uvicorn

    config = uvicorn.Config(
        listen.app,
        factory=True,
        log_level=listen.log_level,
        backlog=BACKLOG,
        **listen.uvicorn_options(),
    )
    config.configure_logging()
    # The parent stops a worker with SIGTERM, which Uvicorn handles; SIGINT (Ctrl+C reaches
    # the whole process group) is left to the parent, so shutdown happens once, in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    uvicorn.Server(config).run(sockets=[sock])


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


def worker_pids(supervisor: int) -> list[int]:
    """The worker processes a supervisor (`cervixwatch serve --workers N`, pid `supervisor`)
    runs: the children of its fork server, read off /proc (Linux; for the tests, the fault
    suite and the load benchmark's memory readings)."""
    servers = [pid for pid, command in _children(supervisor) if b"forkserver" in command]
    return sorted(pid for server in servers for pid, _ in _children(server))


def _module_of(factory: str) -> str:
    """The module of an import string such as "package.module:create_app"."""
    return factory.partition(":")[0]


class _Supervisor:
    def __init__(self, listen: Listen, sockets: list[socket.socket]) -> None:
        self.listen = listen
        self.sockets = sockets
        # Workers are forked from a server process that imported the app's modules once
        # (issue 12, part 2): a worker replacing a dead one imports nothing, and serves
        # within a second even under load, where a spawned one spent about 2 s of CPU on its
        # imports (the kill-two fault took 4.8-9.5 s to recover). The fork server is a fresh
        # interpreter with one thread and no database connection: a worker forked from it
        # inherits no lock that another thread held, and no connection it would share.
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload([_module_of(listen.app), "uvicorn"])
        self.workers: list[BaseProcess] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        previous = {s: signal.signal(s, self._stop) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.workers = [self._start(sock) for sock in self.sockets]
            self._watch()
        finally:
            self._stop_all()
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _start(self, sock: socket.socket) -> BaseProcess:
        process = self.context.Process(target=_worker, args=(self.listen, sock), daemon=False)
        process.start()
        log.info("started worker process %s", process.pid)
        return process

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopping.set()

    def _watch(self) -> None:
        """Restart a worker that dies, until asked to stop: at once if it had lived, after a
        doubling back-off if it died young; stop only if no worker ever got going."""
        started = {p.pid: time.monotonic() for p in self.workers}
        backoff = [0.0] * len(self.workers)
        due: dict[int, float] = {}  # slot -> when its dead worker is restarted
        healthy = False
        while not self.stopping.is_set():
            # A dead worker's sentinel stays ready: wait on the living ones only (a slot
            # waiting out its back-off is looked at again within the half second).
            alive = [p.sentinel for p in self.workers if p.is_alive()]
            if alive:
                wait(alive, timeout=0.5 if not due else 0.1)
            else:
                self.stopping.wait(0.1)
            now = time.monotonic()
            for i, process in enumerate(self.workers):
                if self.stopping.is_set():
                    break
                lived = now - started.get(process.pid, now)
                if process.is_alive():
                    if lived >= EARLY_DEATH_SECONDS:
                        healthy = True
                        backoff[i] = 0.0
                    continue
                if i in due:
                    if now >= due[i]:
                        del due[i]
                        self.workers[i] = self._start(self.sockets[i])
                        started[self.workers[i].pid] = time.monotonic()
                    continue
                if lived < EARLY_DEATH_SECONDS and not healthy:
                    log.error(
                        "worker process %s exited (code %s) %.1f s after starting, and none "
                        "has started yet; stopping",
                        process.pid,
                        process.exitcode,
                        lived,
                    )
                    raise SystemExit(3)
                if lived < EARLY_DEATH_SECONDS:
                    backoff[i] = min(
                        MAX_BACKOFF_SECONDS, max(FIRST_BACKOFF_SECONDS, backoff[i] * 2)
                    )
                else:
                    backoff[i] = 0.0
                log.warning(
                    "worker process %s exited (code %s) after %.1f s; starting another in %.1f s",
                    process.pid,
                    process.exitcode,
                    lived,
                    backoff[i],
                )
                due[i] = now + backoff[i]
                if backoff[i] == 0.0:
                    del due[i]
                    self.workers[i] = self._start(self.sockets[i])
                    started[self.workers[i].pid] = time.monotonic()

    def _stop_all(self) -> None:
        for process in self.workers:
            if process.is_alive():
                process.terminate()  # SIGTERM: Uvicorn finishes the requests in progress
        for process in self.workers:
            process.join(STOP_GRACE_SECONDS)
            if process.is_alive():
                log.warning("worker process %s did not stop in time; killed", process.pid)
                process.kill()
                process.join()
