"""``/verify``: the public page where a donor checks a proof bundle, and its verifier in JavaScript.

The page is served without an account, even before the node's first setup,
and sends nothing back: the check is ``static/verify.js``, written from
PROTOCOL.md. Its verdicts are compared here with the committed vectors
(``custody.json``: a good bundle and tampered ones; ``keys.json``: the
signatures only some libraries accept; ``canonical.json``: the one byte
form of each value), by running it under Node.js when
it is installed; the browser test (tests/browser/test_verify.py) runs it in
Chromium.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from node.config import Config, init_node
from node.imports.nwipe import NWIPE_METHODS
from node.reports import donor_text
from node.store.database import Store
from protocol import canonical
from protocol.bundle import READ_KINDS
from web_ui.app import make_app
from web_ui.i18n import translator
from web_ui.pages.verify import _labels

ROOT = Path(__file__).parents[2]
VECTORS = ROOT / "tests" / "vectors"
SCRIPT = ROOT / "web_ui" / "static" / "verify.js"

RUNNER = """
const fs = require("fs");
globalThis.document = { getElementById: () => null };
const M = new Function(fs.readFileSync(process.argv[1], "utf8") + "; return MaillonVerify;")();
const h = (x) => Uint8Array.from(Buffer.from(x, "hex"));
const out = { bundles: {}, signatures: [], fingerprints: [] };
for (const b of JSON.parse(fs.readFileSync(process.argv[2])).bundles) {
  try {
    const r = M.verifyBundle(h(b.bundle));
    out.bundles[b.name] = { exit: r.ok ? 0 : 1, reasons: r.problems.map((p) => p.reason),
      items: r.items.map((i) => [i.outcome, i.by ? M.fingerprint(h(i.by)) : null, i.signed, i.erasures.length,
        i.statement ? i.statement.beneficiary : null, i.statement ? i.statement.weight : null,
        i.statement ? i.statement.outflow : null]) };
  } catch (e) { out.bundles[b.name] = { exit: 1, reasons: [e.reason], items: [] }; }
}
const keys = JSON.parse(fs.readFileSync(process.argv[3]));
for (const s of keys.signatures) {
  let got = null;
  try { M.verifySignature(h(s.public), h(s.signature), h(s.message)); } catch (e) { got = e.reason; }
  out.signatures.push([got, s.reason]);
}
for (const v of keys.valid) out.fingerprints.push([M.fingerprint(h(v.public)), v.fingerprint, M.nodeId(h(v.public)), v.node_id]);
out.canonical = [];
for (const v of JSON.parse(fs.readFileSync(process.argv[4])).invalid) {
  let got = null;
  try { M.decode(h(v.bytes), 1 << 26); } catch (e) { got = e.reason; }
  out.canonical.push([got, v.reason]);
}
for (const v of JSON.parse(fs.readFileSync(process.argv[4])).valid) {
  let got = null;
  try { M.decode(h(v.bytes), 1 << 26); } catch (e) { got = e.reason; }
  out.canonical.push([got, null]);
}
out.entries = {};  // each record of the vectors, checked as a bundle's record is: null, or the reason it is refused
for (const file of [process.argv[2], process.argv[5]]) {
  const vectors = JSON.parse(fs.readFileSync(file));
  for (const group of ["valid", "invalid", "accepted"]) for (const v of vectors[group]) {
    let got = null;
    try { M.checkEntry(h(v.entry)); } catch (e) { got = e.reason || String(e); }
    out.entries[`${file.endsWith("custody.json") ? "custody" : "records"}/${group}/${v.name}`] = got;
  }
}
console.log(JSON.stringify(out));
"""


@pytest.fixture
async def fresh(tmp_path):
    """A node before its first setup: no account at all."""
    node = init_node(tmp_path / "node", Config(name="Ordi Grand Ouest"))
    store = await Store.open(node.db_path, node.key, create=True)
    async with TestClient(TestServer(make_app(node, store))) as client:
        yield node, client
    await store.close()


async def test_the_page_is_public_even_before_the_first_setup_and_in_french(fresh):
    node, client = fresh
    response = await client.get("/verify", allow_redirects=False)
    text = await response.text()
    assert response.status == 200, text
    assert "Vérifier un rapport au donateur" in text and node.key.public.fingerprint in text
    assert '<script src="/static/verify.js" defer></script>' in text
    labels = json.loads(text.split('id="verify-labels">')[1].split("</script>")[0])
    assert labels["fate_missing"] == "manquant à la réception" and "{items}" in labels["ok"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]  # no inline script runs
    script = await client.get("/static/verify.js")
    assert script.status == 200 and "verifyBundle" in await script.text()
    # the rest of the node still needs an account
    assert (await client.get("/reports", allow_redirects=False)).status in (302, 303)


def test_the_browser_verifier_agrees_with_the_vectors():
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("Node.js is not installed (the browser test runs the same script in Chromium)")
    result = subprocess.run([node, "-e", RUNNER, str(SCRIPT), str(VECTORS / "custody.json"), str(VECTORS / "keys.json"),
                             str(VECTORS / "canonical.json"), str(VECTORS / "records.json")], capture_output=True,
                            text=True, timeout=120, check=True)  # fmt: skip
    found = json.loads(result.stdout)
    custody = json.loads((VECTORS / "custody.json").read_text())
    for vector in custody["bundles"]:
        mine = found["bundles"][vector["name"]]
        assert mine["exit"] == vector["exit"], vector["name"]
        expected = [line.split("reason=")[1].split()[0] for line in vector["lines"] if line.startswith("problem")]
        assert mine["reasons"] == expected, vector["name"]
        items = [line for line in vector["lines"] if line.startswith("item ")]
        assert mine["items"] == [
            [_field(line, "fate"), _field(line, "by"), _field(line, "signed") == "yes", int(_field(line, "erasures")),
             _value(line, "beneficiary"), _value(line, "weight"), _value(line, "outflow")]
            for line in items], vector["name"]  # fmt: skip
    # every record of the vectors, checked as a bundle reads it: the kinds it reads whole (bad_content as the
    # command line says it), the others passed over once their signature and content hash hold
    expected = {}
    for file in ("custody", "records"):
        vectors = json.loads((VECTORS / f"{file}.json").read_text())
        for group in ("valid", "invalid", "accepted"):
            for vector in vectors[group]:
                reason = vector.get("reason") if group == "invalid" else None
                if reason in ("gap", "fork", "bad_prev", "wrong_author"):  # step 8, a log's: not a bundle's
                    continue
                if reason in ("bad_content", "unknown_kind") and _kind(vector["entry"]) not in READ_KINDS:
                    reason = None
                expected[f"{file}/{group}/{vector['name']}"] = reason
    assert len(expected) > 100 and {k: found["entries"][k] for k in expected} == expected
    assert all(got == expected for got, expected in found["signatures"])
    assert all(a == b and c == d for a, b, c, d in found["fingerprints"])
    assert len(found["canonical"]) >= 50 and all(got == expected for got, expected in found["canonical"])


def _kind(entry_hex: str) -> str:
    envelope, _content = canonical.decode(bytes.fromhex(entry_hex))
    return canonical.decode(canonical.decode(envelope)[1])[5]


def _field(line: str, name: str) -> str:
    return line.split(f" {name}=")[1].split()[0]


def _value(line: str, name: str) -> str | int | None:
    """A field of an ``item`` line as verify.js holds it: ``-`` is null, a weight a number, a text unquoted."""
    if name == "outflow":  # the last field, text as JSON
        text = line.split(" outflow=")[1]
        return None if text == "-" else json.loads(text)
    value = _field(line, name)
    return None if value == "-" else int(value) if name == "weight" else value


# The page's half of verify.js, run under Node.js on a few lines of DOM: the file goes in through the
# file input, and what the page wrote comes back as the verdict, the problems and the rows.
PAGE_RUNNER = """
const fs = require("fs");
class Node {
  constructor(tag, text) { this.tag = tag; this.text = text; this.attrs = {}; this.children = []; this.dataset = {};
    this.on = {}; this.classList = { add() {}, remove() {} }; }
  setAttribute(k, v) { this.attrs[k] = String(v); }
  append(...c) { this.children.push(...c); }
  replaceChildren() { this.children = []; }
  addEventListener(e, f) { this.on[e] = f; }
  get textContent() { return this.text ?? this.children.map((c) => c.textContent).join(""); }
}
globalThis.Node = Node;
const labels = new Node("script", fs.readFileSync(process.argv[2], "utf8"));
const byId = { "verify-labels": labels, "bundle-file": new Node("input"), drop: new Node("div"), result: new Node("section") };
globalThis.document = { getElementById: (id) => byId[id], createElement: (tag) => new Node(tag),
  createTextNode: (text) => new Node("#text", text) };
