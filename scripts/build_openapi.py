"""Write web_ui/openapi.json from the API route table and the domain models.

Run after changing an API route or an input model: `.venv/bin/python scripts/build_openapi.py`.
tests/web_ui/test_api.py fails while the committed file and the code disagree.
"""

import json
from pathlib import Path

from pydantic import TypeAdapter

from node.domain.beneficiaries import Beneficiary
from node.domain.donors import Donor
from node.domain.erasure import Erasure
from node.domain.impact import ImpactLine
from node.domain.items import Event, Item
from node.domain.lots import Lot
from web_ui.api import PREFIX, ROUTES

REF = "#/components/schemas/{model}"


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


schemas = {}


def add_model(model):
    schema = model.model_json_schema(ref_template=REF)
    for name, sub in schema.pop("$defs", {}).items():
        schemas[name] = sub
    schemas[model.__name__] = schema
    return ref(model.__name__)


def add_dataclass(cls, extra=None):
    schema = TypeAdapter(cls).json_schema(ref_template=REF)
    if extra:
        schema["properties"].update(extra)
        schema["required"] += list(extra)
    schemas[cls.__name__] = schema
    return ref(cls.__name__)


schemas["Error"] = {
    "title": "Error", "type": "object", "additionalProperties": False,
    "description": "Every error of the API. `code` is stable (for programs and the message catalogue); "
                   "`message` is for the person and names the wrong field or the broken rule.",
    "properties": {"code": {"type": "string", "examples": ["invalid", "erasure_required", "price_refused"]},
                   "message": {"type": "string"}},
    "required": ["code", "message"],
}
add_dataclass(Donor)
add_dataclass(Lot, {
    "status": {"enum": ["open", "in_progress", "closed"], "type": "string", "title": "Status",
               "description": "open: no item yet; closed: every item has its fate."},
    "unit_gap": {"anyOf": [{"type": "integer"}, {"type": "null"}], "title": "Unit Gap",
                 "description": "Counted minus declared units, when both are known."},
    "weight_gap_g": {"anyOf": [{"type": "integer"}, {"type": "null"}], "title": "Weight Gap G",
                     "description": "Weighed minus declared grams, when both are known."},
})
add_dataclass(Item)
add_dataclass(Event)
add_dataclass(Erasure)
add_dataclass(Beneficiary)
add_dataclass(ImpactLine)
schemas["BeneficiarySummary"] = {
    "title": "BeneficiarySummary", "type": "object",
    "description": "What a token that is not an admin's sees of a beneficiary: no personal details.",
    "properties": {"id": {"type": "integer"}, "code": {"type": "string"}, "category": {"type": "string"}},
    "required": ["id", "code", "category"],
}
# anyOf, not oneOf: a beneficiary without personal details matches both (no field tells them apart)
schemas["BeneficiaryView"] = {"anyOf": [ref("Beneficiary"), ref("BeneficiarySummary")],
                              "description": "Beneficiary for an admin token, BeneficiarySummary otherwise."}
schemas["ItemView"] = {
    "title": "ItemView", "type": "object",
    "properties": {
        "item": ref("Item"),
        "history": {"type": "array", "items": ref("Event")},
        "erasures": {"type": "array", "items": ref("Erasure")},
        "erasure_required": {"type": "boolean", "description": "Whether the item may still hold data: "
                             "handing it over would be refused (erasure_required)."},
    },
    "required": ["item", "history", "erasures", "erasure_required"],
}
schemas["ItemPage"] = {
    "title": "ItemPage", "type": "object",
    "properties": {"items": {"type": "array", "items": ref("Item")}, "total": {"type": "integer"},
                   "limit": {"type": "integer"}, "offset": {"type": "integer"}},
    "required": ["items", "total", "limit", "offset"],
}
schemas["EventIds"] = {"title": "EventIds", "type": "object",
                       "properties": {"event_ids": {"type": "array", "items": {"type": "integer"}}},
                       "required": ["event_ids"]}
