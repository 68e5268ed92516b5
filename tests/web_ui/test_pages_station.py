"""The workshop station over real HTTP on loopback: maillon-probe runs as a subprocess against a live node,
from the fixtures of the machines associations receive and with this machine's own tools; the bench page."""

from __future__ import annotations

import ast
import html
import asyncio
import io
import json
import os
import re
import shutil
import sys
import tarfile
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from webtools import PASSWORD, Browser

from node.config import Config, init_node
from node.domain import users
from node.domain.access import create_station
from node.store.database import Store
from web_ui.app import make_app
from web_ui.pages.station import PROBE, PROBE_SHELL, PROBE_TEXT, shell_translations

STATION = Path(__file__).parents[1] / "node" / "imports" / "fixtures" / "station"


@pytest.fixture
async def bench(tmp_path):
    node = init_node(tmp_path / "node", Config(name="Atelier"))
    store = await Store.open(node.db_path, node.key, create=True)
    async with store.transaction() as tx:
        token = await create_station(tx, "poste-1")
        for name, role in (("admin", "admin"), ("tech", "technician"), ("reader", "read_only")):
            await users.create_user(tx, name, PASSWORD, role)
    async with TestClient(TestServer(make_app(node, store))) as client:
        yield client, store, str(client.make_url(f"/upload/probe/poste-1/{token}")), tmp_path
    await store.close()


