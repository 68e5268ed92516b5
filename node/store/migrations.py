"""Versioned schema migrations, applied in order at open by ``Store``.

Never edit a migration that has shipped: add the next one. Money is in
cents, weights in grams, times in integer milliseconds UTC, calendar dates
as ISO text (YYYY-MM-DD).
"""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

_V1 = """
CREATE TABLE log_records (
    author   BLOB NOT NULL,
    seq      INTEGER NOT NULL,
    id       BLOB NOT NULL UNIQUE,
    kind     TEXT NOT NULL,
    time     INTEGER NOT NULL,
    envelope BLOB NOT NULL,
    content  BLOB,
    PRIMARY KEY (author, seq)
) STRICT;

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;

CREATE TABLE donors (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    type          TEXT NOT NULL CHECK (type IN ('public_body', 'company', 'association')),
    siret         TEXT,
    contact_name  TEXT,
    contact_email TEXT,
    contact_phone TEXT,
    address       TEXT,
    created       INTEGER NOT NULL
) STRICT;

CREATE TABLE lots (
    id               INTEGER PRIMARY KEY,
    reference        TEXT NOT NULL UNIQUE,
    donor_id         INTEGER REFERENCES donors (id),
    received_on      TEXT,
    source           TEXT NOT NULL CHECK (source IN ('direct', 'hub', 'handoff')),
    site             TEXT,
    declared_units   INTEGER CHECK (declared_units >= 0),
    declared_weight_g INTEGER CHECK (declared_weight_g >= 0),
    counted_units    INTEGER CHECK (counted_units >= 0),
    weighed_g        INTEGER CHECK (weighed_g >= 0),
    orientations     TEXT NOT NULL DEFAULT '[]',
    created          INTEGER NOT NULL
) STRICT;
CREATE INDEX lots_donor ON lots (donor_id);

CREATE TABLE documents (
    id       INTEGER PRIMARY KEY,
    donor_id INTEGER REFERENCES donors (id),
    lot_id   INTEGER REFERENCES lots (id),
    kind     TEXT NOT NULL CHECK (kind IN ('convention', 'pickup_note', 'erasure_log', 'other')),
    filename TEXT NOT NULL,
    sha256   TEXT NOT NULL,
    size     INTEGER NOT NULL,
    created  INTEGER NOT NULL,
    CHECK (donor_id IS NOT NULL OR lot_id IS NOT NULL)
) STRICT;

CREATE TABLE items (
    id           INTEGER PRIMARY KEY,
    gid          TEXT NOT NULL UNIQUE,
    asset_tag    TEXT NOT NULL UNIQUE,
    lot_id       INTEGER REFERENCES lots (id),
    donor_asset  TEXT,
    category     TEXT NOT NULL,
    brand        TEXT,
    model        TEXT,
    serial       TEXT,
    cpu          TEXT,
    ram_mb       INTEGER CHECK (ram_mb >= 0),
    storage      TEXT NOT NULL DEFAULT 'unknown'
                 CHECK (storage IN ('unknown', 'none', 'present', 'removed')),
    storage_type TEXT,
    storage_gb   INTEGER CHECK (storage_gb >= 0),
    screen_in10  INTEGER CHECK (screen_in10 >= 0),
    battery_pct  INTEGER CHECK (battery_pct BETWEEN 0 AND 100),
    weight_g     INTEGER NOT NULL CHECK (weight_g >= 0),
    grade        TEXT,
    state        TEXT NOT NULL,
    state_since  INTEGER NOT NULL,
    created      INTEGER NOT NULL
) STRICT;
CREATE INDEX items_lot ON items (lot_id);
CREATE INDEX items_serial ON items (serial COLLATE NOCASE);
CREATE INDEX items_donor_asset ON items (donor_asset COLLATE NOCASE);
CREATE INDEX items_model ON items (model COLLATE NOCASE);
CREATE INDEX items_asset_tag ON items (asset_tag COLLATE NOCASE);
CREATE INDEX items_state ON items (state, category);
CREATE INDEX items_category ON items (category);

CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    item_id   INTEGER NOT NULL REFERENCES items (id),
    time      INTEGER NOT NULL,
    state     TEXT NOT NULL,
    step      TEXT,
    detail    TEXT NOT NULL DEFAULT '{}',
    operator  TEXT,
    corrects  INTEGER REFERENCES events (id),
    record_id BLOB
) STRICT;
CREATE INDEX events_item ON events (item_id, id);
CREATE INDEX events_time ON events (time, state);

CREATE TABLE steps (
    name  TEXT PRIMARY KEY,
    state TEXT NOT NULL
) STRICT;

CREATE TABLE erasures (
    id              INTEGER PRIMARY KEY,
    item_id         INTEGER REFERENCES items (id),
    disk_serial     TEXT,
    disk_model      TEXT,
    disk_size_bytes INTEGER CHECK (disk_size_bytes >= 0),
    host_serial     TEXT,
    method          TEXT NOT NULL,
    level           TEXT NOT NULL CHECK (level IN ('clear', 'purge', 'destroy')),
    tool            TEXT NOT NULL,
    tool_version    TEXT,
    passes          INTEGER CHECK (passes >= 0),
    verification    TEXT,
    result          TEXT NOT NULL CHECK (result IN ('success', 'failure')),
    operator        TEXT,
    time            INTEGER NOT NULL,
    evidence_sha256 TEXT,
    source          TEXT NOT NULL DEFAULT 'manual'
) STRICT;
CREATE INDEX erasures_item ON erasures (item_id);
CREATE INDEX erasures_disk ON erasures (disk_serial);
CREATE INDEX erasures_host ON erasures (host_serial);

CREATE TABLE components (
    id          INTEGER PRIMARY KEY,
    from_item   INTEGER NOT NULL REFERENCES items (id),
    to_item     INTEGER REFERENCES items (id),
    description TEXT NOT NULL,
    harvested   INTEGER NOT NULL,
    fitted      INTEGER
) STRICT;

CREATE TABLE beneficiaries (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    category    TEXT NOT NULL CHECK (category IN ('person', 'association', 'school', 'ess', 'other')),
    referrer    TEXT,
    name        TEXT,
    contact     TEXT,
    created     INTEGER NOT NULL,
    erase_after INTEGER,
    erased      INTEGER
) STRICT;

CREATE TABLE distributions (
    id              INTEGER PRIMARY KEY,
    item_id         INTEGER NOT NULL REFERENCES items (id),
    beneficiary_id  INTEGER NOT NULL REFERENCES beneficiaries (id),
    price_cents     INTEGER NOT NULL CHECK (price_cents >= 0),
    override_reason TEXT,
    event_id        INTEGER NOT NULL REFERENCES events (id),
    time            INTEGER NOT NULL
) STRICT;
CREATE INDEX distributions_item ON distributions (item_id);

CREATE TABLE outflows (
    id         INTEGER PRIMARY KEY,
    time       INTEGER NOT NULL,
    recipient  TEXT NOT NULL,
    waste_code TEXT NOT NULL,
    weight_g   INTEGER NOT NULL CHECK (weight_g >= 0),
    treatment  TEXT NOT NULL,
    note       TEXT
) STRICT;

CREATE TABLE outflow_items (
    outflow_id INTEGER NOT NULL REFERENCES outflows (id),
    item_id    INTEGER NOT NULL UNIQUE REFERENCES items (id),
    PRIMARY KEY (outflow_id, item_id)
) STRICT;
"""

