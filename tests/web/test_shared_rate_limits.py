"""The rate limits' and the sign-in back-off's counters as two worker processes see them
(issue 12, part 5): two `RateLimiter`s over one Redis storage share every counter; over
`memory://` each counts its own (why `cervixwatch serve` warns). Real worker processes:
`tests/test_serve_shared_state.py`."""

from __future__ import annotations

import socket
import uuid

import pytest

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
