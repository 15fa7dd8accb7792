"""What the recovery pages and the briefing show, in words and rows (issue 11).

Pure functions over what restore.recovery returns (checklists, blockers, clocks, incident
statuses), so that pages only read widgets, call the core and draw; plus the two reads a
page or a briefing needs that the core has no single call for (the clocks as of a past
moment; the critical path and forecast notes for one board). No Streamlit here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pandas as pd

from restore.domain import label_of
from restore.recovery import clocks as clock_core
from restore.recovery import depends
from restore.recovery.clocks import RISK_HOURS, Clock
from restore.recovery.closing import IncidentStatus
from restore.recovery.depends import Node
from restore.timefmt import show

GATE_WORDS = {"verifying": "Before verification", "restored": "Before service"}
CLOSED = " (closed)"


# --- the checklist of one branch system --------------------------------------------


def short(title: str) -> str:
    """An item's title up to its first colon or bracket: "Malware removed"."""
    return title.split(":")[0].split(" (")[0].strip() or title


def _when(iso: str) -> str:
    return show(datetime.fromisoformat(iso))


def checklist_rows(items: list[dict]) -> list[dict]:
    """One row per item of checklists.show(): Item, Needed, Done, By, When, Note, Evidence.
    By, When and Note are the newest tick's; Evidence names every file of every tick."""
    rows = []
    for i in items:
        last = i["ticks"][-1] if i["ticks"] else None
        files = [
            f"{f['name']} (SHA-256 {f['sha256'][:12]}…)" for t in i["ticks"] for f in t["files"]
        ]
        rows.append(
            {
                "key": i["key"],
                "Card": f"{'Done' if i['done'] else 'Not yet'} · {i['title']}",
                "Item": i["title"],
                "Needed": GATE_WORDS.get(i["gate"], i["gate"]),
                "Done": "Done" if i["done"] else "Not yet",
                "By": last["who"] if last else "",
                "When": _when(last["when"]) if last else "",
                "Note": last["note"] if last else "",
                "Evidence": "; ".join(files),
            }
        )
    return rows


def evidence_files(items: list[dict]) -> list[dict]:
    """Every evidence file of a checklist: id, name, sha256, item, who and when ticked."""
    return [
        {
            "id": f["id"],
            "name": f["name"],
            "sha256": f["sha256"],
            "size": f["size"],
            "item": short(i["title"]),
            "who": t["who"],
            "when": _when(t["when"]),
        }
        for i in items
        for t in i["ticks"]
        for f in t["files"]
    ]


def checklist_next_step(items: list[dict]) -> str:
    """The plain next step for whoever ticks: what verification and service still need."""
    if not items:
        return "This system has no recovery checklist."
    before = [short(i["title"]) for i in items if i["gate"] == "verifying" and not i["done"]]
    rest = [short(i["title"]) for i in items if i["gate"] != "verifying" and not i["done"]]
    if before:
        return f"Tick what is done; verification needs {_and(before)}."
    if rest:
        return f"Ready for verification. Before it goes back into service HQ IT needs {_and(rest)}."
    return "Every item is ticked: the checklist is complete."


def open_items(items: list[dict]) -> list[dict]:
    """The items not yet done, in checklist order (what a chair can tick)."""
    return [i for i in items if not i["done"]]


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# --- dependencies ------------------------------------------------------------------


def blocked_text(nodes: list[Node]) -> str:
    """ "blocked by HQ · Email (Rebuilding / restoring from backup)" ("" when none)."""
    return "blocked by " + "; ".join(n.describe() for n in nodes) if nodes else ""


def blocked_lines(blockers: dict[str, list[Node]], slug: str, names: dict[str, str]) -> list[str]:
    """For one branch: "The Hub: blocked by ..." per system of it that waits on others.
    `names` maps system keys to names."""
    out = []
    for key, nodes in blockers.items():
        branch, _, system = key.rpartition(":")
        if branch == slug and nodes:
            out.append(f"{names.get(system, system)}: {blocked_text(nodes)}")
    return sorted(out)


def critical_path_rows(path: list[Node]) -> list[dict]:
    """The critical path as rows, first blocker first: Step, System, State, Expected."""
    return [
        {
            "Step": n + 1,
            "System": f"{node.branch} · {node.system}",
            "State": label_of(node.state) if node.state else "not reported",
            "Expected": f"{node.eta:%-d %b %Y}" if node.eta else "no date",
        }
        for n, node in enumerate(path)
    ]


