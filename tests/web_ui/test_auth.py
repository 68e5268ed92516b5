"""Accounts and security of the pages: setup, login, sessions, CSRF, roles, rate limit, audit."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from node import users
from node.config import Config, init_node
from node.store import Store
from web_ui.app import make_app
from web_ui.auth import COOKIE, setup_code

from webtools import PASSWORD, Browser


async def test_first_start_needs_the_setup_code_and_creates_the_admin(tmp_path):
    node = init_node(tmp_path / "n", Config(name="A"))
    store = await Store.open(node.db_path, node.key, create=True)
    code = setup_code(node.data_dir)
    async with TestClient(TestServer(make_app(node, store))) as client:
        response = await client.get("/items", allow_redirects=False)
        assert response.status == 303 and response.headers["Location"].startswith("/setup")
        browser = Browser(client)
        form = {"username": "marie", "password": PASSWORD, "password2": PASSWORD}
        response, text = await browser.post("/setup", form | {"code": "wrong"}, csrf=False)
        assert response.status == 403 and "installation incorrect" in text
        response, text = await browser.post("/setup", form | {"code": code, "password2": "other password"}, csrf=False)
        assert response.status == 422
        response, text = await browser.post("/setup", form | {"code": code}, csrf=False)
        assert response.status == 200 and "Tableau de bord" in text  # logged in, on the dashboard
        assert not (node.data_dir / "setup-code").exists()
        response, _ = await browser.post("/setup", form | {"code": code, "username": "intrus"}, csrf=False,
                                         allow_redirects=False)  # fmt: skip
        assert response.status in (303, 403)
    async with store.reader() as db:
        assert [(u.username, u.role) for u in await users.list_users(db)] == [("marie", "admin")]
    await store.close()


async def test_login_sets_a_safe_cookie_and_logout_ends_the_session(web):
    _, _, client = web
    response = await client.post("/login", data={"username": "tech", "password": PASSWORD, "next": "/items"},
                                 allow_redirects=False)  # fmt: skip
    assert response.status == 303 and response.headers["Location"] == "/items"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    browser = Browser(client)
    _, text = await browser.get("/")
    assert "tech" in text and browser.csrf
    await browser.post("/logout")
    response = await client.get("/", allow_redirects=False)
    assert response.status == 303


async def test_login_never_redirects_elsewhere(web):
    _, _, client = web
    response = await client.post("/login", data={"username": "tech", "password": PASSWORD,
                                                 "next": "//evil.example/"}, allow_redirects=False)  # fmt: skip
    assert response.headers["Location"] == "/"


async def test_wrong_passwords_are_rate_limited(web):
    _, _, client = web
    for _ in range(5):
        response = await client.post("/login", data={"username": "tech", "password": "nope"})
        assert response.status == 401
    response = await client.post("/login", data={"username": "tech", "password": PASSWORD})
    assert response.status == 429


async def test_a_post_without_the_csrf_token_is_refused(admin, web):
    _, store, _ = web
    response, text = await admin.post("/logout", csrf=False)
    # logout without a token does not end the session
    _, text = await admin.get("/")
    assert "admin" in text
    response, text = await admin.post("/settings/steps", {"name": "Banc", "state": "tested"}, csrf=False)
    assert response.status == 403 and "expiré" in text
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM steps") == 0


async def test_read_only_cannot_post(web):
    _, store, client = web
    browser = Browser(client)
    await browser.login("reader")
    response, text = await browser.post("/settings/steps", {"name": "Banc", "state": "tested"})
    assert response.status == 403 and "lecture seule" in text


async def test_names_are_escaped_and_security_headers_set(admin):
    response, text = await admin.get("/")
    assert "Atelier &lt;b&gt;test&lt;/b&gt;" in text and "<b>test</b>" not in text
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_health_and_language_switch(web):
    _, _, client = web
    health = await (await client.get("/health")).json()
    assert health["status"] == "ok"
    browser = Browser(client)
    await browser.login("admin")
    response = await client.get("/language/en?next=/", allow_redirects=True)
    assert "Dashboard" in await response.text()


async def test_logins_are_audited(web):
    _, store, client = web
    await Browser(client).login("admin")
    async with store.reader() as db:
        log = await users.audit_log(db)
    assert log[0]["actor"] == "admin" and log[0]["action"] == "login"


@pytest.mark.parametrize("cookie", ["garbage", "x" * 5000, "é"])
async def test_forged_cookies_are_just_logged_out(web, cookie):
    _, _, client = web
    response = await client.get("/", cookies={COOKIE: cookie}, allow_redirects=False)
    assert response.status == 303
