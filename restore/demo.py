"""The demo story: an attack on HQ, then on the branches, then ten weeks of uneven recovery,
with the recovery checklists ticked as systems were checked, dependencies on HQ, the
regulator's clocks, and the HQ incident closed (restore.recovery.story).

Deterministic for a given start date (day 0). The story is written as a CSV and
loaded through the ordinary import, so it obeys every rule a real writer does.
Nothing after `now` is written.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from restore.directory import (
    SYSTEM,
    add_incident,
    add_user,
    seed_reference,
    set_workaround,
)
from restore.records import ValidationError
from restore.recovery import story as recovery_story
from restore.store import Store, branches, events, incidents, now_utc, systems, users
from restore.timefmt import LONDON
from restore.transfer import import_csv

DEMO_PASSWORDS = {
    "hq.it": ("hq-it", None, "HQ IT (demo)", "restore-hq-it"),
    "leader": ("leadership", None, "Leadership (demo)", "restore-leader"),
    "chair.west-midlands": (
        "chair",
        "west-midlands",
        "West Midlands chair (demo)",
        "restore-chair",
    ),
}
UNAFFECTED = {"city-of-london", "dyfed-powys", "cumbria"}
LAGGING = {"kent", "merseyside", "north-wales", "humberside", "west-midlands"}
QUIET = {"gwent", "norfolk", "merseyside"}  # stop reporting for days at a time
REINFECTED = "lancashire"
HQ_USER = "hq.it"
HQ_INCIDENT, BRANCH_INCIDENT = "HQ malware attack", "Branch network attack"

NOTES = {
    "outage": [
        "Site down since this morning; no access to the Hub or email.",
        "Lost email and the Hub overnight; website showing an error page.",
    ],
    "contained": [
        "Malware detected; network disconnected to stop the spread.",
        "Disconnected from the network while forensics assess the damage.",
    ],
    "investigating": [
        "Forensics team on site; collecting logs.",
        "Investigating with the forensic partner; no data loss found so far.",
        "Scoping what was touched; waiting on the forensic report.",
    ],
    "rebuilding": [
        "Rebuilding from last clean backup.",
        "New server provisioned; restoring data from backup.",
        "Restoring mailboxes from backup; large ones are slow.",
    ],
    "verifying": [
        "Back up on our side; awaiting HQ security checks.",
        "Rebuilt and patched; ready for HQ verification.",
    ],
    "restored": [
        "Verified by HQ IT and reconnected.",
        "Checks passed; reconnected to the network.",
    ],
    "degraded": [
        "Working, but sending is slow and attachments over 5 MB fail.",
        "Up, but search is disabled until the index is rebuilt.",
    ],
    "check-in": [
        "No change; still waiting on the forensic report.",
        "Still in progress; nothing new to report.",
        "Chased the supplier again today.",
    ],
    "slip": [
        "Backup restore failed part way; new expected date.",
        "Supplier delayed the replacement hardware; date moved.",
    ],
}


@dataclass
class Story:
    """Events of the demo, collected in time order per branch system."""

    day0: datetime
    now: datetime
    rng: random.Random
    rows: list[dict] = field(default_factory=list)

    def at(self, day: float, hour: float | None = None) -> datetime:
        """Day `day` after day 0; its fraction maps onto working hours 08:00-18:00 London."""
        base = datetime.combine(self.day0.date() + timedelta(days=int(day)), time(0), LONDON)
        hour = 8 + (day - int(day)) * 10 if hour is None else hour
        return (base + timedelta(hours=hour)).astimezone(UTC)

    def date(self, day: float) -> date:
        return self.at(day).astimezone(LONDON).date()

    def add(
        self,
        slug,
        system,
        state,
        when,
        who,
        *,
        note=None,
        eta=None,
        source="web",
        reason="",
    ):
        if when > self.now:
            return
        note = self.rng.choice(NOTES[state]) if note is None else note
        self.rows.append(
            {
                "branch": slug,
                "system": system,
                "state": state,
                "at": when.isoformat(),
                "note": note,
                "eta": eta.isoformat() if eta else "",
                "who": who,
                "source": source,
                "reason": reason,
                "recorded_at": (when + timedelta(minutes=self.rng.randint(1, 20))).isoformat(),
            }
        )


def _recover(story: Story, slug: str, system: str, day: float, pace: float, who: str, quiet: bool):
    """One system's path from investigating back into service, with check-ins and slipping dates.

    Returns the day it came back.
    """
    rng = story.rng
    eta_day = day + rng.uniform(10, 25) * pace
    story.add(slug, system, "investigating", story.at(day), who, eta=story.date(eta_day))
    current = "investigating"
    for nxt in ("rebuilding", "verifying"):
        step = rng.uniform(3, 12) * pace
        gap = 6 if quiet else 3
        for k in range(int(step // gap)):
            story.add(
                slug,
                system,
                current,
                story.at(day + gap * (k + 1) - 0.5),
                who,
                note=rng.choice(NOTES["check-in"]),
            )
        if day + step > eta_day - 1 and rng.random() < 0.7:  # the date slipped and was moved
            eta_day = day + step + rng.uniform(4, 12) * pace
            story.add(
                slug,
                system,
                current,
                story.at(day + step - 0.2),
                who,
                note=rng.choice(NOTES["slip"]),
                eta=story.date(eta_day),
            )
        day += step
        phoned = who == HQ_USER and slug != "hq"
        story.add(slug, system, nxt, story.at(day), who, source="phone" if phoned else "web")
        current = nxt
    day += rng.uniform(0.5, 4) * pace
    final = "degraded" if rng.random() < 0.12 else "restored"
    story.add(slug, system, final, story.at(day), HQ_USER)
    return day


def build_story(slugs: list[str], keys: list[str], day0: datetime, now: datetime) -> list[dict]:
    story = Story(day0, now, random.Random(20190309))
    for slug in slugs:
        for key in keys:
            story.add(
                slug,
                key,
                "operational",
                story.at(0, 9),
                HQ_USER,
                source="cli",
                note="Baseline before the incident.",
            )
    for key in keys:  # HQ hit around 19:00 on day 0
        hit = story.at(0, 19 + keys.index(key) * 0.2)
        story.add("hq", key, "contained", hit, HQ_USER, note=NOTES["contained"][0])
        _recover(story, "hq", key, 1.5, 1.2, HQ_USER, quiet=False)
    for slug in slugs:
        if slug == "hq" or slug in UNAFFECTED:
            continue
        who = HQ_USER if slug in QUIET else f"chair.{slug}"
        pace = 3.0 if slug in LAGGING else story.rng.uniform(0.9, 2.6)
        for key in keys:
            hit = story.rng.choice(["outage", "contained"])
            story.add(slug, key, hit, story.at(12, story.rng.uniform(7, 12)), f"chair.{slug}")
            end = _recover(
                story,
                slug,
                key,
                12.5 + story.rng.uniform(0, 4) * pace,
                pace,
                who,
                quiet=slug in QUIET,
            )
            if slug == REINFECTED:
                _reinfect(story, slug, key, end)
    for row in story.rows:  # tag each event with the attack it belongs to
        attack = HQ_INCIDENT if row["branch"] == "hq" else BRANCH_INCIDENT
        row["incident"] = attack if row["at"] >= day0.isoformat() else ""
    story.rows.sort(key=lambda r: r["at"])
    return story.rows


def _reinfect(story: Story, slug: str, key: str, end: float) -> None:
    day = end + 5
    story.add(
        slug,
        key,
        "contained",
        story.at(day, 8),
        f"chair.{slug}",
        note="Re-infected from a compromised laptop; disconnected again.",
    )
    _recover(story, slug, key, day + 1, 1.0, f"chair.{slug}", quiet=False)


def _to_csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


def default_start(today: date | None = None) -> date:
    """Eight weeks before today: mid-recovery, with stale and overdue items live."""
    return (today or datetime.now(LONDON).date()) - timedelta(weeks=8)


def seed_demo(
    store: Store, *, start: date, now: datetime | None = None, force: bool = False
) -> int:
    """Load reference data, demo users, incidents and the story; returns events written.

    Refuses a database that already holds events unless `force`.
    """
    now = now or now_utc()
    with store.read() as conn:
        if conn.execute(select(func.count()).select_from(events)).scalar() and not force:
            raise ValidationError(
                "the database already holds events; use --force to add the demo anyway"
            )
    seed_reference(store)
    with store.read() as conn:
        slugs = list(conn.execute(select(branches.c.slug).order_by(branches.c.id)).scalars())
        keys = [
            k
            for k in conn.execute(select(systems.c.key).order_by(systems.c.id)).scalars()
            if k in ("website", "hub", "email")
        ]
    _demo_people(store, slugs)
    day0 = datetime.combine(start, time(19), LONDON).astimezone(UTC)
    _demo_incidents(store, day0)
    rows = build_story(slugs, keys, day0, now)
    count = import_csv(store, SYSTEM, _to_csv(rows), now=now, keep_source=True) if rows else 0
    set_workaround(
        store,
        SYSTEM,
        branch="kent",
        system="email",
        text="Email kent.temp@example.org until email returns.",
    )
    set_workaround(
        store,
        SYSTEM,
        branch="merseyside",
        system="website",
        text="Call 0151 000 0000 (Mon-Fri 9-5) while the website is down.",
    )
    # Checklists, dependencies, clocks and the HQ incident's closing, at the story's moments.
    recovery_story.add_story(store, rows, day0, now)
    return count


def _demo_people(store: Store, slugs: list[str]) -> None:
    existing = _usernames(store)
    for name, (role, branch, display, password) in DEMO_PASSWORDS.items():
        if name not in existing:
            add_user(
                store,
                SYSTEM,
                username=name,
                role=role,
                branch=branch,
                display_name=display,
                password=password,
            )
    for i, slug in enumerate(slugs):  # chairs the story quotes; no password, so no sign-in
        if slug != "hq" and f"chair.{slug}" not in existing | set(DEMO_PASSWORDS):
            add_user(
                store,
                SYSTEM,
                username=f"chair.{slug}",
                role="chair",
                branch=slug,
                display_name=f"{slug.replace('-', ' ').title()} chair",
                phone=f"07700 900{i:03d}",  # Ofcom's range for drama: rings nobody
            )


def _usernames(store: Store) -> set[str]:
    with store.read() as conn:
        return set(conn.execute(select(users.c.username)).scalars())


def _demo_incidents(store: Store, day0: datetime) -> None:
    target = (day0 + timedelta(days=90)).astimezone(LONDON).date()
    with store.read() as conn:
        have = set(conn.execute(select(incidents.c.name)).scalars())
    for name, start, text in (
        (HQ_INCIDENT, day0, "Malware on the HQ network in Leatherhead."),
        (
            BRANCH_INCIDENT,
            day0 + timedelta(days=12) - timedelta(hours=12),
            "Spread to branch networks; all branches disconnected.",
        ),
    ):
        if name not in have:  # seed --demo --force keeps the incidents it has
            add_incident(
                store, SYSTEM, name=name, started_at=start, target_date=target, description=text
            )
