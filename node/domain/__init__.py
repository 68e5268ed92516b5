"""The reuse domain: donors, lots, items, the workshop's steps, erasure, distribution, figures."""
