"""``maillon demo``: the whole demonstration federation started for real, checked, then stopped with Ctrl-C."""

from __future__ import annotations

import http.client
import json
import re
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from livenodes import CLI, _env

from protocol.kinds import StatsReport

HEADER = re.compile(r"^(?P<name>\S.*) \((?P<role>fédération nationale|tête de réseau|association membre)\) : ")
ROLES = {"fédération nationale": "national", "tête de réseau": "hub", "association membre": "member"}
LOGIN = re.compile(r"^  identifiant : (?P<user>\S+) / (?P<password>\S+) \((?P<role>administration|bénévole d'atelier|lecture seule)\)$")


@dataclass
class Shown:
    name: str
    role: str
    url: str = ""
    logins: dict[str, str] = field(default_factory=dict)


class Demo:
    """``maillon demo`` as a child process, its output read line by line as it comes."""

    def __init__(self, *args: str) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen([*CLI, "demo", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, env=_env())  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(line.startswith("prête en") for line in self.lines):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError("the demo was not ready:\n" + "\n".join(self.lines))

    def nodes(self) -> list[Shown]:
        shown: list[Shown] = []
        for line in self.lines:
            if header := HEADER.match(line):
                shown.append(Shown(header["name"], ROLES[header["role"]]))
            elif shown and line.startswith("  http://"):
                shown[-1].url = line.strip().rstrip("/")
            elif shown and (login := LOGIN.match(line)):
                shown[-1].logins[login["user"]] = login["password"]
        return shown

    def interrupt(self, timeout: float = 60) -> int:
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def demos():
    started: list[Demo] = []

    def start(*args: str) -> Demo:
        started.append(Demo(*args))
        return started[-1]

    yield start
    for demo in started:
        demo.kill()


def node_processes(root: Path) -> list[int]:
    """The pids of the ``maillon run`` processes whose data is under ``root`` (ours only)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = (entry / "stat").read_text().split(") ")[1][0]
            except OSError:
                continue
            if f"run --data {root}/" in command and state != "Z":
                pids.append(int(entry.name))
    return pids


def query(data: Path, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    db = sqlite3.connect(f"file:{data / 'node.db'}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def key_of(data: Path) -> bytes:
    return query(data, "SELECT author FROM log_records WHERE kind = 'node.descriptor/1' ORDER BY rowid LIMIT 1")[0][0]


def login(url: str, user: str, password: str) -> tuple[int, str]:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", "/login")
        form = connection.getresponse()
        csrf = re.search(r'name="_csrf" value="([^"]+)"', form.read().decode())[1]
        cookie = (form.getheader("Set-Cookie") or "").split(";")[0]
        connection.request("POST", "/login", urllib.parse.urlencode({"username": user, "password": password,
                                                                      "next": "/", "_csrf": csrf}),
                           {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})  # fmt: skip
        answer = connection.getresponse()
        answer.read()
        return answer.status, answer.getheader("Set-Cookie") or ""
    finally:
        connection.close()


def test_the_demo_federation_starts_flows_and_stops_on_ctrl_c(demos, tmp_path):
    root = tmp_path / "demo"
    demo = demos("--small", "--port", "0", "--data", str(root))
    demo.wait_ready()  # how fast is the demo's own "prête en" line, not a test's
    shown = {node.name: node for node in demo.nodes()}
    assert sorted(n.role for n in shown.values()) == ["hub", "hub", "member", "member", "member", "national"]
    for node in shown.values():
        with urllib.request.urlopen(node.url + "/health", timeout=5) as answer:
            assert answer.status == 200 and json.load(answer)
        assert set(node.logins) == {"admin", "benevole", "lecteur"}
    # the printed logins open the web interface; a wrong password does not
    hub = shown["Ordi Grand Ouest"]
    status, cookie = login(hub.url, "admin", hub.logins["admin"])
    assert status == 303 and cookie
    assert login(hub.url, "benevole", "not the password")[0] == 401

    ogo, bfc, national = root / "ordi-grand-ouest", root / "ordi3-bfc", root / "national"
    # each member's monthly reports of the past year are held, readable, at its hub
    for member, its_hub in (("atelier-du-lien", ogo), ("ordi-solidaire-brest", ogo), ("recyclerie-besancon", bfc)):
        held = query(its_hub, "SELECT count(*) FROM log_records WHERE author = ? AND kind = ? AND content IS NOT NULL",
                     (key_of(root / member), StatsReport.KIND))[0][0]  # fmt: skip
        assert held == 12, member
    # national checked every summary of both hubs: each lists a member that shares its statistics with its hub
    # only (Brest, Besançon), whose report national holds as a header: signed, its sum not checked, never verified
    listing = subprocess.run([*CLI, "summary", "list", "--data", str(national)], capture_output=True, text=True,
                             env=_env(), check=True).stdout  # fmt: skip
    assert listing.count(" signed ") == 24 and "incomplete" not in listing and "inconsistent" not in listing
    # the hand-offs landed: two to members, one to the peered network's hub (and fates flowed back)
    received = query(ogo, "SELECT peer, units FROM handoffs WHERE direction = 'out' AND state = 'received'")
    assert len(received) == 3 and key_of(bfc) in {row[0] for row in received}
    assert query(bfc, "SELECT count(*) FROM items i JOIN lots l ON l.id = i.lot_id WHERE l.source = 'handoff'")[0][0] > 0
    assert query(ogo, "SELECT count(*) FROM downstream_fates")[0][0] > 0

    children = node_processes(root)
    assert len(children) == 6
    assert demo.interrupt() == 0
    assert demo.lines[-1] == "démo : tous les nœuds sont arrêtés"
    assert node_processes(root) == []

    # --keep starts the same federation again, with the same accounts
    again = demos("--keep", "--data", str(root))
    again.wait_ready(60)
    assert any("la démonstration gardée" in line for line in again.lines)
    assert {n.name: n.logins for n in again.nodes()} == {n.name: n.logins for n in shown.values()}
    assert again.interrupt() == 0
    assert node_processes(root) == []


def test_the_demo_refuses_a_directory_that_is_not_its_own(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    result = subprocess.run([*CLI, "demo", "--data", str(tmp_path), "--port", "0"], capture_output=True, text=True,
                            env=_env(), timeout=60)  # fmt: skip
    assert result.returncode == 1 and "autre chose qu'une démonstration" in result.stdout
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_the_demo_can_listen_beyond_loopback_and_says_the_phones_address(tmp_path):
    from federation.demo import Demo, _network_origin

    assert _network_origin("127.0.0.1") is None  # loopback only: no phone address to give
    assert _network_origin("192.168.1.20") == "http://192.168.1.20"
    found = _network_origin("0.0.0.0")
    assert found is None or found.startswith("http://")
    demo = Demo(tmp_path / "demo", port=0, keep=False, temporary=True, host="0.0.0.0")
    demo.prepare_root()
    assert {site.node.config.host for site in demo.sites.values()} == {"0.0.0.0"}
    help_text = subprocess.run([*CLI, "demo", "--help"], capture_output=True, text=True, check=True).stdout
    assert "--host" in help_text