new Function(fs.readFileSync(process.argv[1], "utf8"))();
const data = Uint8Array.from(fs.readFileSync(process.argv[3]));
const input = byId["bundle-file"];
input.files = [{ arrayBuffer: async () => data.buffer }];
input.on.change();
setTimeout(() => {
  const all = [];
  const walk = (n) => { all.push(n); n.children.forEach(walk); };
  walk(byId.result);
  const shown = (n) => ({ text: n.textContent, attrs: n.attrs });
  const verdict = all.find((n) => n.attrs.id === "verdict");
  const problems = all.filter((n) => n.tag === "li" && "data-reason" in n.attrs).map(shown);
  const rows = all.filter((n) => n.tag === "tr" && "data-gid" in n.attrs)
    .map((n) => ({ attrs: n.attrs, cells: n.children.map((c) => c.textContent) }));
  console.log(JSON.stringify({ verdict: shown(verdict), problems, rows, text: byId.result.textContent }));
}, 0);
"""


@pytest.fixture
async def shown(fresh, tmp_path):
    """``shown(data, **label_changes)``: what /verify's script writes for that file, with the page's labels."""
    node_js = shutil.which("node") or shutil.which("nodejs")
    if node_js is None:
        pytest.skip("Node.js is not installed (the browser test runs the same script in Chromium)")
    _node, client = fresh
    text = await (await client.get("/verify")).text()
    page_labels = json.loads(text.split('id="verify-labels">')[1].split("</script>")[0])

    def run(data: bytes, **changes) -> dict:
        (tmp_path / "labels.json").write_text(json.dumps(page_labels | changes), encoding="utf-8")
        (tmp_path / "file").write_bytes(data)
        command = [node_js, "-e", PAGE_RUNNER, str(SCRIPT), str(tmp_path / "labels.json"), str(tmp_path / "file")]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
        return json.loads(result.stdout)

    return run


def _bundle(name: str) -> bytes:
    custody = json.loads((VECTORS / "custody.json").read_text())
    return bytes.fromhex(next(v for v in custody["bundles"] if v["name"] == name)["bundle"])


def _row(found: dict, serial: str) -> dict:
    return next(row for row in found["rows"] if row["cells"][0] == serial)


async def test_a_broken_link_names_the_devices_it_concerns_in_french_and_marks_their_rows(shown):
    # a record of Ordi3 BFC (which held PF-001 and PF-002) carrying another record's content: the page said
    # "content_mismatch ..." and showed PF-002 quietly "in stock", unmarked. Whatever the wrong content names,
    # the true one could speak of any device its signer held.
    found = shown(_bundle("fate_swapped"))
    assert found["verdict"]["attrs"]["data-verdict"] == "fail"
    [problem] = found["problems"]
    assert problem["text"] == "une déclaration modifiée après sa signature — concerne : PF-001, PF-002"
    assert problem["attrs"]["data-reason"] == "content_mismatch" and "content_mismatch" not in found["text"]
    assert _row(found, "PF-002")["attrs"].get("data-broken") == "yes"
    assert "preuve rompue" in _row(found, "PF-002")["cells"][1]
    assert _row(found, "PF-001")["attrs"].get("data-broken") == "yes"
    assert "data-broken" not in _row(found, "PF-003")["attrs"]
    assert "preuve rompue" not in _row(found, "PF-003")["cells"][1]
    # a fate signed by an organisation that did not hold the device: its serial is named too
    found = shown(_bundle("fate_by_non_custodian"))
    assert [p["text"] for p in found["problems"]] == [
        "un devenir signé par une organisation qui ne détenait pas l'appareil à ce moment — concerne : PF-001"]
    assert _row(found, "PF-001")["attrs"].get("data-broken") == "yes"
    # a receipt that does not answer its offer: the devices of the offer
    found = shown(_bundle("receipt_not_from_the_recipient"))
    [problem] = found["problems"]
    assert problem["text"].startswith("une réception qui ne correspond pas à la remise qu'elle cite — concerne : PF")
    assert "receipt_mismatch" not in found["text"]


async def test_a_file_that_is_not_a_bundle_is_told_in_french_and_a_pdf_is_named(shown):
    found = shown(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    assert found["verdict"]["text"].startswith("Ce fichier est le PDF du rapport, pas sa preuve.")
    assert ".mlnbundle" in found["verdict"]["text"] and "bad_entry" not in found["verdict"]["text"]
    assert found["verdict"]["attrs"]["data-reason"] == "bad_entry"
    found = shown(_bundle("not_a_bundle"))
    assert found["verdict"]["text"].startswith("Ce fichier n'est pas une preuve complète.")
    found = shown(_bundle("report_altered"))
    assert found["verdict"]["text"] == ("Ce fichier ne peut pas être vérifié : ce n'est pas une preuve complète intacte "
                                        "(une déclaration modifiée après sa signature).")  # fmt: skip


async def test_the_rows_speak_the_pdfs_words(shown):
    found = shown(_bundle("good"))
    assert re.search(r"vérifiés dans ce navigateur en \d+,\d\d s\.", found["verdict"]["text"])  # a decimal comma
    distributed = _row(found, "PF-002")
    assert distributed["cells"][1] == "distribué (réemploi, établissement scolaire)"
    # the methods as the PDF names them (node.reports.donor_text), the tools as written
    assert "purge · Effacement sécurisé ATA (Secure Erase) · hdparm" in distributed["cells"][5]
    assert "clear (réécriture) · Flux pseudo-aléatoire (PRNG) · nwipe" in distributed["cells"][5]
    recycled = _row(found, "PF-001")
    assert recycled["cells"][1] == "recyclé · 2,1 kg · Ecologic (16 02 14)"  # its weight and the recycler, as signed
    assert "destruction · shredding · broyeur" in recycled["cells"][5]  # a method nobody translated, as written
    # no erasure: alarming for a laptop, "not applicable" for a category that holds no data
    assert _row(found, "PF-003")["cells"][5] == "aucun effacement déclaré"
    found = shown(_bundle("good"), storage=["desktop"])
    assert _row(found, "PF-003")["cells"][5] == "sans objet"


def test_the_page_names_the_methods_and_the_categories_as_the_pdf_does():
    pdf = donor_text.texts("fr")
    labels = _labels(translator("fr"), "fr")
    for key in NWIPE_METHODS:
        assert labels["methods"][" ".join(key.lower().replace("-", " ").split())] == pdf[f"method.{key}"], key
    assert labels["not_applicable"] == pdf["erasure.not_applicable"]
    assert {"screen", "peripheral"}.isdisjoint(labels["storage"]) and "laptop" in labels["storage"]
