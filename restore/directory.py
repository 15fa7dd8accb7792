"""Who and what the record is about: users, branches, systems, incidents, workarounds.

Each write checks permission, validates, and runs in one transaction, which also appends
its audit entry (old and new values), so a refused write leaves no trace and a done one
always does.
"""

from __future__ import annotations

import csv
import re
from datetime import date, datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from restore.access import ROLES, Action, Actor, require
from restore.audit import actor_name, record
from restore.domain import text_problem
from restore.readmodels.versions import USERS, bump
from restore.records import (
    MAX_NOTE,
    NotFound,
    ValidationError,
    find_branch,
    find_target,
)
from restore.store import (
    PROJECT_ROOT,
    Store,
    branch_systems,
    branches,
    bump_revision,
    incidents,
    now_utc,
    sessions,
    systems,
    users,
)
from restore.timefmt import london_date

DATA_DIR = PROJECT_ROOT / "data"
# Local administration (init, seed, `user add` on the server's own shell).
SYSTEM = Actor("system", "hq-it", None, "Restore set-up")
_HASHER = PasswordHasher()
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
MIN_PASSWORD = 8


# --- users -------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    try:
        return bool(stored_hash) and _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _audit(conn: Connection, actor: Actor, action: str, subject: str, details, now) -> None:
    record(conn, actor=actor_name(actor), action=action, subject=subject, details=details, now=now)


def add_user(
    store: Store,
    actor: Actor,
    *,
    username: str,
    role: str,
    branch: str | None = None,
    display_name: str | None = None,
    password: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    now: datetime | None = None,
) -> int:
    """Create a user; chairs need a branch. Raises ValidationError, writing nothing."""
    require(actor, Action.MANAGE)
    refuse_control(**{"display name": display_name})
    problems = _contact_problems(email, phone)
    if not _USERNAME.match(username or ""):
        problems.append(
            f"username {username!r} must be 2-80 lower-case letters, digits, '.', '_' or '-'"
        )
    if role not in ROLES:
        problems.append(f"unknown role {role!r}; roles are: {', '.join(ROLES)}")
    if role == "chair" and not branch:
        problems.append("a chair needs --branch")
    if password is not None and len(password) < MIN_PASSWORD:
        problems.append(f"password must be at least {MIN_PASSWORD} characters")
    if problems:
        raise ValidationError("; ".join(problems))
    values = {
        "display_name": (display_name or username).strip()[:200],
        "role": role,
        "active": True,
        "email": (email or "").strip().lower() or None,
        "phone": (phone or "").strip() or None,
    }
    with store.write() as conn:
        bump(conn, {USERS})  # a user change leaves the board's caches alone
        home = find_branch(conn, branch) if branch else {"id": None, "slug": None}
        if conn.execute(select(users.c.id).where(users.c.username == username)).first():
            raise ValidationError(f"user {username!r} already exists")
        if (
            email
            and conn.execute(
                select(users.c.id).where(users.c.email == email.strip().lower())
            ).first()
        ):
            raise ValidationError(f"another user already has the e-mail {email!r}")
        new_id = conn.execute(
            insert(users).values(
                **values,
                username=username,
                branch_id=home["id"],
                password_hash=hash_password(password) if password else None,
                failed_logins=0,
            )
        ).inserted_primary_key[0]
        details = values | {"branch": home["slug"], "password_set": bool(password)}
        _audit(conn, actor, "user.add", username, details, now)
        return new_id


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{6,30}$")


def refuse_control(**fields: str | None) -> None:
    """ValidationError naming each field holding control characters (other than tab and
    newline): refused alike on every database, so SQLite and PostgreSQL hold the same data."""
    problems = [p for name, text in fields.items() if (p := text_problem(name, text))]
    if problems:
        raise ValidationError("; ".join(problems))