_V2 = """
CREATE TABLE api_tokens (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,
    sha256  BLOB NOT NULL UNIQUE,
    role    TEXT NOT NULL CHECK (role IN ('admin', 'technician', 'read_only')),
    created INTEGER NOT NULL,
    revoked INTEGER
) STRICT;

CREATE TABLE stations (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,
    sha256  BLOB NOT NULL UNIQUE,
    created INTEGER NOT NULL,
    revoked INTEGER
) STRICT;

-- Statistics read items by their fate and its date.
CREATE INDEX items_state_since ON items (state, state_since);
"""

_V3 = """
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'technician', 'read_only')),
    language      TEXT NOT NULL DEFAULT 'fr',
    created       INTEGER NOT NULL,
    disabled      INTEGER
) STRICT;

CREATE TABLE sessions (
    sha256   BLOB PRIMARY KEY,
    user_id  INTEGER NOT NULL REFERENCES users (id),
    csrf     TEXT NOT NULL,
    created  INTEGER NOT NULL,
    expires  INTEGER NOT NULL
) STRICT;

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    time    INTEGER NOT NULL,
    user_id INTEGER REFERENCES users (id),
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT,
    detail  TEXT
) STRICT;
CREATE INDEX audit_time ON audit (time);

-- What the pages look up: an item's parts, a donor's or lot's documents,
-- a beneficiary's items, the signed reports of the node's log.
CREATE INDEX components_from ON components (from_item);
CREATE INDEX components_to ON components (to_item);
CREATE INDEX documents_donor ON documents (donor_id);
CREATE INDEX documents_lot ON documents (lot_id);
CREATE INDEX distributions_beneficiary ON distributions (beneficiary_id);
CREATE INDEX log_records_kind ON log_records (author, kind, seq);
"""