def critical_path_text(path: list[Node]) -> str:
    """One sentence on the critical path ("" when nothing waits on anything): "Kent · Public
    website waits on Kent · The Hub (Rebuilding ...); the latest expected date on this chain
    is 1 Dec 2026." """
    if not path:
        return ""
    dates = [n.eta for n in path if n.eta]
    last = path[-1]
    chain = ", which waits on ".join(n.describe() for n in reversed(path[:-1]))
    when = (
        f"the latest expected date on this chain is {max(dates):%-d %b %Y}"
        if dates
        else "no expected date is recorded on this chain"
    )
    return f"{last.branch} · {last.system} waits on {chain}; {when}."


def recovery_paths(store, board: pd.DataFrame, forecast: date | None) -> tuple[list, list]:
    """(critical path, forecast notes) for a board: depends.critical_path and
    depends.forecast_notes, read once for the overview."""
    return depends.critical_path(store, board), depends.forecast_notes(store, forecast, board)


# --- clocks ------------------------------------------------------------------------


def clocks_as_of(found: list[Clock], as_of: datetime) -> list[Clock]:
    """The clocks as they stood at `as_of`: started by then, a notification made later not
    yet counted, and each state and hours left derived for that moment."""
    out = []
    for c in found:
        if c.started_at > as_of:
            continue
        if c.met_at is not None and c.met_at > as_of:
            c = replace(c, met_at=None, met_by=None, reference=None)
        state = clock_core.state_of(c.due_at, c.met_at, as_of)
        left = (c.due_at - as_of).total_seconds() / 3600 if state == "running" else None
        out.append(replace(c, state=state, hours_left=left))
    return out


def clock_line(c: Clock) -> str:
    """ "ICO: breach report (HQ malware attack, owner DPO): due in 5 h 20 min (...)"."""
    return f"{c.title} ({c.incident}, owner {c.owner}): {c.countdown()}"


def clock_risk(c: Clock) -> str:
    """The briefing's risk sentence for a clock (the wording of clocks.risks)."""
    return f"{c.title} ({c.incident}, owner {c.owner}) is {c.countdown()}"


def is_risk(c: Clock, hours: int = RISK_HOURS) -> bool:
    return c.state == "running" and c.hours_left is not None and c.hours_left <= hours


def briefing_clocks(store, as_of: datetime) -> tuple[dict, ...]:
    """The clocks a briefing as of `as_of` shows: {"line", "state", "risk"} each, soonest
    due first, with "risk" set for a running clock due within clocks.RISK_HOURS."""
    found = clocks_as_of(clock_core.listing(store, now=as_of), as_of)
    return tuple(
        {"line": clock_line(c), "state": c.state, "risk": clock_risk(c) if is_risk(c) else ""}
        for c in found
    )


def countdown_rows(found: list[Clock], live: set[str]) -> list[dict]:
    """The overview's countdown: every running or missed clock of a live incident, soonest
    due first: Clock, Incident, Due, Owner (in words)."""
    return [
        {
            "Clock": c.title,
            "Incident": c.incident,
            "Due": c.countdown() if c.state == "running" else f"Missed: {c.countdown()}",
            "Owner": c.owner,
        }
        for c in found
        if c.incident in live and c.state in ("running", "missed")
    ]


def countdown_lines(found: list[Clock], live: set[str]) -> list[tuple[str, str]]:
    """The countdown as (kind, sentence), for the top of the overview (a phone reads these):
    kind "missed", "soon" (due within clocks.RISK_HOURS) or "running"."""
    out = []
    for c in found:
        if c.incident not in live:
            continue
        if c.state == "running":
            text = f"{c.title} ({c.incident}): {c.countdown()}; owner {c.owner}."
            out.append(("soon" if is_risk(c) else "running", text))
        elif c.state == "missed":
            late = f"was notified late, {show(c.met_at)}" if c.met_at else "has not been met"
            out.append(
                (
                    "missed",
                    f"Missed: {c.title} ({c.incident}) was due {show(c.due_at)} and {late}; "
                    f"owner {c.owner}.",
                )
            )
    return out


def met_text(found: list[Clock], live: set[str]) -> str:
    """ "2 clocks met with a notification; ..." ("" when none was met)."""
    n = sum(c.state == "met" and c.incident in live for c in found)
    if not n:
        return ""
    clocks = f"{n} clock{'s' if n != 1 else ''}"
    return f"{clocks} met with a notification; every clock is on the Recovery page."