def _contact_problems(email: str | None, phone: str | None) -> list[str]:
    problems = []
    if email and not _EMAIL.match(email.strip()):
        problems.append(f"e-mail {email!r} is not an e-mail address")
    if phone and not _PHONE.match(phone.strip()):
        problems.append(f"phone {phone!r} must be digits, spaces, (), - and an optional +")
    return problems


def actor_for(store: Store, username: str) -> Actor:
    """The acting user as the database has them now (role and branch re-read every time)."""
    with store.read() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    if row is None or not row["active"]:
        raise NotFound(f"unknown or inactive user {username!r}")
    return Actor(row["username"], row["role"], row["branch_id"], row["display_name"])


# --- branches, systems, incidents --------------------------------------------


def _attach_systems(conn: Connection, branch_ids: list[int], system_ids: list[int]) -> None:
    """Give each branch each system, skipping pairs it already has."""
    have = set(conn.execute(select(branch_systems.c.branch_id, branch_systems.c.system_id)).all())
    rows = [
        {"branch_id": b, "system_id": s}
        for b in branch_ids
        for s in system_ids
        if (b, s) not in have
    ]
    if rows:
        conn.execute(insert(branch_systems), rows)


def add_branch(
    store: Store,
    actor: Actor,
    *,
    name: str,
    slug: str,
    region: str,
    is_hq: bool = False,
    now: datetime | None = None,
) -> int:
    """Add a branch with every system in the catalogue."""
    require(actor, Action.MANAGE)
    name, region = (name or "").strip(), (region or "").strip()
    refuse_control(name=name, region=region)
    problems = []
    if not name or len(name) > 100:
        problems.append("branch name must be 1-100 characters")
    if not _SLUG.match(slug or ""):
        problems.append(f"slug {slug!r} must be lower-case letters, digits and '-'")
    if not region:
        problems.append("region is required")
    if problems:
        raise ValidationError("; ".join(problems))
    with store.write() as conn:
        bump_revision(conn)
        clash = conn.execute(
            select(branches.c.name).where(
                (func.lower(branches.c.name) == name.lower()) | (branches.c.slug == slug)
            )
        ).first()
        if clash:
            raise ValidationError(f"a branch named {clash.name!r} already has that name or slug")
        new_id = conn.execute(
            insert(branches).values(name=name, slug=slug, region=region, is_hq=is_hq)
        ).inserted_primary_key[0]
        _attach_systems(conn, [new_id], list(conn.execute(select(systems.c.id)).scalars()))
        details = {"name": name, "region": region, "is_hq": is_hq}
        _audit(conn, actor, "branch.add", slug, details, now)
        return new_id


def add_system(
    store: Store, actor: Actor, *, key: str, name: str, now: datetime | None = None
) -> int:
    """Add a system type (e.g. phones) to the catalogue and to every branch."""
    require(actor, Action.MANAGE)
    if not _SLUG.match(key or ""):
        raise ValidationError(f"system key {key!r} must be lower-case letters, digits and '-'")
    if not (name or "").strip():
        raise ValidationError("system name is required")
    refuse_control(name=name)
    with store.write() as conn:
        bump_revision(conn)
        if conn.execute(select(systems.c.id).where(systems.c.key == key)).first():
            raise ValidationError(f"system {key!r} already exists")
        new_id = conn.execute(
            insert(systems).values(key=key, name=name.strip())
        ).inserted_primary_key[0]
        _attach_systems(conn, list(conn.execute(select(branches.c.id)).scalars()), [new_id])
        _audit(conn, actor, "system.add", key, {"name": name.strip()}, now)
        return new_id


