"""One way to say each thing across pages: the node's fingerprint, periods in French words, one pagination."""

from __future__ import annotations


async def test_the_dashboard_shows_the_fingerprint_not_the_long_id(web, admin):
    node, _store, _client = web
    response, text = await admin.get("/")
    assert response.status == 200
    assert node.key.public.fingerprint in text and node.key.public.node_id not in text