schemas["Stats"] = {
    "title": "Stats", "type": "object",
    "properties": {
        "period": {"type": "string"}, "start_ms": {"type": "integer"}, "end_ms": {"type": "integer"},
        "computed_ms": {"type": "integer"},
        "figures": {"type": "object", "additionalProperties": {"type": "integer"},
                    "description": "Every figure under a dotted key, as in the signed stats.report/1 "
                                   "(node.domain.stats.Stats.as_figures)."},
        "impact": {
            "type": "object",
            "properties": {
                "version": {"type": "string"}, "source": {"type": "string"}, "note": {"type": "string"},
                "years": {"type": "integer"}, "co2e_g": {"type": "integer"}, "materials_g": {"type": "integer"},
                "lines": {"type": "array", "items": ref("ImpactLine")},
                "unfactored": {"type": "object", "additionalProperties": {"type": "integer"}},
                "formula": {"type": "array", "items": {"type": "string"},
                            "description": "The computation as a person reads it; never show a total without it."},
            },
            "required": ["version", "source", "note", "years", "co2e_g", "materials_g", "lines", "unfactored",
                         "formula"],
        },
    },
    "required": ["period", "start_ms", "end_ms", "computed_ms", "figures", "impact"],
}


def obj(**props):
    return {"type": "object", "properties": props, "required": list(props)}


def page(key, item):
    return obj(**{key: {"type": "array", "items": item}}, limit={"type": "integer"}, offset={"type": "integer"})


LIMIT = {"type": "integer", "minimum": 1, "maximum": 500}
ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
QUERY = {
    "limit": (LIMIT, "How many to return (default 100; 50 for items)."),
    "offset": ({"type": "integer", "minimum": 0, "maximum": 2**63 - 1}, "How many to skip."),
    "donor_id": (ID, "Only this donor's."),
    "lot_id": (ID, "Only this lot's."),
    "q": ({"type": "string", "maxLength": 200},
          "Serial, asset tag or donor asset number (exact, any case), or the start of the model."),
    "state": ({"type": "string", "enum": ["received", "sorted", "tested", "erased", "refurbished", "ready",
                                          "reserved", "distributed", "recycled", "dismantled", "transferred"]},
              "Only items in this state."),
    "category": ({"type": "string", "enum": ["desktop", "laptop", "tablet", "smartphone", "screen", "printer",
                                             "multifunction_printer", "server", "network", "peripheral",
                                             "component", "other"]}, "Only items of this category."),
    "tag": ({"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"}, "The asset tag printed on the label, or the global id "
            "in its QR code."),
    "period": ({"type": "string", "pattern": "^(19[89][0-9]|20[0-9][0-9]|2100)(-(0[1-9]|1[0-2])|-Q[1-4])?$",
                "examples": ["2026-10"]},
               "A year (2026), a month (2026-10) or a quarter (2026-Q4), in local time (Europe/Paris), "
               "from 1980 to 2100."),
}
REQUIRED_QUERY = {"tag", "period"}