_V4 = """
-- The federation (federation/): nodes this one trusts, what it sends them,
-- what it must show its admin. Records of every author live in log_records.

-- Keys pinned at a join, an invitation or by an admin; discovery never adds one.
-- relation: what the peer is to this node: 'upstream' admitted it (its hub,
-- or national for a hub), 'downstream' was admitted by it, 'peer' otherwise
-- (a peered network's hub, a node added by hand).
CREATE TABLE peers (
    key            BLOB PRIMARY KEY CHECK (length(key) = 32),
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('member', 'hub', 'national')),
    relation       TEXT NOT NULL CHECK (relation IN ('upstream', 'downstream', 'peer')),
    url            TEXT,              -- base URL; NULL when it cannot be reached (behind NAT)
    encryption_key BLOB,              -- X25519 public key from its descriptor
    network        TEXT,
    state          TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'revoked', 'rotated')),
    revoked_from   INTEGER,           -- its records from this seq on are refused
    added          INTEGER NOT NULL,
    last_contact   INTEGER,           -- last valid signed exchange, either way
    failures       INTEGER NOT NULL DEFAULT 0,  -- consecutive failed sends
    next_attempt   INTEGER NOT NULL DEFAULT 0,  -- back-off: no send before this time
    last_error     TEXT,
    mailbox_cursor INTEGER NOT NULL DEFAULT 0   -- what was pulled from its mailbox
) STRICT;

-- One-time tokens a hub (or national) gives to a node that will join it.
CREATE TABLE invitations (
    id      INTEGER PRIMARY KEY,
    sha256  BLOB NOT NULL UNIQUE,     -- of the token; the token itself is shown once
    role    TEXT NOT NULL CHECK (role IN ('member', 'hub')),
    note    TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    used    INTEGER,
    used_by BLOB
) STRICT;

-- Records to send, per peer; a row goes once the peer has the record. The
-- id is also the cursor of a peer that pulls its mailbox (behind NAT).
CREATE TABLE outbox (
    id        INTEGER PRIMARY KEY,
    peer      BLOB NOT NULL REFERENCES peers (key),
    record_id BLOB NOT NULL REFERENCES log_records (id),
    queued    INTEGER NOT NULL,
    UNIQUE (peer, record_id)
) STRICT;

-- The content of a record with an audience as it travels: sealed to that
-- audience (own records are sealed once; relayed ones kept as received).
CREATE TABLE sealed (
    record_id BLOB PRIMARY KEY REFERENCES log_records (id),
    sealed    BLOB NOT NULL
) STRICT;

-- Authors caught with two records of one seq: nothing more is accepted from
-- them; the other envelope is kept as proof.
CREATE TABLE frozen_authors (
    author   BLOB PRIMARY KEY,
    time     INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    evidence BLOB NOT NULL
) STRICT;

-- What the admin must see: forks, records refused either way, with reasons.
CREATE TABLE alerts (
    id     INTEGER PRIMARY KEY,
    time   INTEGER NOT NULL,
    kind   TEXT NOT NULL,
    peer   BLOB,
    author BLOB,
    seq    INTEGER,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    seen   INTEGER
) STRICT;
CREATE INDEX alerts_time ON alerts (time);
"""

_V5 = """
-- The item list and its search (node.domain.items.find_items) answered from indexes
-- alone: a model prefix with filters (state, category, lot), a lot or a donor's
-- lots with a state, and a state alone in id order (newest first, no sort).
CREATE INDEX items_model_filters ON items (model COLLATE NOCASE, state, category, lot_id);
DROP INDEX items_model;
CREATE INDEX items_lot_filters ON items (lot_id, state, category);
DROP INDEX items_lot;
CREATE INDEX items_state_list ON items (state);
"""

_V6 = """
-- The ids alone, in order: the item list skips to its page (OFFSET) and counts
-- all items on this narrow index, not on the table's rows (13 times its pages).
CREATE INDEX items_newest ON items (id);
"""

