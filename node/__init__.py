"""One sovereign node: configuration, identity, storage, the reuse domain, the CLI."""