async def run_probe(script: Path, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(sys.executable, str(script), *args, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)  # fmt: skip
    out, _ = await process.communicate()
    return process.returncode, out.decode()


async def served_probe(client, tmp_path: Path) -> Path:
    """The probe as a workshop gets it: from the node, without logging in, its messages in French."""
    response = await client.get("/station/probe")
    assert response.status == 200
    path = tmp_path / "maillon-probe"
    path.write_text(await response.text())
    return path


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


async def items(store) -> list:
    async with store.reader() as db:
        return await db.all("SELECT asset_tag, brand, model, serial, grade, battery_pct FROM items ORDER BY id")


async def test_the_probe_describes_each_machine_and_finds_it_again(bench):
    client, store, url, tmp_path = bench
    probe = await served_probe(client, tmp_path)
    for name in sorted(p.name for p in STATION.iterdir() if p.name != "broken"):
        code, out = await run_probe(probe, url, "--from", str(STATION / name), "--no-local")
        assert code == 0, out
        assert "Lecture de la description de cet ordinateur" in out and "Nouveau matériel MLN-" in out
    found = {row["serial"]: tuple(row) for row in await items(store)}
    assert len(found) == 6
    assert found["7XK2QK2"] == ("MLN-000001", "Dell Inc.", "Latitude 5490", "7XK2QK2", "B", 72)
    assert found["CZC7308ABC"][4] == "D"  # the failing disk
    code, out = await run_probe(probe, url, "--from", str(STATION / "dell-latitude-5490"), "--no-local")
    assert code == 0 and "MLN-000001 mis à jour (retrouvé par son numéro de série)" in out
    assert "Manque encore avant « prêt » : preuve d’effacement, tests, installation du système." in out
    assert len(await items(store)) == 6


async def test_the_probe_with_this_machines_own_tools(bench):
    client, store, url, tmp_path = bench
    code, out = await run_probe(PROBE, url)  # whatever this machine has: lsblk, /proc, /sys, maybe more
    assert code == 0, out
    [item] = await items(store)
    async with store.reader() as db:
        probe = await db.one("SELECT station, sha256, summary FROM probes")
    assert probe["station"] == "poste-1" and (tmp_path / "node").exists()
    assert "cpuinfo.txt" in probe["summary"] or "lshw.json" in probe["summary"]


@pytest.mark.skipif(not (shutil.which("curl") or shutil.which("wget")), reason="no curl nor wget")
async def test_the_shell_fallback_sends_raw_outputs(bench):
    client, store, url, tmp_path = bench
    response = await client.get("/station/probe.sh")
    script = tmp_path / "maillon-probe.sh"
    script.write_text(await response.text())
    process = await asyncio.create_subprocess_exec("sh", str(script), url, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)  # fmt: skip
    out, _ = await process.communicate()
    assert process.returncode == 0, out
    assert "Nouveau matériel MLN-000001" in out.decode() and len(await items(store)) == 1
    # The raw outputs arrived as they were taken, and the node read them.
    async with store.reader() as db:
        probe = await db.one("SELECT id, summary FROM probes")
    reader = Browser(client)
    await reader.login("reader")
    raw = await client.get(f"/station/probes/{probe['id']}.tar")
    with tarfile.open(fileobj=io.BytesIO(await raw.read())) as tar:
        names = {name.removeprefix("./") for name in tar.getnames()}
    assert {"probe.json", "meminfo.txt", "cpuinfo.txt"} <= names
    assert {"meminfo.txt", "cpuinfo.txt"} <= set(json.loads(probe["summary"])["sources"])


async def test_a_wrong_token_or_a_broken_bundle_changes_nothing(bench):
    client, store, url, tmp_path = bench
    code, out = await run_probe(PROBE, url.rsplit("/", 1)[0] + "/wrong", "--from", str(STATION / "dell-optiplex-7050"),
                                "--no-local")  # fmt: skip
    assert code == 1 and "unknown station" in out
    broken = tmp_path / "broken"
    broken.mkdir()
    for name, fixture in (("dmidecode.txt", "dmidecode-no-smbios.txt"), ("smartctl-sda.json", "smartctl-truncated.json"),
                          ("smartctl-sdb.json", "smartctl-no-device.json"), ("upower.txt", "garbage.bin")):
        (broken / name).write_bytes((STATION / "broken" / fixture).read_bytes())
    code, out = await run_probe(PROBE, url, "--from", str(broken), "--no-local")
    assert code == 1 and "nothing in this bundle describes a machine" in out
    for body in (b"garbage" * 100, b""):
        response = await client.put(path_of(url), data=body)
        assert response.status == 422 and not (await response.json())["ok"]
    code, out = await run_probe(PROBE, url, "--item", "MLN-424242", "--from", str(STATION / "dell-optiplex-7050"),
                                "--no-local")  # fmt: skip
    assert code == 1 and "MLN-424242" in out
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM items") == 0
        assert await db.value("SELECT count(*) FROM probes") == 0
    assert not [p for p in (tmp_path / "node" / "files").rglob("*") if p.is_file()]  # no evidence kept either
    unreachable = "http://127.0.0.1:9/upload/probe/poste-1/x"
    code, out = await run_probe(PROBE, unreachable, "--from", str(STATION / "dell-optiplex-7050"), "--no-local")
    assert code == 2 and "cannot be reached" in out


def bundle(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


async def test_the_bench_page_lists_the_machines_with_their_labels_and_what_is_missing(bench):
    client, store, url, tmp_path = bench
    files = {p.name: p.read_bytes() for p in (STATION / "hp-elitebook-840-g5").iterdir()}
    files["upower.txt"] = b"\x00garbage"
    answer = await (await client.put(path_of(url), data=bundle(files))).json()
    assert answer["ok"] and answer["problems"][0]["source"] == "upower.txt"
    reader = Browser(client)
    await reader.login("reader")
    response, text = await reader.get("/station")
    assert response.status == 200
    assert "Poste d’atelier" in text and "EliteBook 840 G5" in text and "1 relevé(s) illisible(s)" in text
    assert "preuve d’effacement" in text and "installation du système" in text
    assert "/upload/probe/POSTE/JETON" in text and "Enregistrer le poste" not in text
    label = f"/labels.pdf?item_id={answer['item']['id']}&amp;format=roll"
    assert label in text
    pdf = await client.get(label.replace("&amp;", "&"))
    assert pdf.status == 200 and pdf.content_type == "application/pdf"
    response, text = await reader.get(f"/items/{answer['item']['id']}")
    assert "Disques trouvés par la sonde" in text and "Y7OS10ABCDEF" in text and "15\u202f322" in text
    raw = await client.get("/station/probes/1.tar")
    assert raw.status == 200 and await raw.read() == bundle(files)  # the raw outputs, as they arrived
    assert (await client.get("/station/probes/2.tar")).status == 404


async def test_an_admin_registers_a_station_and_sees_its_token_once(bench):
    client, store, url, tmp_path = bench
    admin = Browser(client)
    await admin.login("admin")
    response, text = await admin.post("/station/stations", {"name": "poste-2"})
    assert response.status == 200 and "Le poste poste-2 est enregistré" in text
    assert "/upload/probe/poste-2/" in text and "http_post_url=" in text
    response, text = await admin.post("/station/stations", {"name": "poste-2"})
    assert response.status == 422 and "Un poste porte déjà ce nom." in text
    tech = Browser(client)
    await tech.login("tech")
    await tech.get("/station")
    response, _ = await tech.post("/station/stations", {"name": "poste-3"})
    assert response.status == 403
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM stations") == 2


async def test_the_association_sets_the_grade_thresholds(bench):
    client, store, url, tmp_path = bench
    admin = Browser(client)
    await admin.login("admin")
    response, text = await admin.get("/station/settings")
    assert response.status == 200 and "État de la batterie pour le grade A (au moins, en %)" in text
    values = {"battery_a": "95", "battery_b": "90", "battery_c": "80", "ram_a_mb": "8192", "ram_b_mb": "4096",
              "ram_c_mb": "2048", "disk_hours_a": "20000", "disk_hours_b": "40000", "bench_days": "10",
              "station_label_format": "sheet"}  # fmt: skip
    response, text = await admin.post("/station/settings", {**values, "battery_b": "99"})
    assert response.status == 422 and "Chaque grade demande au moins autant que le suivant" in text
    response, text = await admin.post("/station/settings", values, allow_redirects=False)
    assert response.status == 303
    code, out = await run_probe(PROBE, url, "--from", str(STATION / "dell-latitude-5490"), "--no-local")
    assert code == 0 and "D" == (await items(store))[0]["grade"]  # 72 % is below the new C threshold
    response, text = await admin.get("/station")
    assert "format=sheet" in text
    reader = Browser(client)
    await reader.login("reader")
    response, _ = await reader.get("/station/settings")
    assert response.status == 403


def test_the_probe_is_one_standard_library_file_with_the_catalogues_messages():
    tree = ast.parse(PROBE.read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
    text = next(node.value for node in tree.body if isinstance(node, ast.Assign) and node.targets[0].id == "TEXT")
    assert ast.literal_eval(text) == PROBE_TEXT
    assert PROBE_SHELL.read_text().startswith("#!/bin/sh")
    # The shell fallback's messages as written are the catalogue's English ones (the node swaps the block).
    assert shell_translations("") in PROBE_SHELL.read_text()


async def test_a_stranger_gets_neither_the_probe_nor_an_upload_in(bench, monkeypatch):
    client, store, url, tmp_path = bench
    import web_ui.pages.station
    import web_ui.station_uploads

    monkeypatch.setattr(web_ui.pages.station, "from_lan", lambda request: False)
    monkeypatch.setattr(web_ui.station_uploads, "from_lan", lambda request: False)
    for path in ("/station/probe", "/station/probe.sh"):
        assert (await client.get(path)).status == 403
    files = {p.name: p.read_bytes() for p in (STATION / "dell-optiplex-7050").iterdir()}
    response = await client.put(path_of(url), data=bundle(files))
    assert response.status == 403 and (await response.json())["code"] == "not_local"
    assert await items(store) == []
    assert (await client.get("/station")).url.path == "/login"  # the page itself needs a session
    assert (await client.get("/station/probes/1.tar")).url.path == "/login"  # and so do the raw outputs


def test_the_probe_leaves_out_the_live_usb_stick_and_what_is_not_a_disk():
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("maillon_probe", PROBE)
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    lsblk = {"blockdevices": [
        {"name": "sda", "type": "disk", "tran": "sata", "rm": False}, {"name": "nvme0n1", "type": "disk", "tran": "nvme", "rm": False},
        {"name": "sdb", "type": "disk", "tran": "usb", "rm": True}, {"name": "sdc", "type": "disk", "tran": "usb", "rm": False},
        {"name": "sr0", "type": "rom", "tran": "sata", "rm": True}, {"name": "zram0", "type": "disk", "tran": None, "rm": False},
        {"name": "sda; rm -rf /", "type": "disk", "tran": "sata", "rm": False},
    ]}  # fmt: skip
    assert probe.fixed_disks(json.dumps(lsblk).encode()) == ["sda", "nvme0n1"]


async def test_a_volunteer_is_told_to_ask_the_administrator_for_a_station(bench):
    """A volunteer sees no station nor token: the page sends them to the administrator, who registers them."""
    client, _store, _url, _tmp_path = bench
    tech = Browser(client)
    await tech.login("tech")
    response, text = await tech.get("/station")
    page = html.unescape(text)
    assert response.status == 200 and "demandez-les à l’administrateur de votre association" in page
    assert "d’un poste enregistré (les mêmes" not in page
    admin = Browser(client)
    await admin.login("admin")
    response, text = await admin.get("/station")
    assert "Enregistrer le poste" in text and "d’un poste enregistré" in html.unescape(text)


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def test_the_bench_prints_a_label_that_names_the_machine(bench):
    """The label from the bench carries what the labels page prints by default: category, model, serial."""
    client, store, url, tmp_path = bench
    files = {p.name: p.read_bytes() for p in (STATION / "dell-latitude-5490").iterdir()}
    answer = await (await client.put(path_of(url), data=bundle(files))).json()
    reader = Browser(client)
    await reader.login("reader")
    _response, text = await reader.get("/station")
    [href] = [html.unescape(h) for h in re.findall(r'href="(/labels\.pdf\?[^"]+)"', text)]
    pdf = await client.get(href)
    assert pdf.status == 200
    printed = pdf_text(await pdf.read())
    assert answer["item"]["asset_tag"] in printed
    assert "Dell Inc. Latitude 5490" in printed and "N/S 7XK2QK2" in printed and "ordinateur portable" in printed


async def test_the_node_answers_in_the_language_the_probe_was_served_in(bench):
    """A Debian live speaks English (LANG=en_US.UTF-8) unless told otherwise: the French volunteer still reads French."""
    client, store, url, tmp_path = bench
    probe = await served_probe(client, tmp_path)
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(probe), url, "--from", str(STATION / "dell-optiplex-7050"), "--no-local",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "LANG": "en_US.UTF-8", "LANGUAGE": "en_US:en"},
    )  # fmt: skip
    out = (await process.communicate())[0].decode()
    assert process.returncode == 0, out
    assert "Nouveau matériel MLN-000001" in out and "New item" not in out
    english = await client.get("/station/probe", headers={"Accept-Language": "en"})
    (tmp_path / "probe-en").write_text(await english.text())
    code, out = await run_probe(tmp_path / "probe-en", url, "--from", str(STATION / "dell-optiplex-7050"), "--no-local")
    assert code == 0 and "Item MLN-000001 updated" in out


def shell_command(command: str, bin_dir: Path) -> tuple[list[str], dict[str, str]]:
    """Run a command of the page as a volunteer types it; ``sudo`` (absent from test machines) runs its arguments."""
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "sudo").write_text('#!/bin/sh\nexec "$@"\n')
    (bin_dir / "sudo").chmod(0o755)
    (bin_dir / "python3").symlink_to(sys.executable)
    return ["sh", "-c", command], {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}


