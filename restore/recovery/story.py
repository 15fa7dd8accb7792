"""The demo story's recovery side (restore.demo calls add_story after loading the events):
the default checklist ticked as systems were checked, with evidence; the default
dependencies (every branch's e-mail on HQ e-mail, its Hub on HQ's) and Kent's website on
its Hub; the regulator's 72 hours and other clocks; Kent's Hub checklist left half done;
and the HQ incident closed, proposed by HQ IT and confirmed by leadership, with its final
report. Every write goes through the core, at the story's own moments."""

from __future__ import annotations

from datetime import datetime, timedelta

from restore.directory import SYSTEM, actor_for
from restore.domain import Band, band_of
from restore.recovery import checklists, clocks, closing, depends
from restore.recovery.checklists import Tick
from restore.store import Store

HQ_USER, LEADER = "hq.it", "leader"
OPEN = ("kent", "hub")  # the checklist the story leaves half done
LESSONS = (
    "Offline, immutable backups let HQ rebuild from a clean copy within weeks; the branch "
    "network waited on HQ e-mail and identity for longer than on its own systems.\n"
    "Branch chairs kept reporting through the whole recovery, but several went quiet for "
    "days; the one-tap check-in and reminders made the difference.\n"
    "The regulator's 72 hours were met because the data-protection officer started the "
    "clock on the evening of the attack, before the scope was known."
)
ACTIONS = [
    ("Second, independent mail relay for the branches", "HQ IT infrastructure lead"),
    ("Quarterly restore drill from the offline backups", "HQ IT"),
    ("Forensic retainer renewed with a 4-hour call-out", "Chief operating officer"),
    ("Incident roles and phone tree in every branch's handbook", "Leadership"),
]
EVIDENCE = (
    "Forensic clearance: HQ e-mail\n\nThe outside firm examined the rebuilt mail servers, the "
    "restored mailboxes and the authentication logs and found no sign of the attacker's tools "
    "or persistence. Cleared for reconnection.\n"
)


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _ticks(rows: list[dict], items: list, now: datetime) -> list[tuple[str, Tick]]:
    """(who, tick) for every check the story's systems passed: the verification items just
    before each move to verifying, the rest just before HQ IT put it back in service."""
    out, last = [], {}
    verifying = [i.key for i in items if i.gate == "verifying"]
    restored = [i.key for i in items if i.gate == "restored"]
    for r in rows:
        key = (r["branch"], r["system"])
        before, last[key] = last.get(key), r["state"]
        at = _when(r["at"])
        if r["state"] == "verifying" and before != "verifying" and key != OPEN:
            who = r["who"] if r["who"] in (HQ_USER, f"chair.{r['branch']}") else HQ_USER
            for n, item in enumerate(verifying):
                note = "Done and checked against the NCSC guidance." if n == 0 else ""
                out.append((who, Tick(*key, item, note, at=at - timedelta(hours=2, minutes=n))))
        elif before == "verifying" and band_of(r["state"]) is Band.IN:
            for n, item in enumerate(restored):
                name = data = None
                if key == ("hq", "email") and item == "forensic-signoff":
                    name, data = "forensic-clearance-hq-email.txt", EVIDENCE.encode()
                tick = Tick(*key, item, "", name, data, at=at - timedelta(minutes=30 - n))
                out.append((HQ_USER, tick))
    open_at = now - timedelta(days=1)
    for n, item in enumerate(verifying[:2]):
        note = "New server built from clean media." if n == 0 else "All branch accounts reset."
        out.append((f"chair.{OPEN[0]}", Tick(*OPEN, item, note, at=open_at + timedelta(hours=n))))
    return [(who, t) for who, t in out if t.at <= now]


def add_story(store: Store, rows: list[dict], day0: datetime, now: datetime) -> None:
    """Add the recovery side of the demo story (see the module's docstring)."""
    checklists.load_defaults(store, SYSTEM, now=day0 + timedelta(hours=20))
    depends.load_defaults(store, SYSTEM, now=day0 + timedelta(days=12))
    depends.add(
        store, SYSTEM, branch="kent", system="website", on="kent:hub", now=day0 + timedelta(days=13)
    )
    actors = {}
    by_who: dict[str, list[Tick]] = {}
    for who, tick in _ticks(rows, checklists.items(store), now):
        by_who.setdefault(who, []).append(tick)
    for who, batch in by_who.items():
        actors[who] = actors.get(who) or actor_for(store, who)
        checklists.tick_many(store, actors[who], batch, now=now)
    _clocks(store, day0, now)
    _close_hq(store, rows, now)


def _clocks(store: Store, day0: datetime, now: datetime) -> None:
    leader, it = actor_for(store, LEADER), actor_for(store, HQ_USER)
    hq, branch = "HQ malware attack", "Branch network attack"
    branch0 = day0 + timedelta(days=11, hours=12)
    for incident, title, start, hours, owner, met in (
        (
            hq,
            "ICO: personal-data breach report (72 hours)",
            day0 + timedelta(hours=3),
            72,
            "Data-protection officer",
            (LEADER, timedelta(hours=50), "IC-204871-K3P9"),
        ),
        (
            hq,
            "Insurer notification (7 days)",
            day0 + timedelta(hours=3),
            168,
            "Finance director",
            (HQ_USER, timedelta(days=2), "CLM-55120"),
        ),
        (
            hq,
            "NCSC incident report",
            day0 + timedelta(hours=5),
            48,
            "HQ IT",
            (HQ_USER, timedelta(hours=20), "NCSC-2211-0457"),
        ),
        (
            branch,
            "ICO: personal-data breach report (72 hours)",
            branch0,
            72,
            "Data-protection officer",
            (LEADER, timedelta(hours=60), "IC-205113-Q7T2"),
        ),
        (
            branch,
            "Action Fraud crime report",
            branch0,
            24,
            "HQ IT",
            (HQ_USER, timedelta(hours=30), "NFRC-2411-88317"),
        ),
        (
            branch,
            "Board: recovery update to trustees",
            now - timedelta(hours=62),
            72,
            "Chief executive",
            None,
        ),
    ):
        if start > now:
            continue
        new_id = clocks.add(
            store,
            it,
            incident=incident,
            title=title,
            start=start,
            due_hours=hours,
            owner=owner,
            now=start,
        )
        if met and start + met[1] <= now:
            who = leader if met[0] == LEADER else it
            clocks.met(
                store, who, clock_id=new_id, reference=met[2], at=start + met[1], now=start + met[1]
            )


def _close_hq(store: Store, rows: list[dict], now: datetime) -> None:
    """HQ IT proposes closing the HQ incident three days after HQ's last system came back;
    leadership confirms the next day (when both moments have come, and it may close)."""
    hq_rows = [r for r in rows if r["branch"] == "hq"]
    if not hq_rows:
        return
    proposed = _when(max(r["at"] for r in hq_rows)) + timedelta(days=3)
    confirmed = proposed + timedelta(days=1)
    incident = "HQ malware attack"
    if confirmed > now or closing.criteria(store, incident=incident, now=proposed):
        return
    closing.propose(
        store,
        actor_for(store, HQ_USER),
        incident=incident,
        lessons=LESSONS,
        actions=ACTIONS,
        now=proposed,
    )
    closing.confirm(store, actor_for(store, LEADER), incident=incident, now=confirmed)