META = {
    ("GET", "/openapi.json"): ("This description (OpenAPI 3.1); no token needed.", 200, {"type": "object"}),
    ("GET", "/donors"): ("List the donors, by name.", 200, obj(donors={"type": "array", "items": ref("Donor")})),
    ("POST", "/donors"): ("Register a donor.", 201, ref("Donor")),
    ("GET", "/donors/{id}"): ("One donor.", 200, ref("Donor")),
    ("PUT", "/donors/{id}"): ("Replace a donor's details.", 200, ref("Donor")),
    ("GET", "/lots"): ("List lots, newest first.", 200, page("lots", ref("Lot"))),
    ("POST", "/lots"): ("Register a lot received (or announced) from a donor.", 201, ref("Lot")),
    ("GET", "/lots/{id}"): ("One lot, with its counts and gaps.", 200, ref("Lot")),
    ("POST", "/lots/{id}/reception"): ("Record what was counted and weighed on arrival.", 200, ref("Lot")),
    ("GET", "/items"): ("Search items, newest first.", 200, ref("ItemPage")),
    ("POST", "/items"): ("Register items (state received) in one transaction; each gets a global id and an "
                         "asset tag.", 201,
                         obj(items={"type": "array", "items": obj(id={"type": "integer"}, gid={"type": "string"},
                                                                  asset_tag={"type": "string"})})),
    ("GET", "/items/lookup"): ("Find an item by the label scanned.", 200, ref("ItemView")),
    ("GET", "/items/{id}"): ("One item, its history and its disks' erasures.", 200, ref("ItemView")),
    ("PATCH", "/items/{id}"): ("Correct an item's description; the fields left out keep their value, null "
                               "clears one. Its history is untouched.", 200, ref("ItemView")),
    ("GET", "/steps"): ("The association's own step names and the state each records.", 200,
                        obj(steps={"type": "object", "additionalProperties": {"type": "string"}})),
    ("POST", "/events"): ("Record a workshop step for items: all move, or none. The operator defaults to the "
                          "token's name. The state erased is refused (409 erasure_proof_required): an item becomes "
                          "erased when each of its disks has a successful erasure (POST /erasures) or its storage "
                          "is removed; an OS for an item of a category that gets none is refused (409 "
                          "step_not_for_category).", 201, ref("EventIds")),
    ("POST", "/events/{id}/correction"): ("Undo an item's last event by a new event that restores the state "
                                          "before it.", 201, obj(event_id={"type": "integer"})),
    ("POST", "/erasures"): ("Record one disk's erasure. Without item_id it is matched by host serial when "
                            "exactly one item has it; otherwise it is an orphan disk (GET /erasures/orphans) "
                            "until an item with that serial is registered. An item still received, sorted or "
                            "tested whose disks are then all proven erased becomes erased.", 201,
                            obj(id={"type": "integer"})),
    ("GET", "/erasures/orphans"): ("Erasures not matched to an item yet, newest first.", 200,
                                   page("erasures", ref("Erasure"))),
    ("GET", "/beneficiaries"): ("List beneficiaries, newest first; personal details for admin tokens only.", 200,
                                page("beneficiaries", ref("BeneficiaryView"))),
    ("POST", "/beneficiaries"): ("Register a beneficiary; it gets a pseudonymous code. Personal details are "
                                 "optional and erased after the retention period.", 201, ref("BeneficiaryView")),
    ("GET", "/beneficiaries/{id}"): ("One beneficiary; personal details for admin tokens only.", 200,
                                     ref("BeneficiaryView")),
    ("POST", "/distributions"): ("Hand items to a beneficiary. Refused (409 erasure_required) while an item may "
                                 "hold data; a price that breaks a prix solidaire rule is refused (409 "
                                 "price_refused) unless an admin token gives an override_reason.", 201,
                                 ref("EventIds")),
    ("POST", "/outflows"): ("Record an outflow to a recycler, for the waste register; its items become "
                            "recycled.", 201, obj(id={"type": "integer"})),
    ("GET", "/stats"): ("The node's figures for a period, with the impact's formula, factors and source.", 200,
                        ref("Stats")),
    ("POST", "/steps"): ("Name (or rename) one of the association's steps, mapped to a canonical state; admin "
                         "tokens only. No step may stand for erased (409 erasure_proof_required).", 201,
                         obj(name={"type": "string"}, state={"type": "string"})),
    ("POST", "/items/storage-removal"): ("Record that the items' disks were taken out or destroyed: they no longer "
                                         "hold data, and count as erased. Refused for an item of a category that "
                                         "holds none (409 step_not_for_category).", 201,
                                         obj(items={"type": "integer"})),
    ("POST", "/components"): ("A part harvested from an item, traced until fitted into another.", 201,
                              obj(id={"type": "integer"})),
    ("POST", "/components/{id}/fit"): ("The part was fitted into another item.", 201, obj(id={"type": "integer"})),
}

