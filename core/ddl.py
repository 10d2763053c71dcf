"""SQL generated from a schema: the entity tables, Outpost's own tables, and the triggers.

The capture triggers are the hot path of every local write, whoever makes it, so each one
appends a single narrow row to `_journal` and does nothing else: no lookups, no JSON. Who made a
change (the origin) is stamped afterwards by the code that applies a sync batch (or written with
the row where the cloud inserts new objects with the triggers off: core.apply.insert_stamped),
and versions are kept by the object API, never by a trigger (see docs/architecture.md,
"Capture").

Two rules keep an INSERT as cheap as SQLite allows, and tests/core/test_capture_cost.py holds
them: nothing an INSERT sets off may call an SQL function, and every constraint it can meet is
ON CONFLICT FAIL. SQLite gives a statement whose triggers might stop it half-way (an ABORT
constraint, or any function, which may raise an error) a statement journal, a copy of every
page it touches, and that copy cost as much as the journal row itself. So inserts carry no
time (a new object cannot conflict), nor do new tabular-section rows or a change of only the
number or code, which the numbering trigger's own UPDATE shares; see `capture_triggers`.
"""

from __future__ import annotations

import re

from core.schema import Entity, Schema, Section

# A failed statement stops where it failed, keeping the rows it wrote before (and their journal
# rows): the writer's transaction decides. With ABORT, SQLite must be ready to undo the statement.
FAIL = "ON CONFLICT FAIL"

JOURNAL_TABLE = f"""CREATE TABLE _journal(
    seq INTEGER PRIMARY KEY,      -- the database's change sequence
    entity TEXT NOT NULL {FAIL},
    id TEXT NOT NULL {FAIL},      -- the object's id (the owner's, for tabular-section rows)
    op TEXT NOT NULL {FAIL},      -- I, U or D: informational; sync reads the current state
    org TEXT,                     -- on deletes and moves: the organization the object had
    origin TEXT,                  -- who made the change, stamped by a sync apply; NULL = local
    at REAL,                      -- unix time of an update or delete (for "newest wins");
                                  -- NULL on inserts, new section rows and number-only changes
    rid INTEGER                   -- the object's rowid in its table as written, where a window
                                  -- finds it without a search by id; NULL on deletes, sections
)"""
COUNTERS_TABLE = f"""CREATE TABLE _counters(
    entity TEXT PRIMARY KEY {FAIL},
    next INTEGER NOT NULL {FAIL}  -- the last number handed out
) WITHOUT ROWID"""
# Rows waiting for a number, for the blink between the two numbering triggers; always empty.
NUMBERING_TABLE = "CREATE TABLE _numbering(entity TEXT, target INTEGER)"

