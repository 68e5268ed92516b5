"""Accounts and security of the pages: setup, login, sessions, CSRF, roles, rate limit, audit."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer
from webtools import PASSWORD, Browser

from node.config import Config, init_node
from node.domain import users
from node.store.database import Store, now_ms
from web_ui.app import make_app
from web_ui.auth import COOKIE, LOGIN_COOKIE, setup_code


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
    browser = Browser(client)
    response = await browser.login_form("tech", next_path="/items", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/items"
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert not cookie["max-age"] and not cookie["expires"]  # ends with the browser
    _, text = await browser.get("/")
    assert "tech" in text and browser.csrf
    await browser.post("/logout")
    response = await client.get("/", allow_redirects=False)
    assert response.status == 303


EVIL_NEXT = ["//evil.example/", "/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/\\evil.example",
             "/ /evil.example", "https://evil.example/", "/\x0b/evil.example"]


@pytest.mark.parametrize("target", EVIL_NEXT)
async def test_login_never_redirects_elsewhere(web, target):
    _, _, client = web
    response = await Browser(client).login_form("tech", next_path=target, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/"


@pytest.mark.parametrize("query", ["/%09/evil.example", "/%0a/evil.example", "/%0d/evil.example", "//evil.example",
                                   "/%5Cevil.example", "%2F%2Fevil.example", "https:evil.example"])
async def test_language_switch_never_redirects_elsewhere(web, query):
    _, _, client = web
    response = await client.get(f"/language/en?next={query}", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/"
    response = await client.get(f"/login?next={query}")
    assert 'name="next" value="/"' in await response.text()


async def test_local_paths_still_come_back_after_login(web):
    _, _, client = web
    response = await client.get("/language/en?next=/items%3Fq%3Dthink", allow_redirects=False)
    assert response.headers["Location"] == "/items?q=think"


async def test_wrong_passwords_are_rate_limited(web):
    _, _, client = web
    browser = Browser(client)
    for _ in range(5):
        response = await browser.login_form("tech", "nope")
        assert response.status == 401
    response = await browser.login_form("tech")
    assert response.status == 429


async def test_the_login_form_needs_its_csrf_token(web):
    """Login CSRF: another site cannot post the login form and log a browser into its own account."""
    _, store, client = web
    response = await client.post("/login", data={"username": "tech", "password": PASSWORD, "next": "/"},
                                 allow_redirects=False)  # fmt: skip
    assert response.status == 403 and "expiré" in await response.text()
    assert COOKIE not in response.cookies
    browser = Browser(client)
    await browser.get("/login")
    assert browser.csrf and LOGIN_COOKIE in {c.key for c in client.session.cookie_jar}
    response = await client.post("/login", data={"username": "tech", "password": PASSWORD, "_csrf": "forged" * 5},
                                 allow_redirects=False)  # fmt: skip
    assert response.status == 403 and COOKIE not in response.cookies
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM sessions") == 0
        assert await db.value("SELECT count(*) FROM audit WHERE action = 'login'") == 0


async def test_read_only_users_can_log_out(web):
    _, store, client = web
    browser = Browser(client)
    await browser.login("reader")
    response, _ = await browser.post("/logout", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/login"
    response = await client.get("/", allow_redirects=False)
    assert response.status == 303
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM sessions") == 0


async def test_an_idle_session_ends_and_an_active_one_lasts_at_most_a_day(web):
    _, store, client = web
    browser = Browser(client)
    await browser.login("tech")
    async with store.reader() as db:
        created, expires = await db.one("SELECT created, expires FROM sessions")
    assert expires - created == users.SESSION_IDLE_MS < users.SESSION_MS
    # used near its end, it is pushed back by the idle limit
    async with store.transaction() as tx:
        await tx.run("UPDATE sessions SET created = created - ?, expires = ?", (3_600_000, now_ms() + 60_000))
    response, _ = await browser.get("/")
    assert response.status == 200
    async with store.reader() as db:
        assert await db.value("SELECT expires FROM sessions") > now_ms() + users.SESSION_IDLE_MS - 60_000
    # never beyond a day after the login
    async with store.transaction() as tx:
        await tx.run("UPDATE sessions SET created = ?, expires = ?",
                     (now_ms() - users.SESSION_MS + 120_000, now_ms() + 60_000))  # fmt: skip
    await browser.get("/")
    async with store.reader() as db:
        created, expires = await db.one("SELECT created, expires FROM sessions")
    assert expires == created + users.SESSION_MS
    # idle past its end: logged out
    async with store.transaction() as tx:
        await tx.run("UPDATE sessions SET expires = ?", (now_ms() - 1,))
    response = await client.get("/", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/login")


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


@pytest.fixture
async def proxied(tmp_path):
    """A node behind a reverse proxy on this machine, as in deploy/nginx (``trusted_proxies``)."""
    node = init_node(tmp_path / "n", Config(name="A", trusted_proxies=("127.0.0.1", "::1")))
    store = await Store.open(node.db_path, node.key, create=True)
    async with store.transaction() as tx:
        for name, role in (("admin", "admin"), ("tech", "technician")):
            await users.create_user(tx, name, PASSWORD, role)
    async with TestClient(TestServer(make_app(node, store))) as client:
        yield store, client
    await store.close()


async def _login_from(client, address: str, username: str, password: str = PASSWORD) -> int:
    browser = Browser(client)
    await browser.get("/login")
    response = await client.post("/login", data={"username": username, "password": password, "_csrf": browser.csrf},
                                 headers={"X-Forwarded-For": address}, allow_redirects=False)  # fmt: skip
    client.session.cookie_jar.clear()
    return response.status


async def test_an_account_is_locked_whatever_address_the_attempts_come_from(proxied):
    _, client = proxied
    for n in range(5):
        assert await _login_from(client, f"203.0.113.{n}", "tech", "nope") == 401
    assert await _login_from(client, "203.0.113.99", "tech") == 429  # the right password, too late
    assert await _login_from(client, "203.0.113.99", "admin") == 303  # another account is not locked


async def test_behind_a_trusted_proxy_each_client_address_is_limited_on_its_own(proxied):
    store, client = proxied
    for n in range(20):
        assert await _login_from(client, "198.51.100.7", f"nobody{n}", "nope") == 401
    assert await _login_from(client, "198.51.100.7", "admin") == 429
    # the other volunteers behind the same proxy still log in
    assert await _login_from(client, "198.51.100.8", "admin") == 303
    async with store.reader() as db:
        assert await db.value("SELECT detail FROM audit WHERE action = 'login'") == "from 198.51.100.8"


async def test_a_forwarded_address_from_an_untrusted_client_is_ignored(web):
    _, _, client = web  # no trusted_proxies: the header is the client's word
    for n in range(20):
        assert await _login_from(client, f"198.51.100.{n}", f"nobody{n}", "nope") == 401
    assert await _login_from(client, "198.51.100.200", "admin") == 429


def test_client_address_reads_forwarded_for_from_the_right():
    from aiohttp.test_utils import make_mocked_request

    from web_ui.remote import client_address

    def seen(remote: str, forwarded: str | None, trusted: tuple[str, ...]) -> str:
        headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
        request = make_mocked_request("GET", "/", headers=headers)
        request = request.clone(remote=remote)
        return client_address(request, trusted)

    assert seen("127.0.0.1", "203.0.113.5", ()) == "127.0.0.1"
    assert seen("127.0.0.1", "203.0.113.5", ("127.0.0.1",)) == "203.0.113.5"
    # a client's forged first hop is not believed: the last one the proxy added is the client
    assert seen("127.0.0.1", "10.9.9.9, 203.0.113.5", ("127.0.0.1",)) == "203.0.113.5"
    # two proxies in a row
    assert seen("10.0.0.2", "203.0.113.5, 10.0.0.3", ("10.0.0.0/24",)) == "203.0.113.5"
    assert seen("192.0.2.1", "203.0.113.5", ("127.0.0.1",)) == "192.0.2.1"
    assert seen("127.0.0.1", "garbage", ("127.0.0.1",)) == "127.0.0.1"
    assert seen("127.0.0.1", "[2001:db8::1]:443", ("127.0.0.1",)) == "2001:db8::1"


def test_trusted_proxies_must_be_addresses(tmp_path):
    from node.config import load_node
    from node.errors import ConfigError

    node = init_node(tmp_path / "n", Config(name="A", trusted_proxies=("127.0.0.1", "10.0.0.0/8")))
    assert load_node(node.data_dir).config.trusted_proxies == ("127.0.0.1", "10.0.0.0/8")
    with pytest.raises(ConfigError, match="trusted_proxies"):
        Config(name="A", trusted_proxies=("nginx",)).validate()
