"""The lines of an import's report (``node.domain.importing.ImportReport``) in the reader's language.

The node writes each line as a ``node.notes.Said``: an English sentence
for the command line, with a code and its values. Here each code has its
own sentence in the catalogue, and values that are words of the domain
(a category, an erasure's result) are said in the reader's words too.
"""

from __future__ import annotations

from collections.abc import Callable

from node.imports.parsing import LIMITS
from web_ui.labels import CATEGORY_NAMES

__all__ = ["CHASSIS_NAMES", "IMPORT_LINES", "IMPORT_REFUSALS", "refusal_of", "say_line"]


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
# A file refused whole (node.domain.importing.ImportReport.failed, the code of node.imports' ImportFailed), in
# the volunteers' words; {rows}... from the limits. The erasure page and the sheet imports both say them.
IMPORT_REFUSALS = {
    "too_many_rows": _("This sheet has more than {rows} rows. Split it into several files of at most {rows} rows and import them one after the other."),
    "too_many_columns": _("This sheet has a cell beyond column {columns}. Delete the columns that are not part of the list (or copy the list into a new sheet), then import it again."),
    "cell_too_long": _("A cell of this sheet holds more than {cell} characters. Shorten it, then import the sheet again."),
    "unzipped_too_large": _("This .xlsx file is far bigger once unzipped (more than {unzipped} MB) than a list of items can be. Copy the list into a new file, or save it as .csv, then import it again."),
    "import_too_slow": _("Reading this file took longer than the node allows ({seconds} s). Split it into smaller files."),
    "import_too_big": _("Reading this file needs more memory than the node allows. Split it into smaller files."),
    "not_nwipe_log": _("This file is not an nwipe or ShredOS erasure log: no disk found, no wipe, no “Drive Status” table. Check that you chose the log (nwipe_*.txt), or the right kind of file."),
    "no_disk_wiped": _("No disk was wiped in this log: the wipe may have been stopped before it started. Wipe the disk again, then import the new log."),
    "several_machines": _("This log holds the runs of two different machines. Import the log of each machine on its own."),
    "not_lshw": _("This file is not a hardware description made by “lshw -json”. Check that you chose the right file, or the right kind of file."),
    "bad_json": _("This file cannot be read: it is not complete JSON (it may have been cut off while it was copied). Make it again, then import it."),
    "bad_csv": _("This CSV file cannot be read. Open it in your spreadsheet and save it again as CSV, then import it."),
    "bad_xlsx": _("This .xlsx file cannot be read. Open it in your spreadsheet and save it again, then import it."),
    "empty_sheet": _("This sheet is empty: there is nothing to import."),
    "unsupported_format": _("This spreadsheet format cannot be read: save it as .xlsx (without a password) or as .csv, then import it."),
}  # fmt: skip
# The chassis lshw names (its DMI chassis types, node.imports.lshw), as the preview says them.
CHASSIS_NAMES = {
    "desktop": _("desktop computer"), "low-profile": _("low-profile desktop"), "pizzabox": _("pizza box"),
    "mini-tower": _("mini-tower"), "tower": _("tower"), "all-in-one": _("all-in-one"),
    "space-saving": _("compact desktop"), "lunchbox": _("lunchbox"), "sealed": _("sealed case"),
    "mini": _("mini PC"), "stick": _("PC stick"), "portable": _("portable"), "laptop": _("portable"),
    "notebook": _("portable"), "sub-notebook": _("ultraportable"), "convertible": _("convertible laptop"),
    "detachable": _("detachable laptop"), "tablet": _("tablet"), "handheld": _("handheld device"),
    "server": _("server"), "rackmount": _("rack server"), "rack": _("rack server"), "blade": _("blade server"),
    "blade-enclosure": _("blade enclosure"), "multi-system": _("multi-system chassis"),
    "docking": _("docking station"), "expansion": _("expansion chassis"), "other": _("other"),
    "unknown": _("unknown"),
}  # fmt: skip
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
    chassis = shown.get("chassis")
    if isinstance(chassis, str) and chassis.strip().lower().replace(" ", "-") in CHASSIS_NAMES:
        shown["chassis"] = translate(CHASSIS_NAMES[chassis.strip().lower().replace(" ", "-")])
    try:
        return translate(message).format(**shown)  # not translate(message, **shown): a value may be named message
    except (KeyError, IndexError):  # a value the sentence needs is missing: the node's own words
        return str(line)


def refusal_of(code: str, translate: Callable[..., str]) -> str:
    """The sentence for a file refused whole (``IMPORT_REFUSALS``), with the node's limits in it."""
    sheet = LIMITS.sheet
    return translate(IMPORT_REFUSALS[code], rows=f"{sheet.rows:,}".replace(",", "\u202f"), columns=sheet.columns,
                     cell=f"{sheet.cell:,}".replace(",", "\u202f"), unzipped=sheet.unzipped // 2**20,
                     seconds=round(LIMITS.seconds))  # fmt: skip
