"""What the workshop hands out: item labels, donor reports, statistics and impact, CSV exports.

The pages are split by subject; this module gathers their routes for
``web_ui.app.PAGES``:

* ``outputs_labels``: ``/labels`` and ``/labels.pdf``;
* ``outputs_reports``: ``/reports``, ``POST /reports/donor``,
  ``/reports/donor/<record id>.mlnrec`` and ``/exports/<kind>.csv``;
* ``outputs_stats``: ``/reports/stats`` and ``/reports/stats.csv``;
* ``outputs_common``: what they share (error sentences, periods, downloads).
"""

from __future__ import annotations

from aiohttp import web

from web_ui.pages import outputs_labels, outputs_reports, outputs_stats

routes = web.RouteTableDef()
for _table in (outputs_labels.routes, outputs_reports.routes, outputs_stats.routes):
    for _route in _table:
        assert isinstance(_route, web.RouteDef)
        routes.route(_route.method, _route.path, **_route.kwargs)(_route.handler)
