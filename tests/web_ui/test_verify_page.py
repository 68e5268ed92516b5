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
import shutil
import subprocess
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from node.config import Config, init_node
from node.store.database import Store
from web_ui.app import make_app

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
      items: r.items.map((i) => [i.outcome, i.by ? M.fingerprint(h(i.by)) : null, i.signed, i.erasures.length]) };
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
                             str(VECTORS / "canonical.json")], capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    found = json.loads(result.stdout)
    custody = json.loads((VECTORS / "custody.json").read_text())
    for vector in custody["bundles"]:
        mine = found["bundles"][vector["name"]]
        assert mine["exit"] == vector["exit"], vector["name"]
        expected = [line.split("reason=")[1].split()[0] for line in vector["lines"] if line.startswith("problem")]
        assert mine["reasons"] == expected, vector["name"]
        items = [line for line in vector["lines"] if line.startswith("item ")]
        assert [[i[0], i[1], i[2], i[3]] for i in mine["items"]] == [
            [_field(line, "fate"), _field(line, "by"), _field(line, "signed") == "yes", int(_field(line, "erasures"))]
            for line in items], vector["name"]  # fmt: skip
    assert all(got == expected for got, expected in found["signatures"])
    assert all(a == b and c == d for a, b, c, d in found["fingerprints"])
    assert len(found["canonical"]) >= 50 and all(got == expected for got, expected in found["canonical"])


def _field(line: str, name: str) -> str:
    return line.split(f" {name}=")[1].split()[0]
