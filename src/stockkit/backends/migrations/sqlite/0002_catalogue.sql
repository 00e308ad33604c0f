-- stockkit schema, version 2 (SQLite): catalogue rules.
-- Finding the products of a SKU code, a set-based product status sweep, and the named
-- availability estimates products may be assigned.

CREATE INDEX skus_by_code ON skus (code, product);
CREATE INDEX products_due_to_expire ON products (expiration_date) WHERE status IN ('approved', 'scheduled');
CREATE INDEX products_due_to_show ON products (display_date) WHERE status = 'scheduled';

CREATE TABLE availability_estimates (
    key TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    priority INTEGER NOT NULL
);
