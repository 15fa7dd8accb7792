"""Any organisation's own sites and systems, from CSV: added or updated by slug (or key),
every row checked first and line-numbered, then all written in one transaction or none.

Branches: name, slug, region, and optionally area (or parent) and is_hq. Systems: key, name.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from restore.access import Action, Actor, require
from restore.audit import actor_name, record
from restore.directory import _SLUG, _attach_systems
from restore.domain import text_problem
from restore.readmodels import rebuild_in
from restore.store import Store, branches, bump_revision, now_utc, systems
from restore.transfer import ImportRefused, decode

TRUE, FALSE = ("true", "yes", "1", "y"), ("false", "no", "0", "n", "")


@dataclass(frozen=True)
class Loaded:
    branches_added: int = 0
    branches_updated: int = 0
    systems_added: int = 0
    systems_updated: int = 0


def _records(data: bytes, required: tuple[str, ...], optional: tuple[str, ...], errors: list):
    """(line, row) pairs of a CSV whose header has the required columns."""
    reader = csv.DictReader(io.StringIO(decode(data), newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required + optional]
    if missing or unknown:
        said = "; ".join(
            ([f"missing column(s) {', '.join(missing)}"] if missing else [])
            + ([f"unknown column(s) {', '.join(unknown)}"] if unknown else [])
        )
        errors.append(f"line 1: wrong header ({said}); columns: {','.join(required + optional)}")
        return []
    reader.fieldnames = header
    out, line = [], 2
    for rec in reader:
        out.append((line, {k: (v or "").strip() for k, v in rec.items() if k}))
        line = reader.line_num + 1
    return out


def parse_branches(data: bytes) -> tuple[list[dict], list[str]]:
    """Branch rows ready to write, and line-numbered problems."""
    errors: list[str] = []
    rows, seen = [], {}
    for line, r in _records(data, ("name", "slug", "region"), ("area", "parent", "is_hq"), errors):
        problems = [p for p in (text_problem(k, r.get(k)) for k in r) if p]
        if not 0 < len(r["name"]) <= 100:
            problems.append("name must be 1-100 characters")
        if not _SLUG.match(r["slug"]):
            problems.append(f"slug {r['slug']!r} must be lower-case letters, digits and '-'")
        if not r["region"]:
            problems.append("region is required")
        if r.get("is_hq", "").lower() not in TRUE + FALSE:
            problems.append(f"is_hq {r['is_hq']!r} must be true or false")
        if r["slug"] in seen:
            problems.append(f"slug {r['slug']!r} is also on line {seen[r['slug']]}")
        seen.setdefault(r["slug"], line)
        errors += [f"line {line}: {p}" for p in problems]
        area = r.get("area") or r.get("parent") or None
        hq = r.get("is_hq", "").lower() in TRUE
        rows.append(
            {"name": r["name"], "slug": r["slug"], "region": r["region"], "area": area, "is_hq": hq}
        )
    return rows, errors


def parse_systems(data: bytes) -> tuple[list[dict], list[str]]:
    errors: list[str] = []
    rows, seen = [], {}
    for line, r in _records(data, ("key", "name"), (), errors):
        problems = [p for p in (text_problem(k, r.get(k)) for k in r) if p]
        if not _SLUG.match(r["key"]):
            problems.append(f"key {r['key']!r} must be lower-case letters, digits and '-'")
        if not r["name"]:
            problems.append("name is required")
        if r["key"] in seen:
            problems.append(f"key {r['key']!r} is also on line {seen[r['key']]}")
        seen.setdefault(r["key"], line)
        errors += [f"line {line}: {p}" for p in problems]
        rows.append({"key": r["key"], "name": r["name"]})
    return rows, errors


def load(
    store: Store,
    actor: Actor,
    *,
    branch_csv: bytes | None = None,
    system_csv: bytes | None = None,
    now: datetime | None = None,
) -> Loaded:
    """Add or update (by slug, by key) the branches and systems in the files; every branch
    gets every system. Raises ImportRefused listing each problem; writes nothing then."""
    require(actor, Action.MANAGE)
    b_rows, errors = parse_branches(branch_csv) if branch_csv is not None else ([], [])
    s_rows, s_errors = parse_systems(system_csv) if system_csv is not None else ([], [])
    errors += [f"systems file, {e}" for e in s_errors]
    if errors:
        raise ImportRefused(errors)
    now = now or now_utc()
    with store.write() as conn:
        bump_revision(conn)
        _refuse_name_clashes(conn, b_rows)
        regions = dict(conn.execute(select(branches.c.slug, branches.c.region)).all())
        added_b, changed_b = _upsert(conn, actor, branches, "slug", b_rows, "branch", now)
        added_s, changed_s = _upsert(conn, actor, systems, "key", s_rows, "system", now)
        _attach_systems(
            conn,
            list(conn.execute(select(branches.c.id)).scalars()),
            list(conn.execute(select(systems.c.id)).scalars()),
        )
        if any(regions.get(r["slug"], r["region"]) != r["region"] for r in b_rows):
            rebuild_in(conn)  # the day counts are kept per region
    return Loaded(added_b, changed_b, added_s, changed_s)


def _refuse_name_clashes(conn: Connection, rows: list[dict]) -> None:
    """Branch names are unique: after the load, no two slugs may share a name."""
    final = dict(conn.execute(select(branches.c.slug, branches.c.name)).all())
    final |= {r["slug"]: r["name"] for r in rows}
    by_name: dict[str, list[str]] = {}
    for slug, name in final.items():
        by_name.setdefault(name.lower(), []).append(slug)
    clashes = [
        f"branch name {name!r} would belong to {', '.join(sorted(slugs))}"
        for name, slugs in by_name.items()
        if len(slugs) > 1
    ]
    if clashes:
        raise ImportRefused(clashes)


def _upsert(conn: Connection, actor: Actor, table, key: str, rows, kind: str, now):
    """Insert new rows and update changed ones by `key`; audited; returns (added, changed)."""
    have = {r[key]: dict(r) for r in conn.execute(select(table)).mappings()}
    added = changed = 0
    for row in rows:
        old = have.get(row[key])
        if old is None:
            conn.execute(insert(table).values(row))
            action, added = f"{kind}.add", added + 1
        elif any(old.get(k) != v for k, v in row.items()):
            conn.execute(update(table).where(table.c[key] == row[key]).values(row))
            action, changed = f"{kind}.update", changed + 1
        else:
            continue
        details = {"old": {k: old.get(k) for k in row} if old else None, "new": row}
        record(conn, actor=actor_name(actor), action=action, subject=row[key],
               details=details, now=now)  # fmt: skip
    return added, changed
