"""The JSON API (/api/v1) through aiohttp's test client, on a real SQLite file per test.

A full workshop flow; every error code; bad input that changes nothing; and
openapi.json kept true to the route table and the domain's input models.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer

from node.config import Config, init_node
from node.domain.access import create_token, revoke_token
from node.store.database import Store
from web_ui.api import OPENAPI_PATH, PREFIX, ROUTES
from web_ui.app import make_app

TABLES = ("donors", "lots", "items", "events", "erasures", "beneficiaries", "distributions", "outflows",
          "outflow_items", "log_records", "counters")  # fmt: skip
REF = "#/components/schemas/{model}"


class Api:
    """A client with one token per role; ``call`` returns (status, JSON)."""

    def __init__(self, client: TestClient, store: Store, tokens: dict[str, str]) -> None:
        self.client = client
        self.store = store
        self.tokens = tokens

    async def call(self, method: str, path: str, body: Any = None, *, role: str | None = "admin",
                   raw: bytes | None = None) -> tuple[int, Any]:  # fmt: skip
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        response = await self.client.request(method, PREFIX + path, data=data, headers=headers)
        assert response.content_type == "application/json", await response.text()
        return response.status, await response.json()

    async def ok(self, method: str, path: str, body: Any = None, *, role: str = "admin") -> Any:
        status, data = await self.call(method, path, body, role=role)
        assert status in (200, 201), (status, data)
        return data

    async def counts(self) -> dict[str, int]:
        async with self.store.reader() as db:
            return {table: await db.value(f"SELECT count(*) FROM {table}") for table in TABLES}


@pytest.fixture
async def api(tmp_path):
    node = init_node(tmp_path, Config(name="A"))
    store = await Store.open(node.db_path, node.key, create=True)
    async with store.transaction() as tx:
        tokens = {
            role: await create_token(tx, f"{role} token", role)
            for role in ("admin", "technician", "read_only")
        }
    async with TestClient(TestServer(make_app(node, store))) as client:
        yield Api(client, store, tokens)
    await store.close()


async def make_lot(
    api: Api, *, donor_type: str = "company", items: list[dict] | None = None
) -> tuple[int, list[int]]:
    donor = await api.ok("POST", "/donors", {"name": "Préfecture", "type": donor_type})
    lot = await api.ok("POST", "/lots", {"reference": "L-1", "donor_id": donor["id"], "declared_units": 2})
    created = await api.ok(
        "POST", "/items", {"lot_id": lot["id"], "items": items or [{"category": "laptop"}]}
    )
    return lot["id"], [item["id"] for item in created["items"]]


async def make_ready(api: Api, ids: list[int]) -> None:
    await api.ok(
        "POST", "/events", {"item_ids": ids, "step": {"state": "sorted", "orientation": "refurbish"}}
    )
    await api.ok("POST", "/events", {"item_ids": ids, "step": {"state": "ready"}})


async def test_full_flow_from_donor_to_statistics(api):
    donor = await api.ok("POST", "/donors", {"name": "Région Bretagne", "type": "public_body"})
    assert (await api.ok("GET", f"/donors/{donor['id']}"))["name"] == "Région Bretagne"
    assert [d["id"] for d in (await api.ok("GET", "/donors"))["donors"]] == [donor["id"]]
    lot = {"reference": "REG-1", "donor_id": donor["id"], "declared_units": 3, "declared_weight_g": 12_000,
           "received_on": "2026-10-01"}  # fmt: skip
    lot = await api.ok("POST", "/lots", lot)
    assert (lot["status"], lot["donor_name"]) == ("open", "Région Bretagne")
    assert lot["received_on"] == "2026-10-01"  # a calendar day stays a date
    lot = await api.ok("POST", f"/lots/{lot['id']}/reception", {"counted_units": 2, "weighed_g": 11_000})
    assert (lot["unit_gap"], lot["weight_gap_g"]) == (-1, -1000)

    unpacked = [{"category": "laptop", "serial": "SN-1", "brand": "Lenovo"}, {"category": "screen"}]
    created = await api.ok("POST", "/items", {"lot_id": lot["id"], "items": unpacked}, role="technician")
    laptop, screen = (item["id"] for item in created["items"])
    assert [item["asset_tag"] for item in created["items"]] == ["MLN-000001", "MLN-000002"]
    page = await api.ok("GET", f"/items?lot_id={lot['id']}&category=laptop")
    assert (page["total"], page["items"][0]["id"], page["limit"], page["offset"]) == (1, laptop, 50, 0)
    assert (await api.ok("GET", "/items?q=sn-1"))["items"][0]["id"] == laptop

    # A correction of the description keeps what is not sent.
    view = await api.ok("PATCH", f"/items/{laptop}", {"grade": "B", "ram_mb": 8192}, role="technician")
    assert (view["item"]["grade"], view["item"]["brand"], view["item"]["serial"]) == ("B", "Lenovo", "SN-1")

    await make_ready(api, [laptop, screen])
    handout = {"item_ids": [laptop, screen], "distribution": {"beneficiary_id": 1}}
    status, refused = await api.call("POST", "/distributions", handout)
    assert (status, refused["code"]) == (404, "not_found")  # no beneficiary yet
    person = await api.ok("POST", "/beneficiaries", {"category": "person", "name": "Mme X"})
    handout["distribution"]["beneficiary_id"] = person["id"]
    status, refused = await api.call("POST", "/distributions", handout, role="technician")
    assert (status, refused["code"]) == (409, "erasure_required") and "MLN-000001" in refused["message"]

    wipe = {"host_serial": "SN-1", "method": "PRNG Stream", "level": "clear", "tool": "nwipe",
            "result": "success"}  # fmt: skip
    erasure = await api.ok("POST", "/erasures", wipe, role="technician")
    view = await api.ok("GET", f"/items/{laptop}")  # matched by the laptop's serial
    assert view["erasure_required"] is False and [e["id"] for e in view["erasures"]] == [erasure["id"]]
    orphan = await api.ok("POST", "/erasures", wipe | {"host_serial": "UNKNOWN-1"})
    assert [e["id"] for e in (await api.ok("GET", "/erasures/orphans"))["erasures"]] == [orphan["id"]]
    handed = await api.ok("POST", "/distributions", {"item_ids": [laptop, screen],
                                                     "distribution": {"beneficiary_id": person["id"]}},
                          role="technician")  # fmt: skip
    assert len(handed["event_ids"]) == 2

    # The screen was the wrong one: its handover is corrected, then it goes to recycling.
    correction = await api.ok(
        "POST", f"/events/{handed['event_ids'][1]}/correction", {"reason": "wrong screen"}
    )
    view = await api.ok("GET", f"/items/{screen}")
    last = view["history"][-1]
    assert view["item"]["state"] == "ready"
    assert (last["id"], last["corrects"]) == (correction["event_id"], handed["event_ids"][1])
    outflow = {"item_ids": [screen], "recipient": "Ecologic", "waste_code": "16 02 14", "treatment": "R4"}
    await api.ok("POST", "/outflows", outflow)
    found = await api.ok("GET", "/items/lookup?tag=mln-000001")
    assert found["item"]["id"] == laptop
    assert [e["state"] for e in found["history"]] == ["received", "sorted", "ready", "distributed"]
    assert found["history"][1]["operator"] == "admin token"  # the token's holder, when no operator is named

    period = datetime.now(ZoneInfo("Europe/Paris")).strftime("%Y")
    stats = await api.ok("GET", f"/stats?period={period}", role="read_only")
    figures = stats["figures"]
    assert figures["distributed.laptop.units"] == 1 and figures["recycled.screen.units"] == 1
    assert figures["received.laptop.units"] == 1 and figures["reuse_rate_permille"] == 500
    assert figures["impact.co2e_g"] == 3 * 27_000 == stats["impact"]["co2e_g"]
    assert stats["impact"]["formula"][0] == "laptop: 1 × 3 years × 27.0 kg CO2e/year = 81.0 kg CO2e"
    assert stats["impact"]["version"] == "ademe-2022" and stats["end_ms"] > stats["start_ms"]


async def test_tokens_and_roles(api):
    for header in (None, "Basic abc", "Bearer", "Bearer mln_not-a-token", "Bearer jeton-é"):
        headers = {"Authorization": header} if header else {}
        response = await api.client.get(PREFIX + "/donors", headers=headers)
        assert response.status == 401 and (await response.json())["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await api.call("GET", "/donors", role="read_only"))[0] == 200
    before = await api.counts()
    status, error = await api.call("POST", "/donors", {"name": "X", "type": "company"}, role="read_only")
    assert (status, error["code"]) == (403, "forbidden")
    # The role is checked before the body is read: a bad body from a reader is still a 403.
    assert (await api.call("POST", "/donors", raw=b"{", role="read_only"))[0] == 403
    assert await api.counts() == before
    assert (await api.call("POST", "/donors", {"name": "X", "type": "company"}, role="technician"))[0] == 201
    async with api.store.transaction() as tx:
        await revoke_token(tx, "technician token")
    assert (await api.call("GET", "/donors", role="technician"))[0] == 401


async def test_price_rules_need_an_admin_to_override(api):
    _, ids = await make_lot(api, items=[{"category": "laptop", "storage": "none"}])
    await make_ready(api, ids)
    person = await api.ok("POST", "/beneficiaries", {"category": "person"})
    request = {"item_ids": ids, "distribution": {"beneficiary_id": person["id"], "price_cents": 20_000}}
    status, error = await api.call("POST", "/distributions", request, role="technician")
    assert (status, error["code"]) == (409, "price_refused") and "cap" in error["message"]
    request["distribution"]["override_reason"] = "accord du donateur"
    status, error = await api.call("POST", "/distributions", request, role="technician")
    assert (status, error["code"]) == (409, "price_refused")
    assert (await api.counts())["distributions"] == 0
    assert (await api.call("POST", "/distributions", request, role="admin"))[0] == 201


async def test_beneficiaries_personal_details_for_admins_only(api):
    made = await api.ok("POST", "/beneficiaries", {"category": "person", "name": "M. Y", "contact": "06"},
                        role="technician")  # fmt: skip
    assert made == {"id": made["id"], "code": made["code"], "category": "person"}
    assert made["code"].startswith("B-")
    for role in ("technician", "read_only"):
        listed = (await api.ok("GET", "/beneficiaries", role=role))["beneficiaries"]
        one = await api.ok("GET", f"/beneficiaries/{made['id']}", role=role)
        assert listed == [one] == [{"id": made["id"], "code": made["code"], "category": "person"}]
    full = await api.ok("GET", f"/beneficiaries/{made['id']}")
    assert (full["name"], full["contact"]) == ("M. Y", "06")


async def test_error_codes(api):
    lot_id, ids = await make_lot(api)
    cases = [
        ("GET", "/nowhere", None, 404, "not_found"),
        ("GET", "/donors/999", None, 404, "not_found"),
        ("GET", f"/donors/{2**64}", None, 404, "not_found"),
        ("GET", "/items/abc", None, 404, "not_found"),
        ("DELETE", "/donors", None, 405, "method_not_allowed"),
        ("POST", "/donors", {"name": "X", "type": "company", "colour": "red"}, 422, "invalid"),
        ("POST", "/donors", {"name": "X", "type": "bank"}, 422, "invalid"),
        ("POST", "/donors", [1, 2], 422, "invalid"),
        ("POST", "/lots", {"reference": "L-1"}, 409, "duplicate_reference"),
        ("POST", "/lots", {"reference": "L-9", "donor_id": 10**30}, 422, "invalid"),
        ("GET", "/items?stat=ready", None, 422, "invalid"),
        ("GET", "/items?limit=0", None, 422, "invalid"),
        ("GET", "/items?limit=ten", None, 422, "invalid"),
        ("GET", "/items?lot_id=", None, 422, "invalid"),  # the schema says integer: empty is not absent
        ("GET", "/donors?limit=", None, 422, "invalid"),
        ("GET", "/items?state=lost", None, 422, "invalid"),
        ("GET", "/items?state=ready&state=sorted", None, 422, "invalid"),
        ("GET", "/items/lookup", None, 422, "invalid"),
        ("GET", "/items/lookup?tag=NOPE", None, 404, "not_found"),
        ("GET", "/stats", None, 422, "invalid_period"),
        ("GET", "/stats?period=2026-13", None, 422, "invalid_period"),
        ("POST", "/events", {"item_ids": [ids[0], ids[0]], "step": {"state": "tested"}}, 422, "invalid"),
        ("POST", "/events", {"item_ids": [], "step": {"state": "tested"}}, 422, "invalid"),
        ("POST", "/events", {"item_ids": ids, "step": {"state": "sorted"}}, 422, "invalid"),
        ("POST", "/events", {"item_ids": ids, "step": {"state": "reserved"}}, 409, "invalid_transition"),
        ("POST", "/events", {"item_ids": [999], "step": {"state": "tested"}}, 404, "not_found"),
        ("POST", "/events/1/correction", {"reason": "oops"}, 409, "not_correctable"),
        ("POST", "/events/1/correction", {"reason": "   "}, 422, "invalid"),
        ("POST", "/events/999/correction", {"reason": "oops"}, 404, "not_found"),
        ("PATCH", f"/items/{ids[0]}", {"category": None}, 422, "invalid"),
        ("PATCH", "/items/999", {"grade": "A"}, 404, "not_found"),
        ("POST", f"/lots/{lot_id}/reception", {"counted_units": -1, "weighed_g": 0}, 422, "invalid"),
        (
            "POST",
            "/outflows",
            {"recipient": "X", "waste_code": "16 02 14", "treatment": "R4"},
            422,
            "invalid",
        ),
    ]
    for method, path, body, status, code in cases:
        got, error = await api.call(method, path, body)
        assert (got, error["code"]) == (status, code), (method, path, body, error)
        assert set(error) == {"code", "message"} and error["message"]
    # The message names the wrong field.
    assert (
        "colour"
        in (await api.call("POST", "/donors", {"name": "X", "type": "company", "colour": 1}))[1]["message"]
    )
    nested = await api.call("POST", "/items", {"items": [{"category": "laptop"}, {"category": "toaster"}]})
    assert nested[0] == 422 and nested[1]["message"].startswith("items.1.category")
    # A number SQLite cannot hold is refused at the door, by its place, not deep in the driver.
    huge = await api.call("POST", "/events", {"item_ids": [ids[0], 10**40], "step": {"state": "tested"}})
    assert huge == (422, {"code": "invalid", "message": "item_ids.1: the number is out of range"})
    assert (await api.call("GET", "/donors/\u0661"))[0] == 404  # an Arabic-Indic digit is not an id
    too_large = await api.call("POST", "/donors", raw=b" " * (21 * 1024 * 1024))
    assert (too_large[0], too_large[1]["code"]) == (413, "too_large")
    # Outside /api/v1 the middleware stays out of the way.
    elsewhere = await api.client.get("/nowhere", allow_redirects=False)
    assert elsewhere.status == 303 and elsewhere.content_type != "application/json"  # to the login page


@pytest.mark.parametrize(
    "raw",
    [b"", b"   ", b"{", b"{'name': 'X'}", b'{"name": "X", "name": "Y", "type": "company"}',
     b'{"name": NaN, "type": "company"}', b'{"n": Infinity}', b"\xff\xfe{}", b"[" * 100_000, b'{"a": 1} x'],
)  # fmt: skip
async def test_bad_json_is_400_and_changes_nothing(api, raw):
    before = await api.counts()
    status, error = await api.call("POST", "/donors", raw=raw)
    assert (status, error["code"]) == (400, "bad_json")
    assert await api.counts() == before


async def test_refused_input_changes_nothing(api):
    lot_id, ids = await make_lot(api, items=[{"category": "screen"}, {"category": "laptop"}])
    await make_ready(api, ids)
    person = await api.ok("POST", "/beneficiaries", {"category": "person"})
    before = await api.counts()
    refused = [
        # One item may not leave: neither does the other, and no record is signed.
        ("POST", "/distributions", {"item_ids": ids, "distribution": {"beneficiary_id": person["id"]}}),
        ("POST", "/events", {"item_ids": [*ids, 999], "step": {"state": "tested"}}),
        ("POST", "/items", {"lot_id": lot_id, "items": [{"category": "laptop"}, {"category": "tv"}]}),
        ("POST", "/items", {"lot_id": 999, "items": [{"category": "laptop"}]}),
        ("POST", "/lots", {"reference": "L-2", "donor_id": 999}),
        ("POST", "/erasures", {"item_id": 999, "method": "m", "level": "clear", "tool": "t",
                               "result": "success"}),
        ("POST", "/outflows", {"item_ids": [ids[0], 999], "recipient": "X", "waste_code": "16 02 14",
                               "treatment": "R4"}),
        ("PATCH", f"/items/{ids[0]}", {"weight_g": -5}),
        ("PUT", "/donors/999", {"name": "X", "type": "company"}),
        ("POST", "/beneficiaries", {"category": "person", "name": ""}),
    ]
    for method, path, body in refused:
        status, error = await api.call(method, path, body)
        assert 400 <= status < 500, (method, path, error)
        assert await api.counts() == before, (method, path)
    async with api.store.reader() as db:
        assert await db.value("SELECT count(*) FROM items WHERE state = 'ready'") == 2


@pytest.mark.parametrize(("path", "body"), [
    ("/items", {"items": [{"category": "laptop", "weight_g": False}]}),
    ("/items", {"items": [{"category": "laptop", "weight_g": True}]}),
    ("/items", {"items": [{"category": "laptop", "ram_mb": "8192"}]}),
    ("/items", {"items": [{"category": "laptop", "serial": 12345}]}),
    ("/lots", {"reference": "L-9", "declared_units": False}),
    ("/lots", {"reference": "L-9", "declared_units": "12"}),
    ("/beneficiaries", {"category": "person", "name": "   "}),
    ("/items", {"items": [{"category": "laptop", "model": "\t"}]}),
])  # fmt: skip
async def test_the_api_reads_json_as_its_schema_does(api, path, body):
    """No boolean or text for a number, no number for text, no blank text: what the OpenAPI file says."""
    before = await api.counts()
    status, error = await api.call("POST", path, body)
    assert (status, error["code"]) == (422, "invalid"), error
    assert await api.counts() == before


async def test_a_whole_number_written_with_a_decimal_point_is_a_whole_number(api):
    """JSON Schema's integer includes 1500.0: accepted as 1500; 1500.5 is not."""
    created = await api.ok("POST", "/items", {"items": [{"category": "laptop", "weight_g": 1500.0}]})
    assert (await api.ok("GET", f"/items/{created['items'][0]['id']}"))["item"]["weight_g"] == 1500
    status, error = await api.call("POST", "/items", {"items": [{"category": "laptop", "weight_g": 1500.5}]})
    assert (status, error["code"]) == (422, "invalid")


