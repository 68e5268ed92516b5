"""The wire: canonical msgpack, identities, signed records, logs, Merkle trees,
sealed content and signed requests between nodes.

Pure: no I/O, and no import of ``node``, ``federation`` or ``web_ui``.
PROTOCOL.md at the repository root is the contract this package implements.

Import what you use from its module (``protocol.records``, ``protocol.keys``...):
this file imports nothing, so that a command needing only keys does not load the
record kinds and pydantic under them. Every record kind is known once
``protocol.records`` or ``protocol.custody_kinds`` is imported (the later kinds
add themselves to ``protocol.kinds.KINDS``).
"""
