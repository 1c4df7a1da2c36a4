"""Rate limits and retry timing: a per-client token bucket and the server's requested waits."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC
from email.utils import parsedate_to_datetime

import requests

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
RESET_HEADERS = ("RateLimit-Reset", "X-RateLimit-Reset", "X-Rate-Limit-Reset")
_EPOCH_THRESHOLD = 1_000_000_000  # a reset header above this is an epoch time, not a delay


class TokenBucket:
    """Allows `rate_per_s` requests a second on average with bursts up to `burst`."""

    def __init__(
        self,
        rate_per_s: float,
        *,
        burst: float = 1.0,
        clock: Callable[[], float],
        sleep: Callable[[float], object],
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self.rate = rate_per_s
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = burst
        self._last = clock()

    def acquire(self) -> float:
        """Take one token, sleeping until one is available; returns the seconds slept."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        wait = (1 - self._tokens) / self.rate
        self._sleep(wait)
        # The token that accrued while sleeping is spent by this request.
        self._tokens = 0.0
        self._last = now + wait
        return wait


def quota_exhausted(response: requests.Response) -> bool:
    """429, or GitHub's 403 with X-RateLimit-Remaining: 0: a reset header then says when to retry."""
    if response.status_code == 429:
        return True
    return response.status_code == 403 and response.headers.get("X-RateLimit-Remaining") == "0"


def server_wait(response: requests.Response, now: float) -> float | None:
    """Seconds the server asks us to wait: Retry-After (delay or HTTP date), else a reset header.

    Reset headers count only on a rate-limited response: GitHub sends them on every reply.
    """
    retry_after = (response.headers.get("Retry-After") or "").strip()
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(retry_after)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, when.timestamp() - now)
    if not quota_exhausted(response):
        return None
    for name in RESET_HEADERS:
        try:
            value = float(response.headers.get(name) or "")
        except ValueError:
            continue
        return max(0.0, value - now if value > _EPOCH_THRESHOLD else value)
    return None


def full_jitter(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    return rng.uniform(0, min(cap, base * (2**attempt)))
