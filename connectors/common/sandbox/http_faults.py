"""Fault injection for the sandbox: seeded, so a failing contract test replays the same faults."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

FAULT_KINDS = ("429", "500", "503", "slow", "truncate")


@dataclass(frozen=True)
class FaultPlan:
    """Which faults to inject on what share of requests; `seed` makes the sequence repeatable."""

    rate: float = 0.1
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int = 0
    retry_after: float = 0.0  # seconds sent in Retry-After on 429 (and 503)
    slow_s: float = 1.0  # how long a "slow" reply stalls before answering
    max_in_a_row: int = 2  # never fault more requests than this back to back

    def __post_init__(self) -> None:
        unknown = sorted(set(self.kinds) - set(FAULT_KINDS))
        if unknown:
            raise ValueError(f"unknown fault kind(s) {unknown}; expected among {list(FAULT_KINDS)}")
        if not 0 <= self.rate <= 1:
            raise ValueError(f"rate must be within [0, 1], got {self.rate}")


class FaultInjector:
    """Draws the fault (or None) for each request in arrival order; thread-safe."""

    def __init__(self, plan: FaultPlan | None) -> None:
        self.plan = plan
        self._rng = random.Random(plan.seed if plan else 0)
        self._lock = threading.Lock()
        self._in_a_row = 0
        self.injected: list[str] = []

    def draw(self) -> str | None:
        """The fault for the next request, or None to answer it normally."""
        plan = self.plan
        if plan is None or not plan.kinds or plan.rate <= 0:
            return None
        with self._lock:
            hit = self._rng.random() < plan.rate
            kind = self._rng.choice(plan.kinds)
            if not hit or self._in_a_row >= plan.max_in_a_row:
                self._in_a_row = 0
                return None
            self._in_a_row += 1
            self.injected.append(kind)
            return kind
