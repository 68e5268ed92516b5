"""Who may call this node: signed requests checked once, replays and floods refused.

Nonces are remembered in memory for the validity window; a node refuses
requests created before it started (``started``), so a restart cannot be
used to replay a request whose nonce it forgot. A caller whose clock lags
is refused for a few seconds after a restart, and its retry succeeds.
Rate-limit buckets are per caller key, which anyone can make by the
thousand: they expire once full again and are capped (``MAX_CALLERS``).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping

from protocol.errors import Reason, RequestRefused
from protocol.keys import node_id
from protocol.requests import REQUEST_WINDOW, SignedRequest, verify_request

__all__ = ["Guard", "MAX_CALLERS"]

MAX_CALLERS = 10_000  # rate-limit buckets held at once: beyond, the least recently seen caller's is forgotten


class Guard:
    """Checks requests addressed to ``me``: signature, freshness, replay, rate per caller."""

    def __init__(self, me: bytes, *, retired: tuple[bytes, ...] = (), window: int = REQUEST_WINDOW, rate: float = 20.0,
                 burst: int = 100, max_callers: int = MAX_CALLERS, clock=time.time) -> None:  # fmt: skip
        self.me = me
        # Peers that have not yet processed this node's key rotation still address its old key.
        self._callees = {node_id(key): key for key in (me, *retired)}
        self.window = window
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self.started = int(clock())
        self._nonces: OrderedDict[tuple[bytes, bytes], float] = OrderedDict()
        # caller -> (tokens, last refill), least recently seen first; see ``_take``
        self._buckets: OrderedDict[bytes, tuple[float, float]] = OrderedDict()
        self.max_callers = max_callers

    def check(self, headers: Mapping[str, str], *, method: str, path: str, query: str, body: bytes) -> SignedRequest:
        """The verified caller of a request, or ``RequestRefused`` with the reason."""
        addressed = next((v.strip() for k, v in headers.items() if k.lower() == "maillon-to"), "")
        callee = self._callees.get(addressed, self.me)
        signed = verify_request(headers, method=method, path=path, query=query, body=body, callee=callee)
        now = self._clock()
        if abs(now - signed.created) > self.window:
            raise RequestRefused(Reason.STALE_REQUEST, f"created {int(now - signed.created)} s away from this node's clock")
        if signed.created < self.started:
            raise RequestRefused(Reason.STALE_REQUEST, "created before this node started: sign it again")
        self._forget(now)
        nonce = (signed.caller, signed.nonce)
        if nonce in self._nonces:
            raise RequestRefused(Reason.REPLAYED, "this request was already received")
        self._take(signed.caller, now)
        self._nonces[nonce] = now + self.window
        return signed

    def _forget(self, now: float) -> None:
        while self._nonces:
            oldest, expires = next(iter(self._nonces.items()))
            if expires > now:
                break
            del self._nonces[oldest]

    def _take(self, caller: bytes, now: float) -> None:
        """Token bucket per caller: ``burst`` requests at once, then ``rate`` per second.

        A caller's key costs nothing to make, so the buckets are bounded: one
        left alone for ``burst / rate`` seconds is full again, the same as no
        bucket, and is forgotten; beyond ``max_callers`` callers, those seen
        least recently are forgotten (a forgotten bucket starts full).
        """
        full_after = self.burst / self.rate
        while self._buckets:
            oldest, (_, last) = next(iter(self._buckets.items()))
            if now - last < full_after and (len(self._buckets) < self.max_callers or caller in self._buckets):
                break
            del self._buckets[oldest]
        tokens, last = self._buckets.pop(caller, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[caller] = (tokens, now)
            raise RequestRefused(Reason.RATE_LIMITED, "too many requests: slow down")
        self._buckets[caller] = (tokens - 1, now)

    @property
    def callers(self) -> int:
        """How many callers' buckets are held."""
        return len(self._buckets)
