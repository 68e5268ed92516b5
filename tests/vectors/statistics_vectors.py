"""Known answers of PROTOCOL.md's "Statistics": summing figures, the periods inside a period, the publication rule.

Written into ``statistics.json`` by ``generate.py``; ``tests/node/test_statistics_vectors.py``
checks this implementation against them. Keys are hex; an audience of ``[]`` is public.
"""

from __future__ import annotations

import hashlib
from typing import Any

from node.domain.publication import reaches
from node.network.regional import sum_figures
from node.network.summary_rules import Contribution, parts, publish, staff_once


def _key(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest()


HUB, NATIONAL = _key("hub"), _key("national")
A, B, C, D = (_key(n) for n in ("member a", "member b", "member c", "member d"))
HUB_ONLY = {m: sorted([m, HUB]) for m in (A, B, C, D)}

SUMS = [
    ("counts_and_weights_added", [{"received.laptop.units": 10, "received.laptop.weight_g": 20_000},
                                  {"received.laptop.units": 4, "recycled.weight_g": 1_000}]),
    ("reuse_rate_recomputed_half_up", [{"distributed.laptop.units": 6, "recycled.laptop.units": 2,
                                        "reuse_rate_permille": 750},
                                       {"distributed.desktop.units": 1, "dismantled.desktop.units": 1,
                                        "transferred.desktop.units": 5, "reuse_rate_permille": 500}]),
    ("lead_time_weighted_by_fates", [{"distributed.laptop.units": 6, "recycled.laptop.units": 2,
                                      "lead_time.mean_days": 10, "lead_time.median_days": 9},
                                     {"distributed.desktop.units": 1, "dismantled.desktop.units": 1,
                                      "lead_time.mean_days": 40, "lead_time.median_days": 41}]),
    ("impact_years_kept_when_equal", [{"impact.years": 4}, {"impact.years": 4, "impact.co2e_g": 5}]),
    ("impact_years_left_out_when_not", [{"impact.years": 4}, {"impact.years": 5}]),
    ("flows_added", [{"entered.laptop.units": 10, "moved_out.laptop.units": 8, "lots.from_donors": 1,
                      "donors.count": 1},
                     {"moved_in.laptop.units": 8, "received.laptop.units": 8, "left.laptop.units": 1}]),
]

PUBLICATION = [
    # (name, summary readers (None: none), min_members, [(author, audience, figures)])
    ("all_public_as_is", sorted([HUB, NATIONAL]), 3,
     [(A, [], {"received.laptop.units": 5}), (B, [], {"received.laptop.units": 2})]),
    ("three_hidden_pooled_one_withheld", sorted([HUB, NATIONAL]), 3,
     [(A, [], {"received.laptop.units": 5, "beneficiaries.person": 2}),
      (B, HUB_ONLY[B], {"received.laptop.units": 3, "workforce.volunteers": 7}),
      (C, HUB_ONLY[C], {"received.laptop.units": 2}), (D, HUB_ONLY[D], {"received.laptop.units": 1})]),
    ("one_hidden_beside_public_withheld", sorted([HUB, NATIONAL]), 3,
     [(A, [], {"distributed.laptop.units": 5}), (B, [], {"distributed.laptop.units": 4}),
      (C, [], {"distributed.laptop.units": 3}), (D, HUB_ONLY[D], {"distributed.laptop.units": 9})]),
    ("reuse_rate_counts_fate_carriers", sorted([HUB, NATIONAL]), 2,
     [(A, HUB_ONLY[A], {"distributed.laptop.units": 5}), (B, HUB_ONLY[B], {"recycled.desktop.units": 5})]),
    ("hub_readers_only_reach_everyone", [HUB], 3,
     [(A, HUB_ONLY[A], {"received.laptop.units": 5})]),
    ("public_summary_hides_the_network", [], 2,
     [(A, sorted([A, B, HUB]), {"received.laptop.units": 5}), (B, sorted([A, B, HUB]), {"received.laptop.units": 1}),
      (C, [], {"received.screen.units": 2})]),
]

PERIODS = ["2025", "2025-Q3", "2025-07"]

STAFF = [
    # (name, [(author, period, figures)]): reports summed together in one regional.summary/2
    ("months_of_one_member_staff_once", [
        (A, "2025-01", {"received.laptop.units": 1, "workforce.fte_hundredths": 450, "workforce.volunteers": 12}),
        (A, "2025-03", {"received.laptop.units": 3, "workforce.fte_hundredths": 500}),
        (A, "2025-02", {"received.laptop.units": 2, "workforce.fte_hundredths": 450, "workforce.volunteers": 12}),
        (B, "2025-Q1", {"received.laptop.units": 10, "workforce.fte_hundredths": 200})]),
]


def statistics_vectors() -> dict[str, Any]:
    sums = [{"name": name, "reports": reports, "sum": sum_figures(reports)} for name, reports in SUMS]
    publication = []
    for name, readers, k, reports in PUBLICATION:
        contributions = [Contribution(author, figures, reaches(tuple(audience), tuple(readers)))
                         for author, audience, figures in reports]  # fmt: skip
        summed = sum_figures(figures for _, _, figures in reports)
        published = publish(summed, contributions, k)
        publication.append({
            "name": name, "summary_audience": [r.hex() for r in readers], "min_members": k,
            "reports": [{"author": a.hex(), "audience": [r.hex() for r in audience], "figures": f}
                        for a, audience, f in reports],
            "figures": published.figures, "pooled": published.pooled, "withheld": published.withheld,
        })  # fmt: skip
    return {
        "description": "PROTOCOL.md, 'Statistics'. 'sums': the figures of 'reports' summed as 'Summing figures' "
                       "says. 'publication': the summed figures of 'reports' under the publication rule of "
                       "regional.summary/2, for a summary of audience 'summary_audience' ([] public) and "
                       "'min_members': its 'figures', 'pooled' and 'withheld'. 'parts': for a period, the "
                       "periods that stand for it when a member sent no report for it, coarsest first. 'staff': the "
                       "reports (author, period, figures) summed in one regional.summary/2, each author's "
                       "workforce figures counted once ('Staff once'): their 'sum'.",
        "sums": sums,
        "publication": publication,
        "parts": [{"period": p, "parts": [{"period": part, "parts": below} for part, below in parts(p)]}
                  for p in PERIODS],
        "staff": [{"name": name,
                   "reports": [{"author": a.hex(), "period": p, "figures": f} for a, p, f in reports],
                   "sum": sum_figures(staff_once(reports))} for name, reports in STAFF],
    }
