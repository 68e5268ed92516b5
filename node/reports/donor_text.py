"""Every user-facing string of the donor report, and its locale formatting.

One flat dict per language, French first (the reference: the reports go to
French public bodies), so a reviewer or a translator reads them in one place
and a test checks that every language has every key. Keys with a dot name a
code value: ``fate.distributed``, ``category.laptop``...

Placeholders are ``str.format`` fields. The formatting functions below write
numbers and dates the way each language expects them: French uses a narrow
no-break space between thousands, a decimal comma and day/month/year; the
English report uses ISO dates because day/month order is ambiguous there.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from node.imports.nwipe import method_label
from node.reports.donor_model import ErasureProof

__all__ = [
    "LANGUAGES",
    "TEXTS",
    "texts",
    "label",
    "format_int",
    "format_kg",
    "format_permille",
    "format_day",
    "format_date",
    "format_time",
    "format_years",
    "erasure_text",
]

FR: dict[str, str] = {
    "title": "Rapport de traçabilité — donateur",
    "generated": "Édité le {date} à {time}",
    "issuer": "Association émettrice : {node} — empreinte de clé du nœud {fingerprint}",
    "donor": "Donateur",
    "donor_type": "Statut",
    "siret": "SIRET",
    "lots": "Lot(s)",
    "period": "Période",
    "period_value": "du {start} au {end}",
    "summary": "Synthèse",
    "summary.received": "Appareils reçus",
    "summary.received_value": "{units} ({kg} kg)",
    "summary.distributed": "Distribués (réemploi)",
    "summary.recycled": "Recyclés",
    "summary.recycled_value": "{kg} kg ({units} appareils)",
    "summary.reuse_rate": "Taux de réemploi",
    "summary.reuse_rate_value": "{rate} % des appareils au devenir connu",
    "summary.reuse_rate_none": "non calculable : aucun appareil n’a encore de devenir",
    "summary.erasures": "Effacements prouvés",
    "summary.erasures_value": "{erased} sur {storage} appareils porteurs de données",
    "totals": "Totaux par devenir",
    "totals.fate": "Devenir",
    "totals.units": "Appareils",
    "totals.weight": "Poids (kg)",
    "totals.all": "Total",
    "impact": "Impact environnemental évité",
    "impact.category": "Catégorie",
    "impact.units": "Appareils",
    "impact.years": "Années de seconde vie",
    "impact.factor_co2e": "Facteur (kg CO₂e / an)",
    "impact.co2e": "CO₂e évité (kg)",
    "impact.factor_materials": "Facteur (kg matières / an)",
    "impact.materials": "Matières évitées (kg)",
    "impact.formula": "Calcul : appareils × années de seconde vie × facteur annuel = total évité.",
    "impact.formula_line": (
        "{category} : {units} × {years} × {factor_co2e} kg CO₂e/an = {co2e} kg CO₂e ; "
        "{units} × {years} × {factor_materials} kg/an = {materials} kg de matières premières"
    ),
    "impact.total": "Total évité : {co2e} kg CO₂e et {materials} kg de matières premières.",
    "impact.source": "Facteurs : {source} — version {version}.",
    "impact.none": "Aucun impact n’est calculé dans ce rapport.",
    "impact.uncovered": "Catégories du rapport absentes du calcul d’impact : {categories}.",
    "items": "Détail par appareil",
    "items.asset": "N° d’inventaire donateur / étiquette",
    "items.serial": "N° de série / modèle",
    "items.category": "Catégorie",
    "items.fate": "Devenir",
    "items.date": "Date",
    "items.erasure": "Effacement des données (NIST SP 800-88)",
    "items.none": "Aucun appareil dans ce rapport.",
    "items.by": "par {name}",
    "erasure.line": "{level} · {method} · {tool} · {date} · {result}",
    "erasure.disk": "disque {serial}",
    "erasure.by": "par {name}",
    "erasure.certificate": "certificat SHA-256 {sha256}",
    "erasure.missing": "aucune preuve",
    "erasure.more": "… et {count} autres preuves",
    "erasure.not_applicable": "sans objet",
    "level.clear": "clear (réécriture)",
    "level.purge": "purge",
    "level.destroy": "destruction",
    "method.Fill With Zeros": "Remplissage par des zéros (1 passe)",
    "method.Fill With Ones": "Remplissage par des uns (1 passe)",
    "method.PRNG Stream": "Flux pseudo-aléatoire (PRNG)",
    "method.DoD Short": "DoD court (3 passes)",
    "method.DoD 5220.22M": "DoD 5220.22-M (7 passes)",
    "method.Gutmann Wipe": "Méthode Gutmann (35 passes)",
    "method.RCMP TSSIT OPS-II": "RCMP TSSIT OPS-II (8 passes)",
    "method.HMG IS5 Enhanced": "HMG IS5 renforcée",
    "method.Schneier Wipe": "Méthode Schneier (7 passes)",
    "method.BMB21-2019": "BMB21-2019 (6 passes)",
    "method.Verify Zeros": "Vérification des zéros (lecture seule)",
    "method.Verify Ones": "Vérification des uns (lecture seule)",
    "method.ATA Secure Erase": "Effacement sécurisé ATA (Secure Erase)",
    "method.Secure Erase": "Effacement sécurisé par le disque (Secure Erase)",
    "result.success": "réussi",
    "result.failure": "ÉCHEC",
    "fate.distributed": "distribué",
    "fate.recycled": "recyclé",
    "fate.dismantled": "démantelé (pièces)",
    "fate.transferred": "transféré",
    "fate.in_stock": "en stock",
    "in_stock_state": "en stock : {state}",
    "items.held_by": "en stock chez {name}",
    "verify_qr": "Vérifier sans compte :\n{url}",
    "register.sheet": "Registre du donateur",
    "register.lot": "Lot",
    "register.donor_asset": "N° d’inventaire donateur",
    "register.serial": "N° de série",
    "register.category": "Catégorie",
    "register.model": "Marque et modèle",
    "register.fate": "Devenir",
    "register.date": "Date du devenir",
    "register.beneficiary": "Bénéficiaire (catégorie)",
    "register.by": "Traité par (nom · empreinte de clé)",
    "register.erased": "Données effacées",
    "register.erasures": "Preuves d’effacement",
    "register.gid": "Identifiant Maillon",
    "register.yes": "oui",
    "register.no": "non (dernier passage en échec)",
    "items.missing_at": "manquant à la réception ({name})",
    "summary.proof": "Preuve",
    "summary.proof_ok": "chaque devenir est signé par le nœud qui détenait l’appareil ; vérifiable sans compte avec le fichier .mlnbundle (maillon record verify)",
    "summary.proof_problems": "{count} anomalie(s) dans la chaîne de garde : {first}",
    "receptions": "Réception des lots",
    "receptions.lot": "Lot",
    "receptions.by": "Reçu par",
    "receptions.declared": "Déclaré",
    "receptions.counted": "Compté / pesé",
    "receptions.gap": "Écart",
    "receptions.missing": "Manquants",
    "receptions.donor": "{node} (du donateur)",
    "receptions.value": "{units} app. · {kg} kg",
    "reen": "Synthèse REEN (décret 2023-266) par catégorie DEEE",
    "reen.category": "Catégorie DEEE",
    "reen.units": "Appareils donnés",
    "reen.reused": "Réemployés",
    "reen.recycled": "Recyclés",
    "reen.rate": "Taux de réemploi",
    "reen.screens": "2° écrans",
    "reen.small_it": "6° petits équipements informatiques",
    "reen.other": "hors catégories 2° et 6°",
    "reen.note": "Taux de réemploi : appareils distribués sur appareils donnés ; un appareil ne compte que si son réemploi est prouvé par un devenir signé.",
    "state.received": "reçu",
    "state.sorted": "trié",
    "state.tested": "testé",
    "state.erased": "effacé",
    "state.refurbished": "reconditionné",
    "state.ready": "prêt",
    "state.reserved": "réservé",
    "state.distributed": "distribué",
    "state.recycled": "recyclé",
    "state.dismantled": "démantelé",
    "state.transferred": "transféré",
    "beneficiary.person": "particulier",
    "beneficiary.association": "association",
    "beneficiary.school": "établissement scolaire",
    "beneficiary.ess": "structure de l’ESS",
    "beneficiary.other": "autre bénéficiaire",
    "donor_type.public_body": "organisme public",
    "donor_type.company": "entreprise",
    "donor_type.association": "association",
    "category.desktop": "ordinateur fixe",
    "category.laptop": "ordinateur portable",
    "category.tablet": "tablette",
    "category.smartphone": "smartphone",
    "category.screen": "écran",
    "category.printer": "imprimante",
    "category.multifunction_printer": "imprimante multifonction",
    "category.server": "serveur",
    "category.network": "matériel réseau",
    "category.peripheral": "périphérique",
    "category.component": "composant",
    "category.other": "autre",
    "years.one": "an",
    "years.many": "ans",
    "footer.page": "page {page} / {pages}",
    "footer.signed": (
        "Une version signée, lisible par machine, de ce rapport peut être vérifiée avec "
        "l’empreinte de clé du nœud {fingerprint} : enregistrement {record}."
    ),
    "footer.unsigned": "Rapport émis par {node}, empreinte de clé du nœud {fingerprint}.",
    "running_head": "{node} — {title} — {donor}",
    "none": "—",
}

EN: dict[str, str] = {
    "title": "Traceability report — donor",
    "generated": "Issued on {date} at {time}",
    "issuer": "Issuing association: {node} — node key fingerprint {fingerprint}",
    "donor": "Donor",
    "donor_type": "Type",
    "siret": "SIRET",
    "lots": "Lot(s)",
    "period": "Period",
    "period_value": "from {start} to {end}",
    "summary": "Summary",
    "summary.received": "Devices received",
    "summary.received_value": "{units} ({kg} kg)",
    "summary.distributed": "Distributed (reuse)",
    "summary.recycled": "Recycled",
    "summary.recycled_value": "{kg} kg ({units} devices)",
    "summary.reuse_rate": "Reuse rate",
    "summary.reuse_rate_value": "{rate} % of the devices with a known outcome",
    "summary.reuse_rate_none": "not computable: no device has an outcome yet",
    "summary.erasures": "Erasures proven",
    "summary.erasures_value": "{erased} of {storage} devices holding data",
    "totals": "Totals by outcome",
    "totals.fate": "Outcome",
    "totals.units": "Devices",
    "totals.weight": "Weight (kg)",
    "totals.all": "Total",
    "impact": "Avoided environmental impact",
    "impact.category": "Category",
    "impact.units": "Devices",
    "impact.years": "Years of second life",
    "impact.factor_co2e": "Factor (kg CO₂e / year)",
    "impact.co2e": "CO₂e avoided (kg)",
    "impact.factor_materials": "Factor (kg materials / year)",
    "impact.materials": "Materials avoided (kg)",
    "impact.formula": "Formula: devices × years of second life × yearly factor = total avoided.",
    "impact.formula_line": (
        "{category}: {units} × {years} × {factor_co2e} kg CO₂e/year = {co2e} kg CO₂e; "
        "{units} × {years} × {factor_materials} kg/year = {materials} kg of raw materials"
    ),
    "impact.total": "Total avoided: {co2e} kg CO₂e and {materials} kg of raw materials.",
    "impact.source": "Factors: {source} — version {version}.",
    "impact.none": "No impact is computed in this report.",
    "impact.uncovered": "Categories of this report left out of the impact: {categories}.",
    "items": "Device by device",
    "items.asset": "Donor's asset no. / label",
    "items.serial": "Serial no. / model",
    "items.category": "Category",
    "items.fate": "Outcome",
    "items.date": "Date",
    "items.erasure": "Data erasure (NIST SP 800-88)",
    "items.none": "No device in this report.",
    "items.by": "by {name}",
    "erasure.line": "{level} · {method} · {tool} · {date} · {result}",
    "erasure.disk": "disk {serial}",
    "erasure.by": "by {name}",
    "erasure.certificate": "certificate SHA-256 {sha256}",
    "erasure.missing": "no proof",
    "erasure.more": "… and {count} more proofs",
    "erasure.not_applicable": "not applicable",
    "level.clear": "clear (overwrite)",
    "level.purge": "purge",
    "level.destroy": "destroy",
    "method.Fill With Zeros": "Fill With Zeros",
    "method.Fill With Ones": "Fill With Ones",
    "method.PRNG Stream": "PRNG Stream",
    "method.DoD Short": "DoD Short",
    "method.DoD 5220.22M": "DoD 5220.22M",
    "method.Gutmann Wipe": "Gutmann Wipe",
    "method.RCMP TSSIT OPS-II": "RCMP TSSIT OPS-II",
    "method.HMG IS5 Enhanced": "HMG IS5 Enhanced",
    "method.Schneier Wipe": "Schneier Wipe",
    "method.BMB21-2019": "BMB21-2019",
    "method.Verify Zeros": "Verify Zeros",
    "method.Verify Ones": "Verify Ones",
    "method.ATA Secure Erase": "ATA Secure Erase",
    "method.Secure Erase": "Secure Erase",
    "result.success": "succeeded",
    "result.failure": "FAILED",
    "fate.distributed": "distributed",
    "fate.recycled": "recycled",
    "fate.dismantled": "dismantled (parts)",
    "fate.transferred": "transferred",
    "fate.in_stock": "in stock",
    "in_stock_state": "in stock: {state}",
    "items.held_by": "in stock at {name}",
    "verify_qr": "Check without an account:\n{url}",
    "register.sheet": "Donor register",
    "register.lot": "Lot",
    "register.donor_asset": "Donor's asset no.",
    "register.serial": "Serial no.",
    "register.category": "Category",
    "register.model": "Brand and model",
    "register.fate": "Outcome",
    "register.date": "Date of the outcome",
    "register.beneficiary": "Beneficiary (category)",
    "register.by": "Processed by (name · key fingerprint)",
    "register.erased": "Data erased",
    "register.erasures": "Erasure proofs",
    "register.gid": "Maillon id",
    "register.yes": "yes",
    "register.no": "no (last pass failed)",
    "items.missing_at": "missing at reception ({name})",
    "summary.proof": "Proof",
    "summary.proof_ok": "each outcome is signed by the node that held the device; checkable without an account with the .mlnbundle file (maillon record verify)",
    "summary.proof_problems": "{count} problem(s) in the chain of custody: {first}",
    "receptions": "Reception of the lots",
    "receptions.lot": "Lot",
    "receptions.by": "Received by",
    "receptions.declared": "Declared",
    "receptions.counted": "Counted / weighed",
    "receptions.gap": "Difference",
    "receptions.missing": "Missing",
    "receptions.donor": "{node} (from the donor)",
    "receptions.value": "{units} dev. · {kg} kg",
    "reen": "REEN summary (décret 2023-266) per WEEE category",
    "reen.category": "WEEE category",
    "reen.units": "Devices given",
    "reen.reused": "Reused",
    "reen.recycled": "Recycled",
    "reen.rate": "Reuse rate",
    "reen.screens": "2° screens",
    "reen.small_it": "6° small IT equipment",
    "reen.other": "outside categories 2° and 6°",
    "reen.note": "Reuse rate: devices distributed over devices given; a device counts only when a signed outcome proves its reuse.",
    "state.received": "received",
    "state.sorted": "sorted",
    "state.tested": "tested",
    "state.erased": "erased",
    "state.refurbished": "refurbished",
    "state.ready": "ready",
    "state.reserved": "reserved",
    "state.distributed": "distributed",
    "state.recycled": "recycled",
    "state.dismantled": "dismantled",
    "state.transferred": "transferred",
    "beneficiary.person": "individual",
    "beneficiary.association": "association",
    "beneficiary.school": "school",
    "beneficiary.ess": "social economy organisation",
    "beneficiary.other": "other beneficiary",
    "donor_type.public_body": "public body",
    "donor_type.company": "company",
    "donor_type.association": "association",
    "category.desktop": "desktop",
    "category.laptop": "laptop",
    "category.tablet": "tablet",
    "category.smartphone": "smartphone",
    "category.screen": "screen",
    "category.printer": "printer",
    "category.multifunction_printer": "multifunction printer",
    "category.server": "server",
    "category.network": "network equipment",
    "category.peripheral": "peripheral",
    "category.component": "component",
    "category.other": "other",
    "years.one": "year",
    "years.many": "years",
    "footer.page": "page {page} / {pages}",
    "footer.signed": (
        "A signed, machine-readable version of this report can be verified with "
        "the node key fingerprint {fingerprint}: record {record}."
    ),
    "footer.unsigned": "Report issued by {node}, node key fingerprint {fingerprint}.",
    "running_head": "{node} — {title} — {donor}",
    "none": "—",
}

TEXTS: dict[str, dict[str, str]] = {"fr": FR, "en": EN}
LANGUAGES: tuple[str, ...] = tuple(TEXTS)

# Per language: (thousands separator, decimal mark). French typography puts
# a narrow no-break space (U+202F) between thousands, which never wraps.
_NUMBERS: dict[str, tuple[str, str]] = {"fr": ("\u202f", ","), "en": (",", ".")}
_DAYS: dict[str, str] = {"fr": "{d:02d}/{m:02d}/{y:04d}", "en": "{y:04d}-{m:02d}-{d:02d}"}
# French uses the singular for 0 and 1 ("0 an", "1 an"), English for 1 only.
_SINGULAR_ZERO: dict[str, bool] = {"fr": True, "en": False}


def texts(language: str) -> dict[str, str]:
    """The strings of ``language``; ValueError names the languages there are."""
    try:
        return TEXTS[language]
    except KeyError:
        raise ValueError(f"no report text for language {language!r}; have {', '.join(LANGUAGES)}") from None


def label(text: dict[str, str], prefix: str, code: str | None) -> str:
    """Translate a code value (``prefix.code``), falling back to the code itself.

    A node may hold a value this version does not know (a category added by
    a newer peer); showing the raw code beats refusing to print the report.
    """
    if code is None:
        return text["none"]
    return text.get(f"{prefix}.{code}", code)


def format_int(value: int, language: str) -> str:
    """An integer with the language's thousands separator: ``12 345`` / ``12,345``."""
    sep = _NUMBERS[language][0]
    return f"{value:,}".replace(",", sep)


