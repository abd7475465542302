"""Rate limiting in one process: a token bucket per client key (an address, or an API token).

Per process, not shared: with N workers a client gets up to N times the rate. That bounds
abuse; a proxy in front (nginx limit_req) is the place for a global limit. Pure: the time
source is passed in.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Buckets"]


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class Buckets:
    """`allow(key)` spends one token of `key`'s bucket (refilled at `rate` per second up to
    `burst`); False when it is empty. At most `keys` buckets are kept (least recent dropped)."""

    def __init__(
        self, rate: float, burst: int, *, now: Callable[[], float], keys: int = 100_000
    ) -> None:
        self.rate, self.burst, self._now, self._max = rate, burst, now, keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        if self.rate <= 0:
            return True
        now = self._now()
        with self._lock:
            bucket = self._buckets.pop(key, None) or _Bucket(float(self.burst), now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            allowed = bucket.tokens >= 1
            if allowed:
                bucket.tokens -= 1
            self._buckets[key] = bucket
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        return allowed

    def retry_after(self) -> int:
        """Whole seconds until one token is back."""
        return max(1, int(1 / self.rate) + 1) if self.rate > 0 else 0
