"""``/verify``: the public page where a donor checks a donor report's proof bundle, in the browser.

No account, even before the node's first setup. The page sends nothing to
the server: ``static/verify.js``, written from PROTOCOL.md ("Donor proof
bundle"), reads the file, verifies every signature and follows the chain
of custody in the browser, and shows per serial the fate, who signed it
and the erasure proof. The server only gives the labels (French first) and
its own key's fingerprint, to compare with the one printed on the report.
"""

from __future__ import annotations

import json

from aiohttp import web

from web_ui.i18n import translator
from web_ui.keys import NODE
from web_ui.render import LANGUAGE, page

routes = web.RouteTableDef()

_FATES = ("distributed", "recycled", "dismantled", "transferred", "in_stock", "missing")
_REASONS = ("not_custodian", "receipt_mismatch", "bad_signature", "content_mismatch", "bad_content", "weak_key",
            "bad_entry", "bad_bundle", "too_large", "too_deep")  # fmt: skip


def _labels(_: object) -> dict[str, str]:
    t = _  # the catalogue's gettext for the request's language
    labels = {
        "ok": t("Every link holds: {items} items checked in this browser in {seconds} s."),
        "fail": t("The check fails: {problems} broken link(s). Do not rely on this report as it stands."),
        "unreadable": t("This file cannot be checked ({reason}): it is not an intact donor proof bundle."),
        "report": t("Report on {donor}, from {from} to {to}, signed by the key {fingerprint}."),
        "nodes": t("Who signed (compare the fingerprints with those the organisations give you)"),
        "issuer": t("issuer of the report"), "unnamed": t("(no name given)"),
        "problems": t("Broken links"), "items": t("Each device"),
        "serial": t("Serial number"), "fate": t("Outcome"), "date": t("Date"), "by": t("Signed by"),
        "custody": t("Chain of custody"), "erasures": t("Data erasure (NIST SP 800-88)"),
        "no_erasure": t("no erasure stated"), "held_by": t("held, no outcome stated yet, by"),
        "level_clear": t("clear (overwrite)"), "level_purge": t("purge"), "level_destroy": t("destroy"),
        "result_success": t("succeeded"), "result_failure": t("FAILED"),
        "beneficiary_person": t("person"), "beneficiary_association": t("association"),
        "beneficiary_school": t("school"), "beneficiary_ess": t("social economy"), "beneficiary_other": t("other"),
        "fate_distributed": t("distributed (reused)"), "fate_recycled": t("recycled"),
        "fate_dismantled": t("dismantled (parts)"), "fate_transferred": t("transferred"),
        "fate_in_stock": t("in stock"), "fate_missing": t("missing at reception"),
        "reason_not_custodian": t("an outcome signed by an organisation that did not hold the device then"),
        "reason_receipt_mismatch": t("a receipt that does not answer the offer it names"),
        "reason_bad_signature": t("a signature that does not verify: a statement was altered"),
        "reason_content_mismatch": t("a statement altered after it was signed"),
    }
    assert set(_FATES) <= {k[5:] for k in labels if k.startswith("fate_")}
    return labels


@routes.get("/verify")
async def verify_page(request: web.Request) -> web.Response:
    labels = _labels(translator(request.get(LANGUAGE, "fr")))
    # inside a <script> element: no "</" may close it early
    return page(request, "verify/verify.html", labels=json.dumps(labels, ensure_ascii=False).replace("</", "<\\/"),
                fingerprint=request.app[NODE].key.public.fingerprint)  # fmt: skip