GARBAGE = [None, 1, "x", [], {}, {"item_ids": "1"}, {"items": [None]}, {"": {}}, {"step": {"state": 1}},
           {"distribution": []}, {"reason": ["a"]}]  # fmt: skip


@pytest.mark.parametrize("body", GARBAGE)
async def test_garbage_never_gives_a_500(api, body):
    await make_lot(api)
    before = await api.counts()
    for route in ROUTES:
        if route.method == "GET":
            continue
        path = route.path.replace("{id}", "1")
        status, error = await api.call(route.method, path, raw=json.dumps(body).encode())
        if (route.method, body) == ("PATCH", {}):  # an empty merge patch is valid: it changes nothing
            assert status == 200
            continue
        assert 400 <= status < 500 and set(error) == {"code", "message"}, (route.path, body, error)
    assert await api.counts() == before


# --- openapi.json -------------------------------------------------------------------------------


def openapi() -> dict[str, Any]:
    return json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = schema["$ref"].removeprefix("#/components/schemas/")
    return name, doc["components"]["schemas"][name]


async def test_openapi_lists_exactly_the_routes(api):
    doc = openapi()
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    served = {(route.method, route.resource.canonical) for route in api.client.app.router.routes()
              if route.resource.canonical.startswith(PREFIX + "/")}  # fmt: skip
    assert served == documented
    assert {(r.method, PREFIX + r.path) for r in ROUTES} == documented
    response = await api.client.get(PREFIX + "/openapi.json")  # no token needed
    assert response.status == 200 and await response.json() == doc
    assert doc["openapi"].startswith("3.1")


