"""The rate limits' and the sign-in back-off's counters as two worker processes see them
(issue 12, part 5): two `RateLimiter`s over one Redis storage share every counter; over
`memory://` each counts its own limits (why `cervixwatch serve` warns), and the back-off's
wrong passwords are shared through the database (SQLite and PostgreSQL). Real worker
processes: `tests/test_serve_shared_state.py`."""

from __future__ import annotations

import socket
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from cervixwatch.store.database import make_engine
from cervixwatch.store.failure_counters import DatabaseCounters
from cervixwatch.store.migrate import upgrade
from cervixwatch.web.rate_limits import Backoff, RateLimiter, per_worker_warning

REDIS = ("127.0.0.1", 6379)
REDIS_URL = f"redis://{REDIS[0]}:{REDIS[1]}/12"
BACKOFF = Backoff(threshold=3, base_seconds=15, max_seconds=900)


def _redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def two_workers_on_redis() -> tuple[RateLimiter, RateLimiter]:
    if not _redis_answers():
        pytest.skip(f"no Redis server answers on {REDIS[0]}:{REDIS[1]} (make redis-deps)")
    return RateLimiter(REDIS_URL), RateLimiter(REDIS_URL)


def test_with_redis_a_limit_counts_the_requests_of_both(
    two_workers_on_redis: tuple[RateLimiter, RateLimiter],
) -> None:
    first, second = two_workers_on_redis
    user = uuid.uuid4().hex  # a key of this run's own
    answers = [(first, second)[n % 2].hit("4/minute", "api", user) for n in range(4)]
    assert answers == [True] * 4
    assert not first.hit("4/minute", "api", user)
    assert not second.hit("4/minute", "api", user)
    assert second.retry_after("4/minute", "api", user) > 0


def test_with_redis_the_back_off_is_counted_and_cleared_across_workers(
    two_workers_on_redis: tuple[RateLimiter, RateLimiter],
) -> None:
    first, second = two_workers_on_redis
    keys = (f"nurse-{uuid.uuid4().hex[:8]}", "203.0.113.9")
    # Wrong passwords alternating between the workers reach the threshold together...
    counted = [
        (first, second)[n % 2].count_failure(BACKOFF, "wrong-password", *keys) for n in range(3)
    ]
    assert counted == [1, 2, 3]
    # ...and both refuse the next try for the back-off's first 15 s.
    assert 0 < first.backed_off_for("wrong-password", *keys) <= 15
    assert 0 < second.backed_off_for("wrong-password", *keys) <= 15
    # A right password on either clears it for both.
    first.clear_failures("wrong-password", *keys)
    assert second.backed_off_for("wrong-password", *keys) == 0


def test_in_memory_each_worker_counts_its_own() -> None:
    first, second = RateLimiter("memory://"), RateLimiter("memory://")
    for _ in range(3):
        first.count_failure(BACKOFF, "wrong-password", "nurse", "203.0.113.9")
    assert first.backed_off_for("wrong-password", "nurse", "203.0.113.9") > 0
    assert second.backed_off_for("wrong-password", "nurse", "203.0.113.9") == 0
    assert [second.hit("1/minute", "api", "u") for _ in range(2)] == [True, False]
    assert first.hit("1/minute", "api", "u")


def test_the_warning_is_for_several_workers_counting_in_memory() -> None:
    assert per_worker_warning("memory://", 1) is None
    assert per_worker_warning(REDIS_URL, 4) is None
    warning = per_worker_warning("memory://", 4)
    assert warning is not None
    assert "4 times each limit" in warning
    assert "CERVIXWATCH_RATE_LIMIT_STORAGE" in warning


# --- without Redis: the back-off's counters in the database ------------------------------------


def test_without_redis_the_back_off_is_shared_through_the_database(empty_url: str) -> None:
    """Two workers' limiters, each with its own engine on one database (as `create_app` sets
    them up with `memory://`): the wrong passwords are counted together, the back-off is
    seen by both and cleared by either; the limits themselves stay per worker."""
    upgrade(empty_url)
    engines = [make_engine(empty_url), make_engine(empty_url)]
    try:
        first, second = RateLimiter("memory://"), RateLimiter("memory://")
        first.count_failures_in(DatabaseCounters(engines[0]))
        second.count_failures_in(DatabaseCounters(engines[1]))
        keys = ("nurse", "203.0.113.9")
        counted = [
            (first, second)[n % 2].count_failure(BACKOFF, "wrong-password", *keys) for n in range(4)
        ]
        assert counted == [1, 2, 3, 4]
        # The fourth wrong one doubled the first back-off of 15 s.
        assert 15 < second.backed_off_for("wrong-password", *keys) <= 30
        assert 15 < first.backed_off_for("wrong-password", *keys) <= 30
        second.clear_failures("wrong-password", *keys)
        assert first.backed_off_for("wrong-password", *keys) == 0
        assert first.count_failure(BACKOFF, "wrong-password", *keys) == 1
    finally:
        for engine in engines:
            engine.dispose()


def test_database_counters_count_concurrent_failures_each_and_forget_expired_ones(
    empty_url: str,
) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        counters = DatabaseCounters(engine)
        with ThreadPoolExecutor(max_workers=8) as pool:
            counts = sorted(pool.map(lambda _: counters.incr("guessed", 60), range(16)))
        assert counts == list(range(1, 17))
        assert counters.get("guessed") == 16
        assert time.time() < counters.get_expiry("guessed") <= time.time() + 60
        # Expired: read as nothing, counted from one again, with a new expiry.
        counters.incr("brief", 1)
        time.sleep(1.1)
        assert counters.get("brief") == 0
        assert counters.incr("brief", 60) == 1
        assert counters.get_expiry("brief") > time.time() + 50
        counters.clear("guessed")
        assert counters.get("guessed") == 0
    finally:
        engine.dispose()


def test_database_counters_take_a_key_of_any_length(empty_url: str) -> None:
    # The username is counted as typed: 10,000 characters must not fail the sign-in (500).
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        counters = DatabaseCounters(engine)
        long_key, other = "u" * 10_000, "u" * 9_999 + "v"
        assert counters.incr(long_key, 60) == 1
        assert counters.incr(long_key, 60) == 2
        assert counters.incr(other, 60) == 1  # the same beginning, another counter
        assert counters.get(long_key) == 2
    finally:
        engine.dispose()


def test_threads_of_one_worker_share_a_memory_limiter_without_an_error() -> None:
    """The memory storage of `limits` 5.8.0 could start its expiry timer twice when two
    threads hit it at once ("threads can only be started once": a 500 under load). Eight
    threads, released together about every 12 ms (the timer's 10 ms and then some), with
    thread switches forced often enough to interleave them; before the fix this raised a
    few times in 300 rounds."""
    limiter = RateLimiter()
    rounds = 300
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def hit_in_rounds() -> None:
        for i in range(rounds):
            barrier.wait()
            try:
                limiter.hit("1000/second", "api", f"user{i % 7}")
                limiter.count_failure(BACKOFF, "sign-in", f"user{i % 5}")
            except RuntimeError as error:
                errors.append(error)
            time.sleep(0.012)

    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=hit_in_rounds) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switching)
    assert errors == []
