"""An erasure's method and verification in the reader's words.

nwipe writes its methods in English ("Fill With Zeros") and its
verification as ``verified``/``failed``/``off`` (or the option's own
``last``/``all``); the catalogue has each in French. A method nobody
translated (an association's own words) is shown as it was written.
"""

from __future__ import annotations

from collections.abc import Callable

from node.imports.nwipe import method_label

__all__ = ["METHOD_NAMES", "VERIFICATIONS", "VERIFICATION_CHOICES", "method_name", "verification_code",
           "verification_name"]


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
# What the manual erasure form suggests: the person picks the words, the record keeps the code.
VERIFICATION_CHOICES = ("last", "all", "none")


def method_name(method: str) -> str:
    """The msgid of nwipe's name for ``method`` (any case), else ``method`` as written: pass it to ``_``."""
    return method_label(method) or method


def verification_name(verification: str) -> str:
    """The msgid of ``verification``'s words, else the text as written: pass it to ``_``."""
    return VERIFICATIONS.get(verification.strip().lower(), verification)


def verification_code(said: str, translate: Callable[..., str]) -> str:
    """The code of the verification the person picked or typed in words (theirs or English), else what they
    typed: "dernière passe vérifiée" is kept as ``last``, and shown in the reader's words again."""
    words = said.strip().casefold()
    for code in (*VERIFICATION_CHOICES, *VERIFICATIONS):
        if words in (code, VERIFICATIONS[code].casefold(), translate(VERIFICATIONS[code]).casefold()):
            return code
    return said
