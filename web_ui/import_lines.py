"""The lines of an import's report (``node.domain.importing.ImportReport``) in the reader's language.

The node writes each line as a ``node.notes.Said``: an English sentence
for the command line, with a code and its values. Here each code has its
own sentence in the catalogue, and values that are words of the domain
(a category, an erasure's result) are said in the reader's words too.
"""

from __future__ import annotations

from collections.abc import Callable

from web_ui.labels import CATEGORY_NAMES

__all__ = ["IMPORT_LINES", "say_line"]


def _(text: str) -> str:
    """Mark ``text`` for translation; translated where it is shown."""
    return text


# code -> sentence; the codes of a bad cell are node.imports.sheet's, the others node.domain.importing's.
IMPORT_LINES: dict[str, str] = {
    "missing_category": _("line {line}, column “{column}”: the category is empty"),
    "unknown_category": _("line {line}, column “{column}”: unknown category “{value}”"),
    "bad_number": _("line {line}, column “{column}”: “{value}” is not a number"),
    "bad_unit": _("line {line}, column “{column}”: unknown unit “{unit}” in “{value}”"),
    "out_of_range": _("line {line}, column “{column}”: “{value}” is too large"),
    "unknown_storage_type": _("line {line}, column “{column}”: unknown storage type “{value}”"),
    "bad_grade": _("line {line}, column “{column}”: the grade must be a letter from A to E, not “{value}”"),
    "too_long": _("line {line}, column “{column}”: more than {limit} characters"),
    "unknown_lot": _("line {line}: no lot with the reference “{reference}”"),
    "invalid_row": _("line {line}: {message}"),
    "more_problems": _("… and {count} more problem(s) of the same kind"),
    "ignored_columns": _("Columns ignored (not recognised): {columns}"),
    "disk_seen": _("Disk {disk}: already imported from this log"),
    "disk_to_item": _("Disk {disk} {model}: {status} → item {tag}"),
    "disk_orphan": _("Disk {disk} {model}: {status} → disk without an item (no item with that serial number yet)"),
    "hardware": _("{tag}: {category} {brand} {model} (chassis: {chassis})"),
    "disks_attached": _("{tag}: {count} erasure record(s) of its disks attached"),
}
_STATUS = {"success": _("erasure succeeded"), "failure": _("erasure failed")}


def say_line(line: str, translate: Callable[..., str]) -> str:
    """``line`` in the reader's language when its code is known here, else as the node wrote it."""
    code, values = getattr(line, "code", None), getattr(line, "values", None)
    message = IMPORT_LINES.get(code) if isinstance(code, str) else None
    if message is None or not isinstance(values, dict):
        return str(line)
    shown = dict(values)
    if "category" in shown and shown["category"] in CATEGORY_NAMES:
        shown["category"] = translate(CATEGORY_NAMES[shown["category"]])
    if "status" in shown and shown["status"] in _STATUS:
        shown["status"] = translate(_STATUS[shown["status"]])
    if shown.get("chassis") == "unknown":
        shown["chassis"] = translate("unknown")
    try:
        return translate(message).format(**shown)  # not translate(message, **shown): a value may be named message
    except (KeyError, IndexError):  # a value the sentence needs is missing: the node's own words
        return str(line)