def test_openapi_bodies_are_the_input_models():
    doc = openapi()
    schemas = doc["components"]["schemas"]
    for route in ROUTES:
        op = doc["paths"][PREFIX + route.path][route.method.lower()]
        if route.body is None:
            assert "requestBody" not in op, route.path
            continue
        name, component = resolve(doc, op["requestBody"]["content"]["application/json"]["schema"])
        assert name == route.body.__name__
        expected = route.body.model_json_schema(ref_template=REF)
        defs = expected.pop("$defs", {})
        assert component == expected, f"{name} in openapi.json should be:\n{json.dumps(expected, indent=2)}"
        for sub, schema in defs.items():  # nested models (StepInput in StepsRequest...) are components too
            assert schemas[sub] == schema, f"{sub} in openapi.json should be:\n{json.dumps(schema, indent=2)}"


def test_openapi_parameters_and_errors():
    doc = openapi()
    assert doc["components"]["schemas"]["Error"]["required"] == ["code", "message"]
    for route in ROUTES:
        op = doc["paths"][PREFIX + route.path][route.method.lower()]
        params = op.get("parameters", [])
        assert {p["name"] for p in params if p["in"] == "path"} == ({"id"} if "{id}" in route.path else set())
        assert tuple(p["name"] for p in params if p["in"] == "query") == route.query, route.path
        responses = op["responses"]
        assert any(code.startswith("2") for code in responses)
        if route.public:
            assert op["security"] == []
            continue
        assert responses["401"] == {"$ref": "#/components/responses/Unauthorized"}
        assert ("403" in responses) == (route.method != "GET"), route.path
        assert ("400" in responses) == (route.body is not None), route.path
        for code, response in responses.items():
            if not code.startswith("2"):
                name = response["$ref"].removeprefix("#/components/responses/")
                error = doc["components"]["responses"][name]["content"]["application/json"]["schema"]
                assert error == {"$ref": "#/components/schemas/Error"}