def add_incident(
    store: Store,
    actor: Actor,
    *,
    name: str,
    started_at: datetime,
    target_date: date | None = None,
    description: str = "",
    now: datetime | None = None,
) -> int:
    require(actor, Action.MANAGE)
    refuse_control(name=name, description=description)
    if not (name or "").strip():
        raise ValidationError("incident name is required")
    if target_date is not None and target_date < london_date(started_at):
        raise ValidationError("restoration target date is before the incident started")
    with store.write() as conn:
        bump_revision(conn)
        if conn.execute(select(incidents.c.id).where(incidents.c.name == name.strip())).first():
            raise ValidationError(f"incident {name!r} already exists")
        new_id = conn.execute(
            insert(incidents).values(
                name=name.strip(),
                started_at=started_at,
                target_date=target_date,
                description=description or "",
            )
        ).inserted_primary_key[0]
        details = {"started_at": started_at, "target_date": target_date, "description": description}
        _audit(conn, actor, "incident.add", name.strip(), details, now)
        return new_id


def set_workaround(
    store: Store,
    actor: Actor,
    *,
    branch: str,
    system: str,
    text: str,
    now: datetime | None = None,
) -> None:
    """Set the public workaround members see (empty clears it). HQ IT or the branch's chair.

    The audit entry keeps the old and new text: members act on it (a phone number, an
    address), so a replaced one must leave a trace.
    """
    if len(text or "") > MAX_NOTE:
        raise ValidationError(f"workaround is longer than {MAX_NOTE} characters")
    refuse_control(workaround=text)
    with store.write() as conn:
        bump_revision(conn)
        target = find_target(conn, branch, system)
        require(actor, Action.RECORD_STATUS, branch_id=target.branch_id)
        old, slug = conn.execute(
            select(branch_systems.c.workaround, branches.c.slug)
            .join(branches, branches.c.id == branch_systems.c.branch_id)
            .where(branch_systems.c.id == target.id)
        ).one()
        new = (text or "").strip() or None
        conn.execute(
            update(branch_systems).where(branch_systems.c.id == target.id).values(workaround=new)
        )
        _audit(
            conn, actor, "workaround.set", f"{slug}:{target.system}", {"old": old, "new": new}, now
        )


# --- reference data ----------------------------------------------------------


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def seed_reference(
    store: Store, data_dir: Path = DATA_DIR, *, now: datetime | None = None
) -> tuple[int, int]:
    """Load data/branches.csv and data/systems.csv; adds what is missing, changes nothing else.

    Returns (branches added, systems added); each addition is audited as the system's.
    """
    now = now or now_utc()
    branch_rows = _read_csv(data_dir / "branches.csv")
    system_rows = _read_csv(data_dir / "systems.csv")
    with store.write() as conn:
        bump_revision(conn)
        have_b = set(conn.execute(select(branches.c.slug)).scalars())
        new_b = [
            {**r, "is_hq": r["is_hq"].strip().lower() == "true"}
            for r in branch_rows
            if r["slug"] not in have_b
        ]
        have_s = set(conn.execute(select(systems.c.key)).scalars())
        new_s = [r for r in system_rows if r["key"] not in have_s]
        if new_b:
            conn.execute(insert(branches), new_b)
        if new_s:
            conn.execute(insert(systems), new_s)
        _attach_systems(
            conn,
            list(conn.execute(select(branches.c.id)).scalars()),
            list(conn.execute(select(systems.c.id)).scalars()),
        )
        for r in new_b:
            details = {"name": r["name"], "region": r["region"], "is_hq": r["is_hq"]}
            _audit(conn, SYSTEM, "branch.add", r["slug"], details | {"source": "seed"}, now)
        for r in new_s:
            _audit(conn, SYSTEM, "system.add", r["key"], {"name": r["name"], "source": "seed"}, now)
    return len(new_b), len(new_s)


