"""Fixtures for node tests: a real SQLite file per test."""

from __future__ import annotations

import hashlib

import pytest

from node.store.database import Store
from protocol.keys import SigningKey

KEY = SigningKey.from_seed(hashlib.sha256(b"node tests").digest())


@pytest.fixture
async def store(tmp_path):
    store = await Store.open(tmp_path / "node.db", KEY, create=True)
    yield store
    await store.close()
