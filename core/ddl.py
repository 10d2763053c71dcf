"""SQL generated from a schema: the entity tables, Outpost's own tables, and the triggers.

The capture triggers are the hot path of every local write, whoever makes it, so each one
appends a single narrow row to `_journal` and does nothing else: no lookups, no JSON. Who made a
change (the origin) is stamped afterwards by the code that applies a sync batch, and versions
are kept by the object API, never by a trigger (see docs/architecture.md, "Capture").
"""

from __future__ import annotations

from core.schema import Entity, Schema, Section

# Outpost's own tables. Numbered migrations may add to this; see core/migrations.py.
BASE_TABLES = """
CREATE TABLE _meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
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
-- The version of each object: on the cloud, the change sequence of its last change made through
-- Outpost; on a workstation, the cloud version it last agreed on (its base for a merge).
CREATE TABLE _versions(
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,   -- a tombstone: the object was deleted at `version`
    at REAL                               -- unix time of that change
) WITHOUT ROWID;
-- Cloud side: versions that were replaced, kept (for a stated horizon) as the base of merges
-- with workstations that last saw them, and to recognise a change a workstation sends twice.
CREATE TABLE _history(
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    origin TEXT,                          -- who made that version; NULL: the cloud itself
    body BLOB,                            -- its fields as JSON (sorted keys)
    PRIMARY KEY(id, version)
) WITHOUT ROWID;
CREATE TABLE _counters(entity TEXT PRIMARY KEY, next INTEGER NOT NULL) WITHOUT ROWID;
-- The losing side of every conflict, kept so that a person can see it and restore it.
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
-- Local changes the cloud refused, with its reason; they stay in the journal until changed again.
CREATE TABLE _rejected(
    id TEXT PRIMARY KEY,
    entity TEXT NOT NULL,
    reason TEXT NOT NULL,
    seq INTEGER NOT NULL,                 -- the journal position the refusal answered
    at REAL NOT NULL
) WITHOUT ROWID;
"""


# Unix time in SQL, for the update and delete triggers (julianday works in every SQLite).
NOW = "((julianday('now') - 2440587.5) * 86400.0)"


def q(name: str) -> str:
    """Quote an identifier; schema names are already restricted to [a-z0-9_]."""
    return f'"{name}"'


def entity_tables(e: Entity) -> list[str]:
    cols = ", ".join(f"{q(f.name)} {f.sql_type}" for f in e.fields)
    stmts = [f"CREATE TABLE {q(e.table)}(id TEXT PRIMARY KEY NOT NULL, {cols})"]
    if e.org_field:
        stmts.append(  # with id: a page of one organization's objects needs no sort
            f"CREATE INDEX {q(e.table + '_by_org')} ON {q(e.table)}({q(e.org_field)}, id)"
        )
    for s in e.sections:
        scols = ", ".join(f"{q(f.name)} {f.sql_type}" for f in s.fields)
        stmts.append(
            f"CREATE TABLE {q(s.table)}(owner TEXT NOT NULL, line_no INTEGER NOT NULL, {scols}, "
            f"PRIMARY KEY(owner, line_no)) WITHOUT ROWID"
        )
    return stmts


def _org_of(e: Entity, row: str) -> str:
    """SQL for the organization of a row (OLD or NEW) of entity `e`."""
    if e.organization == "self":
        return f"{row}.id"
    if e.org_field:
        return f"{row}.{q(e.org_field)}"
    return "NULL"


