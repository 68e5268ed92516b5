"""The request guard holds a bounded rate-limit state, whatever number of keys call it."""

from __future__ import annotations

import secrets

import pytest

from federation.guard import Guard
from protocol.errors import RequestRefused
from protocol.keys import SigningKey
from protocol.requests import sign_request

HUB = SigningKey.from_seed(bytes(range(32)))
START = 1_767_225_600.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def request(guard: Guard, key: SigningKey, clock: Clock) -> None:
    """One signed GET of the mailbox from ``key``, as the guard sees it."""
    headers = sign_request(key, method="GET", path="/fed/v1/mailbox", query="", body=b"", callee=HUB.public.raw,
                           created=int(clock.now), nonce=secrets.token_bytes(16))  # fmt: skip
    guard.check(headers, method="GET", path="/fed/v1/mailbox", query="", body=b"")


def test_callers_with_fresh_keys_hold_at_most_max_callers_buckets():
    clock = Clock()
    guard = Guard(HUB.public.raw, max_callers=50, clock=clock)
    for _ in range(120):  # a stranger making a new key per request, faster than buckets fill up again
        request(guard, SigningKey.generate(), clock)
        clock.now += 0.001
        assert guard.callers <= 50
    assert guard.callers == 50


def test_a_bucket_left_alone_until_full_again_is_forgotten():
    clock = Clock()
    guard = Guard(HUB.public.raw, clock=clock)
    for _ in range(30):
        request(guard, SigningKey.generate(), clock)
    assert guard.callers == 30
    clock.now += guard.burst / guard.rate  # every bucket is full again: the same as none
    request(guard, SigningKey.generate(), clock)
    assert guard.callers == 1


def test_a_flood_from_one_key_is_still_limited_among_many_callers():
    clock = Clock()
    guard = Guard(HUB.public.raw, max_callers=50, clock=clock)
    flooder = SigningKey.generate()
    for _ in range(guard.burst):
        request(guard, flooder, clock)
        request(guard, SigningKey.generate(), clock)  # others come and go: the flooder's bucket is the freshest
    with pytest.raises(RequestRefused, match="rate_limited"):
        request(guard, flooder, clock)