def update_user(
    store: Store,
    actor: Actor,
    *,
    username: str,
    active: bool | None = None,
    password: str | None = None,
    role: str | None = None,
    branch: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    now: datetime | None = None,
) -> None:
    """Deactivate or reactivate a user, set a new password (both sign them out everywhere),
    change their role and branch (which take effect on their next click), or their e-mail
    and phone ("" clears one). Each kind of change is audited with old and new values."""
    require(actor, Action.MANAGE)
    _check_user_change(actor, username, active, password, role, branch, email, phone)
    values = _user_values(active, password, role, email, phone)
    if not values and branch is None:
        raise ValidationError("nothing to change")
    now = now or now_utc()
    with store.write() as conn:
        bump(conn, {USERS})  # a user change leaves the board's caches alone
        if branch is not None or role is not None:
            values["branch_id"] = find_branch(conn, branch)["id"] if branch else None
        if values.get("email"):
            clash = conn.execute(
                select(users.c.username).where(
                    users.c.email == values["email"], users.c.username != username
                )
            ).first()
            if clash:
                raise ValidationError(f"another user already has the e-mail {email!r}")
        old = conn.execute(select(users).where(users.c.username == username)).mappings().first()
        if old is None:
            raise NotFound(f"unknown user {username!r}")
        conn.execute(update(users).where(users.c.id == old["id"]).values(**values))
        if password is not None or active is False:
            # A new password or deactivation ends every open session of that user.
            conn.execute(
                update(sessions)
                .where(sessions.c.user_id == old["id"], sessions.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        for action, details in _user_changes(conn, old, values):
            _audit(conn, actor, action, username, details, now)


def _check_user_change(actor, username, active, password, role, branch, email, phone) -> None:
    if problems := _contact_problems(email, phone):
        raise ValidationError("; ".join(problems))
    if role is not None and role not in ROLES:
        raise ValidationError(f"unknown role {role!r}; roles are: {', '.join(ROLES)}")
    if role == "chair" and not branch:
        raise ValidationError("a chair needs a branch")
    if password is not None and len(password) < MIN_PASSWORD:
        raise ValidationError(f"password must be at least {MIN_PASSWORD} characters")
    if active is False and username == actor.username:
        raise ValidationError("you cannot deactivate your own account")


def _user_values(active, password, role, email, phone) -> dict:
    values: dict = {}
    if active is not None:
        values["active"] = active
    if password is not None:
        values |= {
            "password_hash": hash_password(password),
            "failed_logins": 0,
            "locked_until": None,
        }
    if role is not None:
        values["role"] = role
    if email is not None:
        values["email"] = email.strip().lower() or None
    if phone is not None:
        values["phone"] = phone.strip() or None
    return values


def _user_changes(conn: Connection, old, values: dict) -> list[tuple[str, dict]]:
    """(action, details) per kind of change, with old and new values (never a password)."""
    out = []
    if "active" in values:
        out.append(("user.active", {"old": old["active"], "new": values["active"]}))
    if "password_hash" in values:
        out.append(("user.password", {"reset": True, "sessions_revoked": True}))
    if "branch_id" in values:
        before = {"role": old["role"], "branch": _slug(conn, old["branch_id"])}
        after = {
            "role": values.get("role", old["role"]),
            "branch": _slug(conn, values["branch_id"]),
        }
        out.append(("user.role", {"old": before, "new": after}))
    contact = {k: {"old": old[k], "new": values[k]} for k in ("email", "phone") if k in values}
    if contact:
        out.append(("user.contact", contact))
    return out


def _slug(conn: Connection, branch_id: int | None) -> str | None:
    if branch_id is None:
        return None
    return conn.execute(select(branches.c.slug).where(branches.c.id == branch_id)).scalar()


def set_incident_target(
    store: Store,
    actor: Actor,
    *,
    name: str,
    target_date: date | None,
    now: datetime | None = None,
) -> None:
    """Move (or clear) an incident's restoration target date; forecasts compare against it."""
    require(actor, Action.MANAGE)
    with store.write() as conn:
        row = conn.execute(select(incidents).where(incidents.c.name == name)).first()
        if row is None:
            raise NotFound(f"unknown incident {name!r}")
        if target_date is not None and target_date < london_date(row.started_at):
            raise ValidationError("restoration target date is before the incident started")
        bump_revision(conn)
        conn.execute(
            update(incidents).where(incidents.c.id == row.id).values(target_date=target_date)
        )
        change = {"old": row.target_date, "new": target_date}
        _audit(conn, actor, "incident.target", name, change, now)
