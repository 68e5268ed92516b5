"""What the pages read beside the domain's own queries: lists, dashboards, counts."""
