"""The node's HTTP server as ``maillon run`` starts it (``web_ui.service.start``), on loopback."""

from __future__ import annotations

import asyncio
import logging
import socket

from node.config import Config, init_node
from node.store.database import Store
from web_ui.service import start


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _raw(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


async def test_an_oversized_header_is_logged_as_a_refusal_not_an_error(tmp_path, caplog, monkeypatch):
    monkeypatch.setenv("MAILLON_DISCOVERY", "off")
    port = _free_port()
    node = init_node(tmp_path / "n", Config(name="A", port=port))
    store = await Store.open(node.db_path, node.key, create=True)
    stop = await start(node, store)
    try:
        with caplog.at_level(logging.DEBUG):
            answer = await _raw(port, b"GET /health HTTP/1.1\r\nHost: x\r\nCookie: " + b"a" * 20_000 + b"\r\n\r\n")
            assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400")
            answer = await _raw(port, b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b" 400 " in answer.split(b"\r\n")[0]
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
        assert not [r for r in caplog.records if r.exc_info], "no traceback for a client's mistake"
        refused = [r.getMessage() for r in caplog.records if "refused a request" in r.getMessage()]
        assert len(refused) == 2 and "127.0.0.1" in refused[0]
        # and the node still answers
        assert b'"status": "ok"' in await _raw(port, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    finally:
        await stop()
        await store.close()