async def run_shell(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(*argv, env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)  # fmt: skip
    out, _ = await process.communicate()
    return process.returncode, out.decode()


@pytest.mark.skipif(not shutil.which("wget"), reason="the page's commands fetch the probe with wget")
async def test_the_commands_the_page_shows_work_as_they_are(bench):
    """Register a station, copy the page's two commands, run them; the shell one with --item, as the guide says."""
    client, store, url, tmp_path = bench
    admin = Browser(client)
    await admin.login("admin")
    _response, text = await admin.post("/station/stations", {"name": "etabli-1"})
    python = html.unescape(re.search(r'<code id="st-python">([^<]+)</code>', text)[1])
    shell = html.unescape(re.search(r'<code id="st-shell">([^<]+)</code>', text)[1])
    guide = (Path(__file__).parents[2] / "docs" / "guide" / "poste-atelier.md").read_text()
    assert re.sub(r"http://[^/]+|etabli-1/\S+", "X", python) in re.sub(r"http://[^/ ]+|etabli-1/\S+", "X", guide)
    argv, env = shell_command(python + " --from " + str(STATION / "hp-elitebook-840-g5") + " --no-local",
                              tmp_path / "bin")  # fmt: skip
    code, out = await run_shell(argv, env)
    assert code == 0, out
    assert "Lecture de la description de cet ordinateur" in out and "Nouveau matériel MLN-000001" in out
    code, out = await run_shell(["sh", "-c", shell + " --item MLN-000001"], env)
    assert code == 0, out
    assert "Matériel MLN-000001 mis à jour (désigné par son étiquette)." in out and '"ok"' not in out
    assert "Lecture de la description de cet ordinateur" in out
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM items") == 1
        assert await db.value("SELECT count(*) FROM probes WHERE station = 'etabli-1'") == 2
    code, out = await run_shell(["sh", "-c", shell.rsplit("/", 1)[0] + "/wrong"], env)
    assert code == 1 and "Poste inconnu ou mauvais jeton" in out
    script = tmp_path / "maillon-probe.sh"
    script.write_text(await (await client.get("/station/probe.sh")).text())
    code, out = await run_shell(["sh", str(script), "http://127.0.0.1:9/upload/probe/etabli-1/x"], env)
    assert code == 2 and "Le nœud est injoignable" in out


async def test_a_machine_without_any_serial_is_told_how_to_be_found_again(bench):
    """Nothing to match it by next time (a whitebox, a virtual machine): the answer says to name it with --item."""
    client, store, url, tmp_path = bench
    files = {"dmidecode.txt": (STATION / "broken" / "dmidecode-whitebox.txt").read_bytes(),
             "meminfo.txt": b"MemTotal:        3917604 kB\n"}  # fmt: skip
    answer = await (await client.put(path_of(url), data=bundle(files))).json()
    assert answer["ok"] and answer["created"]
    assert any("--item MLN-000001" in line for line in answer["messages"])
    again = await (await client.put(path_of(url), data=bundle(files))).json()
    assert again["item"]["asset_tag"] == "MLN-000002"  # nothing to find it by: a new item, as the answer warned
    known = await (await client.put(path_of(url), data=bundle(
        {p.name: p.read_bytes() for p in (STATION / "dell-optiplex-7050").iterdir()}))).json()
    assert not any("--item" in line for line in known["messages"])


async def test_the_station_settings_are_found_among_the_settings(bench):
    """An admin looks for the grade thresholds where the other settings are."""
    client, store, url, tmp_path = bench
    admin = Browser(client)
    await admin.login("admin")
    _response, text = await admin.get("/settings")
    nav = text[text.index('class="settings-nav"'):text.index("</nav>", text.index('class="settings-nav"'))]
    assert 'href="/station/settings"' in nav and "Seuils des grades et format d’étiquette" in html.unescape(nav)
    _response, text = await admin.get("/station/settings")
    assert 'href="/settings"' in text and 'aria-current="page"' in text


async def test_a_machine_back_after_it_left_is_a_new_item_and_the_answer_names_the_old_one(bench):
    """A recycled machine back on the bench: a new item, received now; the answer and the bench say which item
    carried its serial and when it left, and that item is left as it was."""
    client, store, url, tmp_path = bench
    files = {p.name: p.read_bytes() for p in (STATION / "dell-latitude-5490").iterdir()}
    first = await (await client.put(path_of(url), data=bundle(files))).json()
    async with store.transaction() as tx:  # given to a family on 12 March 2025
        await tx.run("UPDATE items SET state = 'distributed', state_since = 1741780800000 WHERE id = ?",
                     (first["item"]["id"],))  # fmt: skip
    before = await items(store)
    back = await (await client.put(path_of(url), data=bundle(files))).json()
    assert back["ok"] and back["created"] and back["item"]["asset_tag"] == "MLN-000002"
    said = "Ce numéro de série était celui du matériel MLN-000001, sorti le 12/03/2025 (distribué)"
    assert any(line.startswith(said) for line in back["messages"]), back["messages"]
    assert back["left"] == {"asset_tag": "MLN-000001", "state": "distributed", "since": 1741780800000, "by": "serial"}
    assert (await items(store))[0] == before[0]
    reader = Browser(client)
    await reader.login("reader")
    _response, text = await reader.get("/station")
    page = html.unescape(text)
    assert "MLN-000002" in page and "de retour : était MLN-000001, sorti le 12/03/2025 (distribué)" in page
    assert f'href="/items/{first["item"]["id"]}"' in text
