"""An erasure's method and verification in the reader's words.

nwipe writes its methods in English ("Fill With Zeros") and its
verification as ``verified``/``failed``/``off`` (or the option's own
``last``/``all``); the catalogue has each in French. A method nobody
translated (an association's own words) is shown as it was written.
"""

from __future__ import annotations

from node.imports.nwipe import method_label

__all__ = ["METHOD_NAMES", "VERIFICATIONS", "method_name", "verification_name"]


def _(text: str) -> str:
    """Mark ``text`` for translation; translated where it is shown."""
    return text


# node.imports.nwipe.NWIPE_METHODS: each has its entry in the catalogue
METHOD_NAMES = (
    _("Fill With Zeros"), _("Fill With Ones"), _("PRNG Stream"), _("DoD Short"), _("DoD 5220.22M"), _("Gutmann Wipe"),
    _("RCMP TSSIT OPS-II"), _("HMG IS5 Enhanced"), _("Schneier Wipe"), _("BMB21-2019"), _("Verify Zeros"),
    _("Verify Ones"), _("ATA Secure Erase"), _("Secure Erase"),
)  # fmt: skip
# what node.domain.erasure.ErasureInput.verification holds: nwipe's outcome, or the verify option as set
VERIFICATIONS: dict[str, str] = {
    "verified": _("verified after writing"),
    "failed": _("verification failed"),
    "off": _("not verified"),
    "none": _("not verified"),
    "last": _("last pass verified"),
    "last pass": _("last pass verified"),
    "all": _("every pass verified"),
    "all passes": _("every pass verified"),
}


def method_name(method: str) -> str:
    """The msgid of nwipe's name for ``method`` (any case), else ``method`` as written: pass it to ``_``."""
    return method_label(method) or method


def verification_name(verification: str) -> str:
    """The msgid of ``verification``'s words, else the text as written: pass it to ``_``."""
    return VERIFICATIONS.get(verification.strip().lower(), verification)