def _tenths(value: int, language: str) -> str:
    """``value`` tenths written with one decimal: 12345 → ``1 234,5``."""
    sign = "-" if value < 0 else ""
    whole, tenth = divmod(abs(value), 10)
    return f"{sign}{format_int(whole, language)}{_NUMBERS[language][1]}{tenth}"


def format_kg(grams: int, language: str) -> str:
    """Grams as kilograms with one decimal, rounded half up: 1 234 550 g → ``1 234,6``."""
    sign = -1 if grams < 0 else 1
    return _tenths(sign * ((abs(grams) + 50) // 100), language)


def format_permille(permille: int, language: str) -> str:
    """A per-mille as a percentage with one decimal: 875 → ``87,5``."""
    return _tenths(permille, language)


def format_day(iso_day: str, language: str) -> str:
    """A ``YYYY-MM-DD`` day in the language's order."""
    y, m, d = (int(part) for part in iso_day.split("-"))
    return _DAYS[language].format(y=y, m=m, d=d)


def _local(ms: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz)


def format_date(ms: int, language: str, tz: ZoneInfo) -> str:
    """The local day of a millisecond timestamp, in the language's order."""
    moment = _local(ms, tz)
    return _DAYS[language].format(y=moment.year, m=moment.month, d=moment.day)


def format_time(ms: int, tz: ZoneInfo) -> str:
    """The local hour and minute of a millisecond timestamp (24 h, both languages)."""
    return _local(ms, tz).strftime("%H:%M")


def format_years(years: int, language: str) -> str:
    """``3 ans`` / ``1 year``: a number of years with the right plural."""
    text = TEXTS[language]
    singular = years == 1 or (years == 0 and _SINGULAR_ZERO[language])
    return f"{format_int(years, language)} {text['years.one' if singular else 'years.many']}"


def erasure_text(proof: ErasureProof, t: dict[str, str], day: str, by: str | None, certificate: str | None) -> str:
    """One erasure in words: level, method, tool, day, result, disk, who did it, the certificate's hash."""
    text = t["erasure.line"].format(
        level=label(t, "level", proof.level), method=label(t, "method", method_label(proof.method) or proof.method),
        tool=proof.tool, date=day, result=label(t, "result", proof.result),
    )  # fmt: skip
    if proof.disk_serial:
        text += " · " + t["erasure.disk"].format(serial=proof.disk_serial)
    if by:
        text += " · " + t["erasure.by"].format(name=by)
    if certificate:
        text += " · " + t["erasure.certificate"].format(sha256=certificate)
    return text