# Bodies that name other things (a donor, a lot, items...) which may not exist.
NAMES_OTHERS = {("POST", "/lots"), ("POST", "/items"), ("GET", "/items/lookup"), ("POST", "/events"),
                ("POST", "/erasures"), ("POST", "/distributions"), ("POST", "/outflows"),
                ("POST", "/items/storage-removal"), ("POST", "/components"), ("POST", "/components/{id}/fit")}
CONFLICTS = {("POST", "/lots"), ("POST", "/events"), ("POST", "/events/{id}/correction"), ("POST", "/distributions"),
             ("POST", "/outflows"), ("POST", "/components/{id}/fit"), ("POST", "/items/storage-removal"),
             ("POST", "/steps")}


def error(name):
    return {"$ref": f"#/components/responses/{name}"}


paths = {}
for route in ROUTES:
    summary, status, response = META[(route.method, route.path)]
    op = {"operationId": route.handler.__name__, "summary": summary}
    params = []
    if "{id}" in route.path:
        params.append({"name": "id", "in": "path", "required": True, "schema": ID})
    for name in route.query:
        schema, description = QUERY[name]
        params.append({"name": name, "in": "query", "required": name in REQUIRED_QUERY, "schema": schema,
                       "description": description})
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": add_model(route.body)}}}
    responses = {str(status): {"description": "OK" if status == 200 else "Created",
                               "content": {"application/json": {"schema": response}}}}
    if route.public:
        op["security"] = []
    else:
        if route.body is not None:
            responses["400"] = error("BadJson")
        responses["401"] = error("Unauthorized")
        if route.method != "GET":
            responses["403"] = error("Forbidden")
        if "{id}" in route.path or (route.method, route.path) in NAMES_OTHERS:
            responses["404"] = error("NotFound")
        if (route.method, route.path) in CONFLICTS:
            responses["409"] = error("Conflict")
        if route.body is not None or route.query:
            responses["422"] = error("Invalid")
    op["responses"] = responses
    paths.setdefault(PREFIX + route.path, {})[route.method.lower()] = op


def error_response(description):
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}


doc = {
    "openapi": "3.1.0",
    "info": {
        "title": "Maillon node API",
        "version": "1",
        "summary": "The JSON API of one Maillon node, for local programs (scanners, scripts, spreadsheets).",
        "description": (
            "Every call but GET /api/v1/openapi.json needs `Authorization: Bearer <token>` "
            "(`maillon token create NAME --role ROLE`). A read_only token may only GET; technician and admin "
            "tokens may write; only an admin token overrides a price rule or reads beneficiaries' personal "
            "details. Times are integer milliseconds UTC; weights in grams; money in cents. Whole numbers "
            "in a body must fit in a signed 64-bit integer. A body repeating a key, or using NaN or "
            "Infinity, is refused (400 bad_json); unknown fields and unknown query parameters are refused "
            "(422). An error is always {code, message}; a refused request changes nothing. A node that cannot "
            "write answers 507 disk_full (its disk is full: try again once space is freed) or 503 "
            "database_damaged / disk_error (its administrator must act); nothing was changed either."
        ),
        "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
    },
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}],
    "paths": paths,
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "An API token made by `maillon token create`."}},
        "responses": {
            "BadJson": error_response("bad_json: the body is not JSON, repeats a key, or uses NaN/Infinity."),
            "Unauthorized": error_response("unauthorized: no token, or an unknown or revoked one."),
            "Forbidden": error_response("forbidden: this token's role may not do this (read_only writing)."),
            "NotFound": error_response("not_found: no such donor, lot, item, event, beneficiary..."),
            "Conflict": error_response("A reuse rule refused it; the code names the rule: erasure_required, "
                                       "price_refused, invalid_transition, not_last_event, not_correctable, "
                                       "duplicate_reference..."),
            "Invalid": error_response("invalid (or duplicate_item, invalid_period...): "
                                      "the message names the wrong field or parameter."),
        },
        "schemas": dict(sorted(schemas.items())),
    },
}

(Path(__file__).resolve().parents[1] / "web_ui" / "openapi.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
print(len(paths), "paths")