_V7 = """
-- Lot hand-offs between nodes (node.network.handoffs): one row per offer, on both
-- sides; 'out' on the node that offers (A), 'in' on the one offered (B).
CREATE TABLE handoffs (
    offer      BLOB PRIMARY KEY,       -- the lot.offer/1 record id
    direction  TEXT NOT NULL CHECK (direction IN ('out', 'in')),
    peer       BLOB NOT NULL,          -- the other node: B when out, A when in
    lot_id     INTEGER REFERENCES lots (id),  -- out: the lot offered; in: the lot made at the receipt
    lot_ref    TEXT NOT NULL,          -- A's reference
    state      TEXT NOT NULL CHECK (state IN ('offered', 'accepted', 'declined', 'cancelled', 'received')),
    units      INTEGER NOT NULL,
    weight_g   INTEGER NOT NULL,
    expires    INTEGER NOT NULL,
    created    INTEGER NOT NULL,
    updated    INTEGER NOT NULL,
    answer     BLOB,                   -- the accept, decline or cancel record
    receipt    BLOB,                   -- the lot.receipt/1 record
    reason     TEXT,
    units_counted INTEGER,
    weighed_g  INTEGER
) STRICT;
CREATE INDEX handoffs_state ON handoffs (direction, state);
CREATE INDEX handoffs_lot ON handoffs (lot_id);

-- The manifest of an offer: out, the item offered; in, the line until the receipt.
CREATE TABLE handoff_items (
    offer    BLOB NOT NULL REFERENCES handoffs (offer),
    gid      TEXT NOT NULL,
    item_id  INTEGER REFERENCES items (id),
    line     TEXT NOT NULL DEFAULT '{}',  -- in: the manifest line (JSON)
    outcome  TEXT CHECK (outcome IN ('received', 'missing')),
    damaged  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (offer, gid)
) STRICT;
CREATE INDEX handoff_items_item ON handoff_items (item_id);
CREATE INDEX handoff_items_gid ON handoff_items (gid);

-- Where an item came from when another node handed it over.
ALTER TABLE items ADD COLUMN origin_node BLOB;
ALTER TABLE items ADD COLUMN origin_offer BLOB;
ALTER TABLE items ADD COLUMN origin_receipt BLOB;

-- What became of items after they left this node, as the node holding them
-- reported it (item.fates/1), directly or forwarded along the chain.
CREATE TABLE downstream_fates (
    item_id   INTEGER NOT NULL REFERENCES items (id),
    record_id BLOB NOT NULL,
    reporter  BLOB NOT NULL,
    fate      TEXT NOT NULL,
    time      INTEGER NOT NULL,
    beneficiary_category TEXT,
    weight_g  INTEGER,
    to_node   BLOB,
    superseded INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (item_id, record_id)
) STRICT;
CREATE INDEX downstream_fates_record ON downstream_fates (record_id);
"""

_V8 = """
-- The transparency log of a hub or national node (node.network.transparency): leaf
-- idx (from 0, no gaps) is the record accepted idx-th; its leaf hash is the
-- RFC 9162 hash of the record's envelope bytes, kept to be checked again.
CREATE TABLE transparency_leaves (
    idx       INTEGER PRIMARY KEY,
    record_id BLOB NOT NULL UNIQUE,
    leaf_hash BLOB NOT NULL
) STRICT;

-- A member's own records its upstream proved to hold in its transparency log:
-- the latest checkpoint (seq in the upstream's log, tree size) that included it.
CREATE TABLE inclusions (
    record_id      BLOB PRIMARY KEY,
    checkpoint_seq INTEGER NOT NULL,
    tree_size      INTEGER NOT NULL,
    leaf_index     INTEGER NOT NULL,
    verified_at    INTEGER NOT NULL
) STRICT;
"""

_V9 = """
-- A national node's audit of each hub's transparency log (node.network.national): the
-- last checkpoint proved consistent with the ones before, or the flag that
-- the hub rewrote its history (kept until an admin looks).
CREATE TABLE audited_logs (
    hub            BLOB PRIMARY KEY,
    checkpoint_seq INTEGER NOT NULL,
    tree_size      INTEGER NOT NULL,
    root           BLOB NOT NULL,
    checked_at     INTEGER NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('consistent', 'rewritten')),
    detail         TEXT NOT NULL DEFAULT ''
) STRICT;

-- When the invited node's membership began (millis), if before it joins: a
-- network that adopts Maillon enrols its members with their real start, so
-- their reports for earlier periods count. NULL: from the join.
ALTER TABLE invitations ADD COLUMN member_since INTEGER;

-- Records of one kind whoever wrote them (a hub's members' reports, key rotations).
CREATE INDEX log_records_by_kind ON log_records (kind, author);

-- Fates a node forwarded up the chain (node.network.handoff_fates.fates_received): the
-- item.fates/1 it received (source) went on to origin as its own record
-- (forwarded), so that a correction of the source corrects the forwarded one.
CREATE TABLE fates_forwarded (
    source    BLOB NOT NULL,
    origin    BLOB NOT NULL,
    forwarded BLOB NOT NULL,
    PRIMARY KEY (source, origin)
) STRICT;

-- When a peer answered that it holds one of this node's own records (node.network.outbox):
-- a hub's checkpoint signed well after it must include the record.
CREATE TABLE deliveries (
    record_id BLOB NOT NULL,
    peer      BLOB NOT NULL,
    at        INTEGER NOT NULL,
    PRIMARY KEY (record_id, peer)
) STRICT;
"""

