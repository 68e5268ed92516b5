"""The federation's storage: peers, logs held, the outbox, hand-offs, transparency, members' reports."""
