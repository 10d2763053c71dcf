-- An infobase of store format 1 (the first), as Outpost made it: six objects with prefix K7, one
-- of them deleted. Dumped with apsw's shell (.dump); tests/core/test_migrations.py upgrades it.

-- The values of various per-database settings
PRAGMA page_size=4096;
-- PRAGMA encoding='UTF-8';
-- PRAGMA auto_vacuum=NONE;
-- PRAGMA max_page_count=4294967294;

BEGIN TRANSACTION;

-- Table  _conflicts
DROP TABLE IF EXISTS _conflicts;
CREATE TABLE _conflicts(
    n INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    entity TEXT NOT NULL,
    id TEXT NOT NULL,
    workstation TEXT,
    user TEXT,
    winner TEXT NOT NULL,                 -- cloud or workstation
    fields TEXT NOT NULL,                 -- JSON list of the fields both sides changed
    loser TEXT NOT NULL,                  -- JSON {"op", "fields"}: the version that lost
    kept TEXT,                            -- JSON {"op", "fields"}: the version that won
    restored_at REAL
);

-- Table  _counters
DROP TABLE IF EXISTS _counters;
CREATE TABLE _counters(entity TEXT PRIMARY KEY, next INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO _counters VALUES('counterparties',2);
INSERT INTO _counters VALUES('items',1);
INSERT INTO _counters VALUES('payments',0);
INSERT INTO _counters VALUES('sales_invoices',1);

-- Table  _history
DROP TABLE IF EXISTS _history;
CREATE TABLE _history(
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    origin TEXT,                          -- who made that version; NULL: the cloud itself
    body BLOB,                            -- its fields as JSON (sorted keys)
    PRIMARY KEY(id, version)
) WITHOUT ROWID;
INSERT INTO _history VALUES('46ce4b44-b2ab-45d1-a8d0-6764f999999b',10,NULL,X'7B22636F6465223A224B372D303030303032222C226E616D65223A22476F6E65222C227461785F6964223A6E756C6C7D');

-- Table  _journal
DROP TABLE IF EXISTS _journal;
CREATE TABLE _journal(
    seq INTEGER PRIMARY KEY,      -- the database's change sequence
    entity TEXT NOT NULL,
    id TEXT NOT NULL,             -- the object's id (the owner's, for tabular-section rows)
    op TEXT NOT NULL,             -- I, U or D: informational; sync reads the current state
    org TEXT,                     -- on deletes and moves: the organization the object had
    origin TEXT,                  -- who made the change, stamped by a sync apply; NULL = local
    at REAL                       -- unix time of an update or delete (for "newest wins");
                                  -- left out on inserts: a new object cannot conflict
);
INSERT INTO _journal VALUES(1,'organizations','e5c87817-82bf-4b22-b166-493894791709','I',NULL,NULL,NULL);
INSERT INTO _journal VALUES(2,'counterparties','c8d78b14-ade0-4d27-87a1-9d56881440aa','U',NULL,NULL,1795417281.4930067);
INSERT INTO _journal VALUES(3,'counterparties','c8d78b14-ade0-4d27-87a1-9d56881440aa','I',NULL,NULL,NULL);
INSERT INTO _journal VALUES(4,'items','cab27517-91c9-4b8a-a7cd-7db740fd65c7','U',NULL,NULL,1795417281.4930067);
INSERT INTO _journal VALUES(5,'items','cab27517-91c9-4b8a-a7cd-7db740fd65c7','I',NULL,NULL,NULL);
INSERT INTO _journal VALUES(6,'sales_invoices','b64d18aa-b770-43a5-9aa8-bcdabb5005fb','U',NULL,NULL,1795417281.4940124);
INSERT INTO _journal VALUES(7,'sales_invoices','b64d18aa-b770-43a5-9aa8-bcdabb5005fb','I',NULL,NULL,NULL);
INSERT INTO _journal VALUES(8,'sales_invoices','b64d18aa-b770-43a5-9aa8-bcdabb5005fb','U',NULL,NULL,1795417281.4940124);
INSERT INTO _journal VALUES(9,'counterparties','46ce4b44-b2ab-45d1-a8d0-6764f999999b','U',NULL,NULL,1795417281.4940124);
INSERT INTO _journal VALUES(10,'counterparties','46ce4b44-b2ab-45d1-a8d0-6764f999999b','I',NULL,NULL,NULL);
INSERT INTO _journal VALUES(11,'counterparties','46ce4b44-b2ab-45d1-a8d0-6764f999999b','D',NULL,NULL,1795417281.4940124);