def clock_rows(found: list[Clock]) -> list[dict]:
    """Every clock for the Recovery page: Id, Clock, Incident, State, Due, Outcome (short
    words), Reference, Owner, Started."""
    return [
        {
            "Id": c.id,
            "Clock": c.title,
            "Incident": c.incident,
            "State": c.state.capitalize(),
            "Due": show(c.due_at),
            "Outcome": _outcome(c),
            "Reference": c.reference or "",
            "Owner": c.owner,
            "Started": show(c.started_at),
        }
        for c in found
    ]


def _outcome(c: Clock) -> str:
    if c.state == "running":
        return c.countdown().split(" (")[0]  # "due in 9 h 58 min"; the Due column says when
    if c.met_at is None:
        return "not notified"
    late = "notified late" if c.state == "missed" else "notified"
    return f"{late} {show(c.met_at)} by {c.met_by}"


def unmet_clocks(found: list[Clock]) -> dict[int, str]:
    """Clocks with no notification yet, by id, labelled for a select box."""
    return {c.id: f"{c.title} ({c.incident}), {c.countdown()}" for c in found if c.met_at is None}


# --- incidents ---------------------------------------------------------------------


def open_names(statuses: list[IncidentStatus]) -> list[str]:
    return [s.name for s in statuses if s.state != "closed"]


def incident_choices(statuses: list[IncidentStatus]) -> dict[str, str]:
    """Incident name -> label for a select box: open ones first, closed ones after with
    "(closed)"."""
    ordered = [s for s in statuses if s.state != "closed"] + [
        s for s in statuses if s.state == "closed"
    ]
    return {s.name: s.name + (CLOSED if s.state == "closed" else "") for s in ordered}


def only_incidents(incidents: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The incidents frame narrowed to `names` (the live overview: the open incidents)."""
    return incidents[incidents["name"].isin(names)]


def status_words(s: IncidentStatus) -> str:
    """Where an incident's closing stands, in one sentence."""
    if s.state == "closed":
        return (
            f"Closed: proposed by {s.proposed_by} on {show(s.proposed_at)}, confirmed by "
            f"{s.confirmed_by} on {show(s.confirmed_at)}. Its figures are frozen."
        )
    if s.state == "proposed":
        return (
            f"HQ IT ({s.proposed_by}) proposed closing it on {show(s.proposed_at)}; it waits "
            "for leadership to confirm (a second key)."
        )
    return (
        f"Open since {show(s.started_at)}. It may close after {s.reinfection_days} days "
        "without re-infection, once every criterion below holds."
    )


def parse_actions(text: str) -> list[tuple[str, str]]:
    """Actions typed one per line as "what to do; owner" (the owner after the last ";").
    A line without ";" keeps an empty owner, which the core refuses by line number."""
    out = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        what, sep, owner = line.rpartition(";")
        out.append((what.strip(), owner.strip()) if sep else (line.strip(), ""))
    return out


def proposal(store, incident: str) -> dict | None:
    """The lessons learned and actions (what, owner) HQ IT proposed an incident's closing
    with, for leadership to read before confirming; None when nothing is proposed."""
    import json

    from sqlalchemy import select

    from restore.recovery.tables import closings
    from restore.store import incidents

    with store.read() as conn:
        row = conn.execute(
            select(closings.c.proposed_at, closings.c.lessons, closings.c.actions)
            .join(incidents, incidents.c.id == closings.c.incident_id)
            .where(incidents.c.name == incident)
        ).first()
    if row is None or row.proposed_at is None:
        return None
    actions = [{"Action": a["action"], "Owner": a["owner"]} for a in json.loads(row.actions)]
    return {"lessons": row.lessons, "actions": actions}


def checklist_summary(items: list[dict]) -> str:
    """ "2 of 6 done" ("no checklist" when the system type has none)."""
    if not items:
        return "no checklist"
    return f"{sum(i['done'] for i in items)} of {len(items)} done"


def dependency_rows(listed: list[dict]) -> list[dict]:
    """depends.listing() for a table: System, Waits on, Added by, Added (London)."""
    return [
        {
            "System": d["system"],
            "Waits on": d["on"],
            "Added by": d["added_by"],
            "Added": _when(d["added_at"]),
        }
        for d in listed
    ]
