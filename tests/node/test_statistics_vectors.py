"""This implementation of PROTOCOL.md's "Statistics" against the known answers of tests/vectors/statistics.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from node.domain.publication import reaches
from node.network.regional import sum_figures
from node.network.summary_rules import Contribution, parts, publish, staff_once

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "statistics.json").read_text())


@pytest.mark.parametrize("vector", VECTORS["sums"], ids=lambda v: v["name"])
def test_summing_figures(vector):
    assert sum_figures(vector["reports"]) == vector["sum"]


@pytest.mark.parametrize("vector", VECTORS["publication"], ids=lambda v: v["name"])
def test_the_publication_rule(vector):
    readers = tuple(bytes.fromhex(k) for k in vector["summary_audience"])
    reports = vector["reports"]
    contributions = [Contribution(bytes.fromhex(r["author"]), r["figures"],
                                  reaches(tuple(bytes.fromhex(k) for k in r["audience"]), readers)) for r in reports]
    published = publish(sum_figures(r["figures"] for r in reports), contributions, vector["min_members"])
    assert (published.figures, published.pooled, published.withheld) == (
        vector["figures"], vector["pooled"], vector["withheld"])  # fmt: skip


@pytest.mark.parametrize("vector", VECTORS["parts"], ids=lambda v: v["period"])
def test_the_periods_inside_a_period(vector):
    assert [{"period": p, "parts": below} for p, below in parts(vector["period"])] == vector["parts"]


@pytest.mark.parametrize("vector", VECTORS["staff"], ids=lambda v: v["name"])
def test_each_authors_staff_counts_once(vector):
    reports = [(bytes.fromhex(r["author"]), r["period"], r["figures"]) for r in vector["reports"]]
    assert sum_figures(staff_once(reports)) == vector["sum"]


def test_the_vectors_cover_every_outcome_of_the_rule():
    outcomes = {(bool(v["pooled"]), bool(v["withheld"])) for v in VECTORS["publication"]}
    assert outcomes >= {(False, False), (True, True), (False, True), (True, False)}