# Outpost's own tables. Numbered migrations may add to this; see core/migrations.py.
BASE_TABLES = f"""
CREATE TABLE _meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
{JOURNAL_TABLE};
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
{COUNTERS_TABLE};
{NUMBERING_TABLE};
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
    loser TEXT NOT NULL,                  -- JSON {{"op", "fields"}}: the version that lost
    kept TEXT,                            -- JSON {{"op", "fields"}}: the version that won
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
# The next number with the node's prefix, as printf('%s-%06d') would make it, without a function.
NUMBER = (
    "(SELECT COALESCE(value, '') FROM _meta WHERE key = 'prefix') || '-' || "
    "CASE WHEN next < 10 THEN '00000' WHEN next < 100 THEN '0000' "
    "WHEN next < 1000 THEN '000' WHEN next < 10000 THEN '00' "
    "WHEN next < 100000 THEN '0' ELSE '' END || next"
)


def q(name: str) -> str:
    """Quote an identifier; schema names are already restricted to [a-z0-9_]."""
    return f'"{name}"'


def entity_tables(e: Entity) -> list[str]:
    cols = ", ".join(f"{q(f.name)} {f.sql_type}" for f in e.fields)
    stmts = [f"CREATE TABLE {q(e.table)}(id TEXT PRIMARY KEY {FAIL} NOT NULL {FAIL}, {cols})"]
    if e.org_field:
        stmts.append(  # with id: a page of one organization's objects needs no sort
            f"CREATE INDEX {q(e.table + '_by_org')} ON {q(e.table)}({q(e.org_field)}, id)"
        )
    for s in e.sections:
        scols = ", ".join(f"{q(f.name)} {f.sql_type}" for f in s.fields)
        stmts.append(
            f"CREATE TABLE {q(s.table)}(owner TEXT NOT NULL {FAIL}, "
            f"line_no INTEGER NOT NULL {FAIL}, {scols}, "
            f"PRIMARY KEY(owner, line_no) {FAIL}) WITHOUT ROWID"
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
    """Journal every insert, update and delete of an object and of its section rows.

    An update of the numbered field alone is journaled by a trigger of its own, without a time:
    the numbering trigger's UPDATE sets it off, so it is part of every INSERT's program.
    """
    t, name, num = q(e.table), e.name, e.numbered_field
    moved = (
        f"CASE WHEN OLD.{q(e.org_field)} IS NOT NEW.{q(e.org_field)} "
        f"THEN OLD.{q(e.org_field)} END"
        if e.org_field
        else "NULL"
    )
    timed = "" if num is None else "OF " + ", ".join(
        q(c) for c in ["id", *(f.name for f in e.fields if f is not num)]
    )
    cascade = "".join(f"DELETE FROM {q(s.table)} WHERE owner = OLD.id; " for s in e.sections)
    stmts = [
        f"CREATE TRIGGER {q('_cap_' + name + '_i')} AFTER INSERT ON {t} BEGIN "
        f"INSERT INTO _journal(entity, id, op, rid) "
        f"VALUES ('{name}', NEW.id, 'I', NEW.rowid); END",
        f"CREATE TRIGGER {q('_cap_' + name + '_u')} AFTER UPDATE {timed} ON {t} BEGIN "
        f"INSERT INTO _journal(entity, id, op, org, at, rid) "
        f"VALUES ('{name}', NEW.id, 'U', {moved}, {NOW}, NEW.rowid); END",
        f"CREATE TRIGGER {q('_cap_' + name + '_k')} AFTER UPDATE OF id ON {t} "
        f"WHEN OLD.id IS NOT NEW.id BEGIN "
        f"INSERT INTO _journal(entity, id, op, org, at) "
        f"VALUES ('{name}', OLD.id, 'D', {_org_of(e, 'OLD')}, {NOW}); END",
        f"CREATE TRIGGER {q('_cap_' + name + '_d')} AFTER DELETE ON {t} BEGIN {cascade}"
        f"INSERT INTO _journal(entity, id, op, org, at) "
        f"VALUES ('{name}', OLD.id, 'D', {_org_of(e, 'OLD')}, {NOW}); END",
    ]
    if num is not None:
        stmts.append(
            f"CREATE TRIGGER {q('_cap_' + name + '_n')} AFTER UPDATE OF {q(num.name)} ON {t} "
            f"BEGIN INSERT INTO _journal(entity, id, op, rid) "
            f"VALUES ('{name}', NEW.id, 'U', NEW.rowid); END"
        )
    for s in e.sections:
        stmts.extend(section_triggers(e, s))
    return stmts


def section_triggers(e: Entity, s: Section) -> list[str]:
    t, name, tn = q(s.table), e.name, s.table
    return [
        f"CREATE TRIGGER {q('_cap_' + tn + '_i')} AFTER INSERT ON {t} BEGIN "
        f"INSERT INTO _journal(entity, id, op) VALUES ('{name}', NEW.owner, 'U'); END",
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

    Done in triggers so that a plain INSERT by another program is numbered too, and in two of
    them because SQLite sets up a trigger's whole program for every row, even when its WHEN is
    false: the one on the entity table, run for every insert, only hands the row over through
    `_numbering` (a small program); the one on `_numbering`, which runs only when a number is
    wanted, counts and writes it into the row.
    """
    f = e.numbered_field
    if f is None:
        return []
    col, t, name = q(f.name), q(e.table), e.name
    return [
        f"CREATE TRIGGER {q('_num_' + name)} AFTER INSERT ON {t} "
        f"WHEN NEW.{col} IS NULL OR NEW.{col} = '' BEGIN "
        f"INSERT INTO _numbering(entity, target) VALUES ('{name}', NEW.rowid); END",
        f"CREATE TRIGGER {q('_numbered_' + name)} AFTER INSERT ON _numbering "
        f"WHEN NEW.entity = '{name}' BEGIN "
        f"UPDATE _counters SET next = next + 1 WHERE entity = '{name}'; "
        f"UPDATE {t} SET {col} = (SELECT {NUMBER} FROM _counters WHERE entity = '{name}') "
        f"WHERE rowid = NEW.target; "
        f"DELETE FROM _numbering WHERE rowid = NEW.rowid; END",
        f"INSERT INTO _counters(entity, next) VALUES ('{name}', 0)",
    ]


def trigger_names(e: Entity) -> set[str]:
    """The names of the triggers Outpost gives `e`'s tables (capture and numbering)."""
    stmts = [*capture_triggers(e), *numbering_trigger(e)]
    return {m.group(1) for m in map(_TRIGGER.match, stmts) if m}


_TRIGGER = re.compile(r'CREATE TRIGGER "([^"]+)"')


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
