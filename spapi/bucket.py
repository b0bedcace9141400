"""Client-side rate limiting: a copy of Amazon's token bucket per operation (doc/spapi-facts.md
§5)."""

import threading
import time


class TokenBucket:
    """Client-side copy of Amazon's token bucket for one operation.

    The bucket starts full (``burst`` tokens) and refills at ``rate`` tokens per second.
    ``take()`` reserves a token and returns how long the caller must wait before sending; tokens
    may go negative, so concurrent callers queue up behind each other.
    """

    def __init__(self, rate, burst, clock=time.monotonic):
        if rate <= 0 or burst < 1:
            raise ValueError("A token bucket needs a positive rate and a burst of at least 1.")
        self._rate = float(rate)
        self.burst = float(burst)
        self.clock = clock
        self.tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def __repr__(self):
        return f"TokenBucket(rate={self._rate}, burst={self.burst}, tokens={self.tokens:.3f})"

    def _refill(self):
        now = self.clock()
        elapsed = max(0.0, now - self._last)
        self._last = now
        self.tokens = min(self.burst, self.tokens + elapsed * self._rate)

    @property
    def rate(self):
        return self._rate

    @rate.setter
    def rate(self, value):
        value = float(value)
        if value <= 0:
            raise ValueError("A token bucket needs a positive rate.")
        with self._lock:
            self._refill()  # tokens earned so far count at the old rate
            self._rate = value

    def take(self):
        """Reserve one token; the seconds to wait before using it (0.0 when available now)."""
        with self._lock:
            self._refill()
            self.tokens -= 1.0
            if self.tokens >= 0:
                return 0.0
            return -self.tokens / self._rate

    def wait_time(self):
        """The seconds a :meth:`take` would wait now (nothing is reserved)."""
        with self._lock:
            self._refill()
            return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self._rate

    def drain(self):
        """Empty the bucket (Amazon said 429: its bucket is empty, ours must be too)."""
        with self._lock:
            self._refill()
            self.tokens = min(self.tokens, 0.0)
