"""Talking to other nodes: transport, trust, replication, hand-offs, aggregation."""
