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
from collections.abc import Callable

from aiohttp import web

from node.categories import HAS_STORAGE
from web_ui.erasure_words import METHOD_NAMES
from web_ui.i18n import translator
from web_ui.keys import NODE
from web_ui.render import LANGUAGE, page

routes = web.RouteTableDef()

_FATES = ("distributed", "recycled", "dismantled", "transferred", "in_stock", "missing")
# Codes of a record the page cannot read, told in two sentences rather than one each.
_DAMAGED = ("malformed", "forbidden_type", "non_canonical", "duplicate_key", "trailing_bytes")
_FOREIGN = ("bad_envelope", "bad_header", "wrong_domain", "unknown_version")


def _method_key(method: str) -> str:
    """The key verify.js looks a method up by: lower case, hyphens as spaces, one space (as ``method_label``)."""
    return " ".join(method.lower().replace("-", " ").split())


def _labels(_: Callable[[str], str], language: str) -> dict[str, object]:
    """The page's words in the catalogue's language (``_`` is its gettext), and what verify.js needs to write them."""
    labels: dict[str, object] = {
        "locale": language,
        "ok": _("Every link holds: {items} items checked in this browser in {seconds} s."),
        "fail": _("The check fails: {problems} broken link(s). Do not rely on this report as it stands."),
        "unreadable": _("This file cannot be checked: it is not an intact donor proof bundle ({reason})."),
        "not_bundle": _("This file is not a donor proof bundle. Drop here the file that came with the report whose name ends in .mlnbundle."),
        "pdf": _("This file is the report's PDF, not its proof. Drop here the file that came with it whose name ends in .mlnbundle (usually the same name as the PDF)."),
        "report": _("Report on {donor}, from {from} to {to}, signed by the key {fingerprint}."),
        "nodes": _("Who signed (compare the fingerprints with those the organisations give you)"),
        "issuer": _("issuer of the report"), "unnamed": _("(no name given)"),
        "problems": _("Broken links"), "items": _("Each device"),
        "concerns": _("concerns: {serials}"), "concerns_more": _("concerns: {serials} and {more} more"),
        "broken": _("proof broken"),
        "broken_help": _("A record that proved this device's custody or outcome is broken: what is shown is only what the intact records prove."),
        "serial": _("Serial number"), "fate": _("Outcome"), "date": _("Date"), "by": _("Signed by"),
        "custody": _("Chain of custody"), "erasures": _("Data erasure (NIST SP 800-88)"),
        "no_erasure": _("no erasure stated"), "not_applicable": _("not applicable"),
        "held_by": _("held, no outcome stated yet, by"),
        "level_clear": _("clear (overwrite)"), "level_purge": _("purge"), "level_destroy": _("destroy"),
        "result_success": _("succeeded"), "result_failure": _("FAILED"),
        "beneficiary_person": _("person"), "beneficiary_association": _("association"),
        "beneficiary_school": _("school"), "beneficiary_ess": _("social economy"), "beneficiary_other": _("other"),
        "fate_distributed": _("distributed (reused)"), "fate_recycled": _("recycled"),
        "fate_dismantled": _("dismantled (parts)"), "fate_transferred": _("transferred"),
        "fate_in_stock": _("in stock"), "fate_missing": _("missing at reception"),
        "reason_not_custodian": _("an outcome signed by an organisation that did not hold the device then"),
        "reason_receipt_mismatch": _("a receipt that does not answer the offer it names"),
        "reason_bad_signature": _("a signature that does not verify: a statement was altered"),
        "reason_content_mismatch": _("a statement altered after it was signed"),
        "reason_bad_content": _("a statement whose content does not match its kind"),
        "reason_weak_key": _("a signing key that cannot be trusted"),
        "reason_bad_entry": _("an entry that is not a signed statement"),
        "reason_bad_bundle": _("a file that does not have the shape of a proof bundle"),
        "reason_too_large": _("a file or a statement larger than allowed"),
        "reason_too_deep": _("proofs nested too deep to be read"),
        "reason_other": _("a statement that cannot be checked"),
        # the PDF's names of the erasure methods (the same catalogue entries as web_ui.erasure_words)
        "methods": {_method_key(method): _(method) for method in METHOD_NAMES},
        # the categories whose items hold data: the others' erasure is "not applicable", as on the PDF
        "storage": sorted(HAS_STORAGE),
    }  # fmt: skip
    damaged = _("a statement damaged, or written in a form that is not allowed")
    foreign = _("a statement that is not a Maillon signed record, or of a version this page does not read")
    labels.update({f"reason_{code}": damaged for code in _DAMAGED} | {f"reason_{code}": foreign for code in _FOREIGN})
    assert set(_FATES) <= {k[5:] for k in labels if k.startswith("fate_")}
    return labels


@routes.get("/verify")
async def verify_page(request: web.Request) -> web.Response:
    language = request.get(LANGUAGE, "fr")
    labels = _labels(translator(language), language)
    # inside a <script> element: no "</" may close it early
    return page(request, "verify/verify.html", labels=json.dumps(labels, ensure_ascii=False).replace("</", "<\\/"),
                fingerprint=request.app[NODE].key.public.fingerprint)  # fmt: skip