_V10 = """
-- Full-text search of items (node.store.search): one row per item, the words of its
-- tag, serial, donor's asset number, lot, brand, model, category and donor, as
-- node.store.search.item_text makes them. The triggers keep it in the transaction
-- that changes the item, its lot or its donor; the function they call is
-- defined on every connection of the Store (node.store.search.FUNCTIONS).
CREATE VIEW item_search_texts AS
SELECT i.id, maillon_item_text(i.asset_tag, i.serial, i.donor_asset, l.reference, i.brand, i.model, i.category,
                               d.name) AS body
FROM items i LEFT JOIN lots l ON l.id = i.lot_id LEFT JOIN donors d ON d.id = l.donor_id;
CREATE VIRTUAL TABLE items_search USING fts5(body, tokenize = 'unicode61', prefix = '2 3 4 5 6 7 8',
                                            detail = none);
INSERT INTO items_search (rowid, body) SELECT id, body FROM item_search_texts;
CREATE TRIGGER items_search_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_search (rowid, body) SELECT id, body FROM item_search_texts WHERE id = NEW.id;
END;
CREATE TRIGGER items_search_update AFTER UPDATE OF asset_tag, serial, donor_asset, brand, model, category, lot_id
ON items BEGIN
    UPDATE items_search SET body = (SELECT body FROM item_search_texts WHERE id = NEW.id) WHERE rowid = NEW.id;
END;
CREATE TRIGGER items_search_delete AFTER DELETE ON items BEGIN
    DELETE FROM items_search WHERE rowid = OLD.id;
END;
CREATE TRIGGER items_search_lot AFTER UPDATE OF reference, donor_id ON lots BEGIN
    UPDATE items_search SET body = (SELECT body FROM item_search_texts t WHERE t.id = items_search.rowid)
    WHERE rowid IN (SELECT id FROM items WHERE lot_id = NEW.id);
END;
CREATE TRIGGER items_search_donor AFTER UPDATE OF name ON donors BEGIN
    UPDATE items_search SET body = (SELECT body FROM item_search_texts t WHERE t.id = items_search.rowid)
    WHERE rowid IN (SELECT i.id FROM items i JOIN lots l ON l.id = i.lot_id WHERE l.donor_id = NEW.id);
END;
"""

_V11 = """
-- Records received while the node could not sign (restored from a backup, its
-- own log not taken back yet) whose effect signs (a receipt's transfer, fates
-- passed on): held at once, their effect applied once it signs again
-- (federation.effects.apply_deferred).
CREATE TABLE deferred_effects (
    record_id BLOB PRIMARY KEY
) STRICT;
"""

_V12 = """
-- What the workshop probe saw of an item (node.domain.station); the raw outputs are kept by their SHA-256.
CREATE TABLE probes (
    id      INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items (id),
    station TEXT NOT NULL,
    time    INTEGER NOT NULL,
    sha256  TEXT NOT NULL,
    grade   TEXT,
    summary TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX probes_item ON probes (item_id, id);
CREATE INDEX probes_time ON probes (time);

-- The disks a probe last found in an item: matching by disk serial, and what an erasure must cover.
CREATE TABLE item_disks (
    item_id        INTEGER NOT NULL REFERENCES items (id),
    serial         TEXT NOT NULL,
    model          TEXT,
    size_bytes     INTEGER,
    type           TEXT,
    power_on_hours INTEGER,
    reallocated    INTEGER,
    passed         INTEGER,
    seen           INTEGER NOT NULL,
    PRIMARY KEY (item_id, serial)
) STRICT;
CREATE INDEX item_disks_serial ON item_disks (serial COLLATE NOCASE);
"""

