-- stockkit schema, version 1 (SQLite).
-- Times are integers: microseconds since 1970-01-01 UTC. Dates are ISO text.
-- CHECK constraints make negative stock impossible even for a buggy caller.

CREATE TABLE warehouses (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    active INTEGER NOT NULL CHECK (active IN (0, 1)),
    street1 TEXT NOT NULL,
    street2 TEXT NOT NULL,
    street3 TEXT NOT NULL,
    city TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    region_code TEXT NOT NULL,
    country_code TEXT NOT NULL,
    latitude REAL CHECK (latitude BETWEEN -90 AND 90),
    longitude REAL CHECK (longitude BETWEEN -180 AND 180),
    CHECK (active = 0 OR (latitude IS NOT NULL AND longitude IS NOT NULL))
);

CREATE TABLE channels (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE channel_links (
    channel TEXT NOT NULL REFERENCES channels (code),
    warehouse TEXT NOT NULL REFERENCES warehouses (code),
    priority INTEGER NOT NULL,
    PRIMARY KEY (channel, warehouse)
) WITHOUT ROWID;

CREATE TABLE products (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    display_date INTEGER,
    expiration_date INTEGER,
    config TEXT NOT NULL
);

CREATE TABLE skus (
    product TEXT NOT NULL REFERENCES products (code),
    code TEXT NOT NULL,
    published INTEGER NOT NULL CHECK (published IN (0, 1)),
    purchasable INTEGER NOT NULL CHECK (purchasable IN (0, 1)),
    PRIMARY KEY (product, code)
) WITHOUT ROWID;

CREATE TABLE levels (
    sku TEXT NOT NULL,
    warehouse TEXT NOT NULL,
    on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
    safety INTEGER NOT NULL CHECK (safety >= 0),
    booked INTEGER NOT NULL CHECK (booked >= 0),
    incoming INTEGER NOT NULL CHECK (incoming >= 0),
    version INTEGER NOT NULL CHECK (version >= 0),
    PRIMARY KEY (sku, warehouse)
) WITHOUT ROWID;
CREATE INDEX levels_by_warehouse ON levels (warehouse);

CREATE TABLE orders (
    order_id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    lines TEXT NOT NULL,
    placed_at INTEGER NOT NULL,
    expires_at INTEGER
);

CREATE TABLE bookings (
    order_id TEXT NOT NULL,
    line_id TEXT NOT NULL,
    warehouse TEXT NOT NULL,
    sku TEXT NOT NULL,
    channel TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    expires_at INTEGER,
    PRIMARY KEY (order_id, line_id, warehouse)
) WITHOUT ROWID;
CREATE INDEX bookings_by_level ON bookings (sku, warehouse, expires_at);
CREATE INDEX bookings_by_expiry ON bookings (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE shipments (
    shipment_id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    line_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    warehouse TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    shipped_at INTEGER NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX shipments_by_order ON shipments (order_id);

CREATE TABLE transfers (
    transfer_id TEXT PRIMARY KEY,
    sku TEXT NOT NULL,
    source TEXT NOT NULL,
    destination TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    created_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    closed_at INTEGER
);

CREATE TABLE replenishments (
    replenishment_id TEXT PRIMARY KEY,
    sku TEXT NOT NULL,
    warehouse TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    expected_on TEXT NOT NULL,
    received INTEGER NOT NULL CHECK (received BETWEEN 0 AND quantity),
    status TEXT NOT NULL
);
CREATE INDEX replenishments_by_level ON replenishments (sku, warehouse);

CREATE TABLE ledger (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    sku TEXT NOT NULL,
    warehouse TEXT NOT NULL,
    at INTEGER NOT NULL,
    on_hand INTEGER NOT NULL,
    safety INTEGER NOT NULL,
    booked INTEGER NOT NULL,
    incoming INTEGER NOT NULL,
    reason TEXT NOT NULL,
    order_id TEXT,
    line_id TEXT,
    reference TEXT,
    actor TEXT
);
CREATE INDEX ledger_by_level ON ledger (sku, warehouse);
CREATE INDEX ledger_by_time ON ledger (at);

-- The ledger is append-only: the database refuses UPDATE always, and DELETE unless the
-- pruning flag is raised inside the pruning transaction itself.
CREATE TABLE ledger_pruning (active INTEGER NOT NULL CHECK (active IN (0, 1)));
INSERT INTO ledger_pruning (active) VALUES (0);

CREATE TRIGGER ledger_is_append_only_update BEFORE UPDATE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the stockkit ledger is append-only: entries are never changed');
END;

CREATE TRIGGER ledger_is_append_only_delete BEFORE DELETE ON ledger
WHEN (SELECT active FROM ledger_pruning) = 0
BEGIN
    SELECT RAISE(ABORT, 'the stockkit ledger is append-only: prune it with Inventory.prune_ledger');
END;

CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    result TEXT NOT NULL
);

CREATE TABLE sequences (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