async def test_storage_removal_components_and_step_names(api):
    _, ids = await make_lot(api, items=[{"category": "laptop"}, {"category": "laptop"}])
    await make_ready(api, ids)
    person = await api.ok("POST", "/beneficiaries", {"category": "person"})
    status, body = await api.call("POST", "/distributions",
                                  {"item_ids": ids[:1], "distribution": {"beneficiary_id": person["id"]}})  # fmt: skip
    assert (status, body["code"]) == (409, "erasure_required")
    await api.ok("POST", "/items/storage-removal", {"item_ids": ids[:1], "destroyed": True}, role="technician")
    await api.ok("POST", "/distributions", {"item_ids": ids[:1], "distribution": {"beneficiary_id": person["id"]}})

    part = await api.ok("POST", "/components", {"from_item": ids[0], "description": "RAM 8 Go"})
    await api.ok("POST", f"/components/{part['id']}/fit", {"to_item": ids[1]})
    status, body = await api.call("POST", f"/components/{part['id']}/fit", {"to_item": ids[1]})
    assert (status, body["code"]) == (409, "already_fitted")
    status, body = await api.call("POST", "/components/999/fit", {"to_item": ids[1]})
    assert status == 404

    status, _ = await api.call("POST", "/steps", {"name": "Banc de test", "state": "tested"}, role="technician")
    assert status == 403
    await api.ok("POST", "/steps", {"name": "Banc de test", "state": "tested"})
    assert (await api.ok("GET", "/steps", role="read_only"))["steps"] == {"Banc de test": "tested"}
    await api.ok("POST", "/events", {"item_ids": ids[1:], "step": {"step": "Banc de test"}})
    assert (await api.ok("GET", f"/items/{ids[1]}"))["item"]["state"] == "tested"