def capture_triggers(e: Entity) -> list[str]:
    t, name = q(e.table), e.name
    moved = (
        f"CASE WHEN OLD.{q(e.org_field)} IS NOT NEW.{q(e.org_field)} "
        f"THEN OLD.{q(e.org_field)} END"
        if e.org_field
        else "NULL"
    )
    cascade = "".join(f"DELETE FROM {q(s.table)} WHERE owner = OLD.id; " for s in e.sections)
    stmts = [
        f"CREATE TRIGGER {q('_cap_' + name + '_i')} AFTER INSERT ON {t} BEGIN "
        f"INSERT INTO _journal(entity, id, op) VALUES ('{name}', NEW.id, 'I'); END",
        f"CREATE TRIGGER {q('_cap_' + name + '_u')} AFTER UPDATE ON {t} BEGIN "
        f"INSERT INTO _journal(entity, id, op, org, at) "
        f"VALUES ('{name}', NEW.id, 'U', {moved}, {NOW}); END",
        f"CREATE TRIGGER {q('_cap_' + name + '_k')} AFTER UPDATE OF id ON {t} "
        f"WHEN OLD.id IS NOT NEW.id BEGIN "
        f"INSERT INTO _journal(entity, id, op, org, at) "
        f"VALUES ('{name}', OLD.id, 'D', {_org_of(e, 'OLD')}, {NOW}); END",
        f"CREATE TRIGGER {q('_cap_' + name + '_d')} AFTER DELETE ON {t} BEGIN {cascade}"
        f"INSERT INTO _journal(entity, id, op, org, at) "
        f"VALUES ('{name}', OLD.id, 'D', {_org_of(e, 'OLD')}, {NOW}); END",
    ]
    for s in e.sections:
        stmts.extend(section_triggers(e, s))
    return stmts


def section_triggers(e: Entity, s: Section) -> list[str]:
    t, name, tn = q(s.table), e.name, s.table
    return [
        f"CREATE TRIGGER {q('_cap_' + tn + '_i')} AFTER INSERT ON {t} BEGIN "
        f"INSERT INTO _journal(entity, id, op, at) VALUES ('{name}', NEW.owner, 'U', {NOW}); END",
        f"CREATE TRIGGER {q('_cap_' + tn + '_u')} AFTER UPDATE ON {t} BEGIN "
        f"INSERT INTO _journal(entity, id, op, at) VALUES ('{name}', NEW.owner, 'U', {NOW}); END",
        f"CREATE TRIGGER {q('_cap_' + tn + '_m')} AFTER UPDATE OF owner ON {t} "
        f"WHEN OLD.owner IS NOT NEW.owner BEGIN "
        f"INSERT INTO _journal(entity, id, op, at) VALUES ('{name}', OLD.owner, 'U', {NOW}); END",
        f"CREATE TRIGGER {q('_cap_' + tn + '_d')} AFTER DELETE ON {t} BEGIN "
        f"INSERT INTO _journal(entity, id, op, at) VALUES ('{name}', OLD.owner, 'U', {NOW}); END",
    ]


def numbering_trigger(e: Entity) -> list[str]:
    """Give a new object with an empty number or code the next one, with the node's prefix.

    Done in a trigger so that a plain INSERT by another program is numbered too.
    """
    f = e.numbered_field
    if f is None:
        return []
    col, t, name = q(f.name), q(e.table), e.name
    return [
        f"CREATE TRIGGER {q('_num_' + name)} AFTER INSERT ON {t} "
        f"WHEN NEW.{col} IS NULL OR NEW.{col} = '' BEGIN "
        f"UPDATE _counters SET next = next + 1 WHERE entity = '{name}'; "
        f"UPDATE {t} SET {col} = "
        f"(SELECT COALESCE(value, '') FROM _meta WHERE key = 'prefix') || '-' || "
        f"printf('%06d', (SELECT next FROM _counters WHERE entity = '{name}')) "
        f"WHERE id = NEW.id; END",
        f"INSERT INTO _counters(entity, next) VALUES ('{name}', 0)",
    ]


def schema_sql(schema: Schema, *, capture: bool = True) -> list[str]:
    """Every statement that builds an infobase's tables for `schema`.

    `capture=False` builds identical tables without triggers: the benchmark's baseline.
    """
    stmts: list[str] = []
    for e in schema.entities.values():
        stmts.extend(entity_tables(e))
        if capture:
            stmts.extend(capture_triggers(e))
            stmts.extend(numbering_trigger(e))
    return stmts