_V13 = """
-- The labels an item carried at the nodes that held it before (node.domain.item_tags), as the
-- lot.offer/2 that brought it here listed them, oldest first (by rowid): found by a
-- search, a scan, and shown in its history. Its own label here stays items.asset_tag.
CREATE TABLE item_tags (
    item_id INTEGER NOT NULL REFERENCES items (id),
    tag     TEXT NOT NULL,
    node    BLOB,              -- the node whose offer listed it
    offer   BLOB,              -- that offer's record id
    since   INTEGER NOT NULL,  -- when it came here: the receipt's time
    PRIMARY KEY (item_id, tag)
) STRICT;
CREATE INDEX item_tags_tag ON item_tags (tag COLLATE NOCASE);

-- The search text gains the former tags (node.store.search.item_text's ninth argument).
-- No trigger on item_tags: a reception adds several tags per item, and a row's text made again per
-- tag cost more than making the items; node.domain.item_tags.keep_former_tags, their only writer, makes
-- each item's row again once, in the transaction that adds them.
DROP VIEW item_search_texts;
CREATE VIEW item_search_texts AS
SELECT i.id, maillon_item_text(i.asset_tag, i.serial, i.donor_asset, l.reference, i.brand, i.model, i.category,
                               d.name, (SELECT group_concat(t.tag, ' ') FROM item_tags t WHERE t.item_id = i.id))
       AS body
FROM items i LEFT JOIN lots l ON l.id = i.lot_id LEFT JOIN donors d ON d.id = l.donor_id;
"""

_V14 = """
-- The state "erased" now follows from erasure proofs (node.domain.erasure.settle), never from a button.
-- An item a button left in "erased" without proof goes back to the state it had before, by a
-- correction event that says why; its erasure can then be recorded (which moves it again).
-- Proven: every disk the probe found has a successful erasure with its serial, or one successful
-- erasure when the probe found none; or its storage was removed (node.domain.erasure.PROVEN).
CREATE TEMP TABLE unproven_erased AS
SELECT i.id AS item_id,
       (SELECT max(e.id) FROM events e WHERE e.item_id = i.id) AS last_event,
       coalesce((SELECT p.state FROM events p WHERE p.item_id = i.id AND p.state != 'erased'
                 ORDER BY p.id DESC LIMIT 1), 'received') AS back_to,
       CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) AS at
FROM items i
WHERE i.state = 'erased' AND i.storage != 'removed'
  AND NOT (EXISTS (SELECT 1 FROM erasures pe WHERE pe.item_id = i.id AND pe.result = 'success')
           AND NOT EXISTS (SELECT 1 FROM item_disks pd WHERE pd.item_id = i.id AND NOT EXISTS (
               SELECT 1 FROM erasures pe WHERE pe.item_id = i.id AND pe.result = 'success'
               AND pe.disk_serial = pd.serial COLLATE NOCASE)));
INSERT INTO events (item_id, time, state, step, detail, operator, corrects)
SELECT item_id, at, back_to, 'correction',
       '{"reason": "marked erased without an erasure record: record the erasure of its disks (or their removal)"}',
       'maillon', last_event
FROM unproven_erased ORDER BY item_id;
UPDATE items SET state = (SELECT u.back_to FROM unproven_erased u WHERE u.item_id = items.id),
                 state_since = (SELECT u.at FROM unproven_erased u WHERE u.item_id = items.id)
WHERE id IN (SELECT item_id FROM unproven_erased);
DROP TABLE unproven_erased;
-- An association's step mapped to "erased" can no longer be recorded: it goes.
DELETE FROM steps WHERE state = 'erased';
"""

_V15 = """
-- When an event happened, beside when it was recorded (node.domain.happened): a network
-- enters its past (a distribution of last March, a year of history imported), and
-- the figures count the day it happened. Rows written without it happened when
-- they were recorded: the trigger says so, for every writer.
ALTER TABLE events ADD COLUMN happened INTEGER;
UPDATE events SET happened = time;
CREATE TRIGGER events_happened AFTER INSERT ON events WHEN NEW.happened IS NULL BEGIN
    UPDATE events SET happened = NEW.time WHERE id = NEW.id;
END;
CREATE INDEX events_happened ON events (happened, state);
-- An erasure's time is when the disk was wiped; this is when it was recorded here.
ALTER TABLE erasures ADD COLUMN recorded INTEGER;
UPDATE erasures SET recorded = time;
"""

MIGRATIONS: list[str] = [_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9, _V10, _V11, _V12, _V13, _V14, _V15]