async def test_erased_comes_from_an_erasure_record_not_from_a_step(api):
    """Issue 19: POST /events cannot make an item erased; POST /erasures does, once each disk is proven."""
    _, [laptop, keyboard] = await make_lot(api, items=[{"category": "laptop", "serial": "PF-9"},
                                                       {"category": "peripheral"}])  # fmt: skip
    await api.ok("POST", "/events", {"item_ids": [laptop], "step": {"state": "tested"}})
    before = await api.counts()
    status, error = await api.call("POST", "/events", {"item_ids": [laptop], "step": {"state": "erased"}})
    assert (status, error["code"]) == (409, "erasure_proof_required") and "erasure" in error["message"]
    status, error = await api.call("POST", "/steps", {"name": "Passage nwipe", "state": "erased"})
    assert (status, error["code"]) == (409, "erasure_proof_required")
    # a keyboard gets no operating system; the batch is refused whole
    status, error = await api.call("POST", "/events", {"item_ids": [laptop, keyboard],
                                                       "step": {"state": "refurbished", "os": "Debian"}})  # fmt: skip
    assert (status, error["code"]) == (409, "step_not_for_category")
    status, error = await api.call("POST", "/items/storage-removal", {"item_ids": [keyboard], "destroyed": True})
    assert (status, error["code"]) == (409, "step_not_for_category")
    assert await api.counts() == before
    view = await api.ok("GET", f"/items/{laptop}")
    assert view["item"]["state"] == "tested" and view["erasure_required"]
    await api.ok("POST", "/erasures", {"host_serial": "PF-9", "method": "PRNG Stream", "level": "clear",
                                       "tool": "nwipe", "result": "success"})  # fmt: skip
    view = await api.ok("GET", f"/items/{laptop}")
    assert view["item"]["state"] == "erased" and not view["erasure_required"]
    assert view["history"][-1]["step"] == "erasure_proven"