-- Table  _meta
DROP TABLE IF EXISTS _meta;
CREATE TABLE _meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
INSERT INTO _meta VALUES('prefix','K7');
INSERT INTO _meta VALUES('schema','# The default application that ships with Outpost: a small accounting infobase.
# Format: docs/schema-format.md.
format = 1
name = "accounting"
version = 1

[entities.organizations]
kind = "catalog"
organization = "self"
fields = [
  { name = "name", type = "string", required = true, max_length = 200 },
  { name = "tax_id", type = "string", max_length = 32 },
]

[entities.counterparties]
kind = "catalog"
organization = "none"
fields = [
  { name = "code", type = "string", numbered = true, max_length = 32 },
  { name = "name", type = "string", required = true, max_length = 200 },
  { name = "tax_id", type = "string", max_length = 32 },
]

[entities.items]
kind = "catalog"
organization = "none"
fields = [
  { name = "code", type = "string", numbered = true, max_length = 32 },
  { name = "name", type = "string", required = true, max_length = 200 },
  { name = "unit", type = "string", max_length = 16 },
  { name = "price", type = "number" },
]

[entities.sales_invoices]
kind = "document"
organization = "organization"
fields = [
  { name = "number", type = "string", numbered = true, max_length = 32 },
  { name = "date", type = "date", required = true },
  { name = "organization", type = "ref", to = "organizations", required = true },
  { name = "counterparty", type = "ref", to = "counterparties", required = true },
  { name = "total", type = "number" },
  { name = "posted", type = "boolean" },
]

[entities.sales_invoices.sections.lines]
fields = [
  { name = "item", type = "ref", to = "items", required = true },
  { name = "quantity", type = "number", required = true },
  { name = "price", type = "number" },
  { name = "amount", type = "number" },
]

[entities.payments]
kind = "document"
organization = "organization"
fields = [
  { name = "number", type = "string", numbered = true, max_length = 32 },
  { name = "date", type = "date", required = true },
  { name = "organization", type = "ref", to = "organizations", required = true },
  { name = "counterparty", type = "ref", to = "counterparties", required = true },
  { name = "amount", type = "number", required = true },
  { name = "invoice", type = "ref", to = "sales_invoices" },
]
');
INSERT INTO _meta VALUES('schema_name','accounting');
INSERT INTO _meta VALUES('schema_version',1);
INSERT INTO _meta VALUES('store_format',1);

-- Table  _rejected
DROP TABLE IF EXISTS _rejected;
CREATE TABLE _rejected(
    id TEXT PRIMARY KEY,
    entity TEXT NOT NULL,
    reason TEXT NOT NULL,
    seq INTEGER NOT NULL,                 -- the journal position the refusal answered
    at REAL NOT NULL
) WITHOUT ROWID;

-- Table  _versions
DROP TABLE IF EXISTS _versions;
CREATE TABLE _versions(
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,   -- a tombstone: the object was deleted at `version`
    at REAL                               -- unix time of that change
) WITHOUT ROWID;
INSERT INTO _versions VALUES('46ce4b44-b2ab-45d1-a8d0-6764f999999b',11,1,1795417281.4949493);
INSERT INTO _versions VALUES('b64d18aa-b770-43a5-9aa8-bcdabb5005fb',8,0,1795417281.49448);
INSERT INTO _versions VALUES('c8d78b14-ade0-4d27-87a1-9d56881440aa',3,0,1795417281.4936135);
INSERT INTO _versions VALUES('cab27517-91c9-4b8a-a7cd-7db740fd65c7',5,0,1795417281.4939275);
INSERT INTO _versions VALUES('e5c87817-82bf-4b22-b166-493894791709',1,0,1795417281.4931054);

-- Table  counterparties
DROP TABLE IF EXISTS counterparties;
CREATE TABLE "counterparties"(id TEXT PRIMARY KEY NOT NULL, "code" TEXT, "name" TEXT, "tax_id" TEXT);
INSERT INTO counterparties VALUES('c8d78b14-ade0-4d27-87a1-9d56881440aa','K7-000001','Acme',NULL);
-- Triggers and indices on  counterparties
CREATE TRIGGER "_cap_counterparties_d" AFTER DELETE ON "counterparties" BEGIN INSERT INTO _journal(entity, id, op, org, at) VALUES ('counterparties', OLD.id, 'D', NULL, ((julianday('now') - 2440587.5) * 86400.0)); END;
CREATE TRIGGER "_cap_counterparties_i" AFTER INSERT ON "counterparties" BEGIN INSERT INTO _journal(entity, id, op) VALUES ('counterparties', NEW.id, 'I'); END;
CREATE TRIGGER "_cap_counterparties_k" AFTER UPDATE OF id ON "counterparties" WHEN OLD.id IS NOT NEW.id BEGIN INSERT INTO _journal(entity, id, op, org, at) VALUES ('counterparties', OLD.id, 'D', NULL, ((julianday('now') - 2440587.5) * 86400.0)); END;
CREATE TRIGGER "_cap_counterparties_u" AFTER UPDATE ON "counterparties" BEGIN INSERT INTO _journal(entity, id, op, org, at) VALUES ('counterparties', NEW.id, 'U', NULL, ((julianday('now') - 2440587.5) * 86400.0)); END;
CREATE TRIGGER "_num_counterparties" AFTER INSERT ON "counterparties" WHEN NEW."code" IS NULL OR NEW."code" = '' BEGIN UPDATE _counters SET next = next + 1 WHERE entity = 'counterparties'; UPDATE "counterparties" SET "code" = (SELECT COALESCE(value, '') FROM _meta WHERE key = 'prefix') || '-' || printf('%06d', (SELECT next FROM _counters WHERE entity = 'counterparties')) WHERE id = NEW.id; END;

-- Table  items
DROP TABLE IF EXISTS items;
CREATE TABLE "items"(id TEXT PRIMARY KEY NOT NULL, "code" TEXT, "name" TEXT, "unit" TEXT, "price" REAL);
INSERT INTO items VALUES('cab27517-91c9-4b8a-a7cd-7db740fd65c7','K7-000001','Widget','pcs',5.0);
-- Triggers and indices on  items
CREATE TRIGGER "_cap_items_d" AFTER DELETE ON "items" BEGIN INSERT INTO _journal(entity, id, op, org, at) VALUES ('items', OLD.id, 'D', NULL, ((julianday('now') - 2440587.5) * 86400.0)); END;
CREATE TRIGGER "_cap_items_i" AFTER INSERT ON "items" BEGIN INSERT INTO _journal(entity, id, op) VALUES ('items', NEW.id, 'I'); END;
CREATE TRIGGER "_cap_items_k" AFTER UPDATE OF id ON "items" WHEN OLD.id IS NOT NEW.id BEGIN INSERT INTO _journal(entity, id, op, org, at) VALUES ('items', OLD.id, 'D', NULL, ((julianday('now') - 2440587.5) * 86400.0)); END;
CREATE TRIGGER "_cap_items_u" AFTER UPDATE ON "items" BEGIN INSERT INTO _journal(entity, id, op, org, at) VALUES ('items', NEW.id, 'U', NULL, ((julianday('now') - 2440587.5) * 86400.0)); END;
CREATE TRIGGER "_num_items" AFTER INSERT ON "items" WHEN NEW."code" IS NULL OR NEW."code" = '' BEGIN UPDATE _counters SET next = next + 1 WHERE entity = 'items'; UPDATE "items" SET "code" = (SELECT COALESCE(value, '') FROM _meta WHERE key = 'prefix') || '-' || printf('%06d', (SELECT next FROM _counters WHERE entity = 'items')) WHERE id = NEW.id; END;

-- Table  organizations
DROP TABLE IF EXISTS organizations;
CREATE TABLE "organizations"(id TEXT PRIMARY KEY NOT NULL, "name" TEXT, "tax_id" TEXT);
INSERT INTO organizations VALUES('e5c87817-82bf-4b22-b166-493894791709','North','1');
-- Triggers and indices on  organizations
CREATE TRIGGER "_cap_organizations_d" AFTER DELETE ON "organizations" BEGIN INSERT INTO _journal(entity, id, op, org, at) VALUES ('organizations', OLD.id, 'D', OLD.id, ((julianday('now') - 2440587.5) * 86400.0)); END;
CREATE TRIGGER "_cap_organizations_i" AFTER INSERT ON "organizations" BEGIN INSERT INTO _journal(entity, id, op) VALUES ('organizations', NEW.id, 'I'); END;
CREATE TRIGGER "_cap_organizations_k" AFTER UPDATE OF id ON "organizations" WHEN OLD.id IS NOT NEW.id BEGIN INSERT INTO _journal(entity, id, op, org, at) VALUES ('organizations', OLD.id, 'D', OLD.id, ((julianday('now') - 2440587.5) * 86400.0)); END;
CREATE TRIGGER "_cap_organizations_u" AFTER UPDATE ON "organizations" BEGIN INSERT INTO _journal(entity, id, op, org, at) VALUES ('organizations', NEW.id, 'U', NULL, ((julianday('now') - 2440587.5) * 86400.0)); END;

-- Table  payments
DROP TABLE IF EXISTS payments;
CREATE TABLE "payments"(id TEXT PRIMARY KEY NOT NULL, "number" TEXT, "date" TEXT, "organization" TEXT, "counterparty" TEXT, "amount" REAL, "invoice" TEXT);
-- Triggers and indices on  payments
CREATE TRIGGER "_cap_payments_d" AFTER DELETE ON "payments" BEGIN INSERT INTO _journal(entity, id, op, org, at) VALUES ('payments', OLD.id, 'D', OLD."organization", ((julianday('now') - 2440587.5) * 86400.0)); END;
CREATE TRIGGER "_cap_payments_i" AFTER INSERT ON "payments" BEGIN INSERT INTO _journal(entity, id, op) VALUES ('payments', NEW.id, 'I'); END;
CREATE TRIGGER "_cap_payments_k" AFTER UPDATE OF id ON "payments" WHEN OLD.id IS NOT NEW.id BEGIN INSERT INTO _journal(entity, id, op, org, at) VALUES ('payments', OLD.id, 'D', OLD."organization", ((julianday('now') - 2440587.5) * 86400.0)); END;
CREATE TRIGGER "_cap_payments_u" AFTER UPDATE ON "payments" BEGIN INSERT INTO _journal(entity, id, op, org, at) VALUES ('payments', NEW.id, 'U', CASE WHEN OLD."organization" IS NOT NEW."organization" THEN OLD."organization" END, ((julianday('now') - 2440587.5) * 86400.0)); END;
CREATE TRIGGER "_num_payments" AFTER INSERT ON "payments" WHEN NEW."number" IS NULL OR NEW."number" = '' BEGIN UPDATE _counters SET next = next + 1 WHERE entity = 'payments'; UPDATE "payments" SET "number" = (SELECT COALESCE(value, '') FROM _meta WHERE key = 'prefix') || '-' || printf('%06d', (SELECT next FROM _counters WHERE entity = 'payments')) WHERE id = NEW.id; END;
CREATE INDEX "payments_by_org" ON "payments"("organization", id);

-- Table  sales_invoices
DROP TABLE IF EXISTS sales_invoices;
CREATE TABLE "sales_invoices"(id TEXT PRIMARY KEY NOT NULL, "number" TEXT, "date" TEXT, "organization" TEXT, "counterparty" TEXT, "total" REAL, "posted" INTEGER);
INSERT INTO sales_invoices VALUES('b64d18aa-b770-43a5-9aa8-bcdabb5005fb','K7-000001','2026-01-02','e5c87817-82bf-4b22-b166-493894791709','c8d78b14-ade0-4d27-87a1-9d56881440aa',10.0,1);
-- Triggers and indices on  sales_invoices
CREATE TRIGGER "_cap_sales_invoices_d" AFTER DELETE ON "sales_invoices" BEGIN DELETE FROM "sales_invoices_lines" WHERE owner = OLD.id; INSERT INTO _journal(entity, id, op, org, at) VALUES ('sales_invoices', OLD.id, 'D', OLD."organization", ((julianday('now') - 2440587.5) * 86400.0)); END;
CREATE TRIGGER "_cap_sales_invoices_i" AFTER INSERT ON "sales_invoices" BEGIN INSERT INTO _journal(entity, id, op) VALUES ('sales_invoices', NEW.id, 'I'); END;
CREATE TRIGGER "_cap_sales_invoices_k" AFTER UPDATE OF id ON "sales_invoices" WHEN OLD.id IS NOT NEW.id BEGIN INSERT INTO _journal(entity, id, op, org, at) VALUES ('sales_invoices', OLD.id, 'D', OLD."organization", ((julianday('now') - 2440587.5) * 86400.0)); END;
CREATE TRIGGER "_cap_sales_invoices_u" AFTER UPDATE ON "sales_invoices" BEGIN INSERT INTO _journal(entity, id, op, org, at) VALUES ('sales_invoices', NEW.id, 'U', CASE WHEN OLD."organization" IS NOT NEW."organization" THEN OLD."organization" END, ((julianday('now') - 2440587.5) * 86400.0)); END;
CREATE TRIGGER "_num_sales_invoices" AFTER INSERT ON "sales_invoices" WHEN NEW."number" IS NULL OR NEW."number" = '' BEGIN UPDATE _counters SET next = next + 1 WHERE entity = 'sales_invoices'; UPDATE "sales_invoices" SET "number" = (SELECT COALESCE(value, '') FROM _meta WHERE key = 'prefix') || '-' || printf('%06d', (SELECT next FROM _counters WHERE entity = 'sales_invoices')) WHERE id = NEW.id; END;
CREATE INDEX "sales_invoices_by_org" ON "sales_invoices"("organization", id);

-- Table  sales_invoices_lines
DROP TABLE IF EXISTS sales_invoices_lines;
CREATE TABLE "sales_invoices_lines"(owner TEXT NOT NULL, line_no INTEGER NOT NULL, "item" TEXT, "quantity" REAL, "price" REAL, "amount" REAL, PRIMARY KEY(owner, line_no)) WITHOUT ROWID;
INSERT INTO sales_invoices_lines VALUES('b64d18aa-b770-43a5-9aa8-bcdabb5005fb',1,'cab27517-91c9-4b8a-a7cd-7db740fd65c7',2.0,5.0,10.0);
-- Triggers and indices on  sales_invoices_lines
CREATE TRIGGER "_cap_sales_invoices_lines_d" AFTER DELETE ON "sales_invoices_lines" BEGIN INSERT INTO _journal(entity, id, op, at) VALUES ('sales_invoices', OLD.owner, 'U', ((julianday('now') - 2440587.5) * 86400.0)); END;
CREATE TRIGGER "_cap_sales_invoices_lines_i" AFTER INSERT ON "sales_invoices_lines" BEGIN INSERT INTO _journal(entity, id, op, at) VALUES ('sales_invoices', NEW.owner, 'U', ((julianday('now') - 2440587.5) * 86400.0)); END;
CREATE TRIGGER "_cap_sales_invoices_lines_m" AFTER UPDATE OF owner ON "sales_invoices_lines" WHEN OLD.owner IS NOT NEW.owner BEGIN INSERT INTO _journal(entity, id, op, at) VALUES ('sales_invoices', OLD.owner, 'U', ((julianday('now') - 2440587.5) * 86400.0)); END;
CREATE TRIGGER "_cap_sales_invoices_lines_u" AFTER UPDATE ON "sales_invoices_lines" BEGIN INSERT INTO _journal(entity, id, op, at) VALUES ('sales_invoices', NEW.owner, 'U', ((julianday('now') - 2440587.5) * 86400.0)); END;

COMMIT TRANSACTION;
