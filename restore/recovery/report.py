"""The final report of a closed incident: figures as plain data, then Markdown and PDF.

figures() reads the database once, at closing; to_markdown() and to_pdf() draw only from
those figures, so the stored report and figures agree and never change afterwards. The
PDF reuses the briefings' A4 machinery (restore.briefing_pdf) in the same style.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from restore.briefing import md
from restore.briefing_pdf import _Document, _Writer
from restore.domain import STATES, Band
from restore.recovery.clocks import listing as clock_listing
from restore.recovery.tables import evidence, ticks
from restore.store import Store, branch_systems, branches, events, incidents, systems
from restore.timefmt import show

_OUT = tuple(s for s, st in STATES.items() if st.band is not Band.IN)
_IN = tuple(s for s, st in STATES.items() if st.band is Band.IN)
SECTIONS = (
    "Timeline",
    "Time to restore per system type",
    "What slipped and why",
    "Clocks met or missed",
    "Lessons learned",
)


def affected(conn: Connection, incident_id: int) -> list[int]:
    """Branch systems this incident took out of service (any event of it out of service)."""
    return list(
        conn.execute(
            select(events.c.branch_system_id)
            .where(events.c.incident_id == incident_id, events.c.state.in_(_OUT))
            .distinct()
            .order_by(events.c.branch_system_id)
        ).scalars()
    )


def _t(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def figures(store: Store, incident: str, *, closing: dict, now: datetime) -> dict:
    """Everything the report says, as JSON-ready data. `closing` holds who proposed and
    confirmed, when, the lessons and the actions with owners."""
    with store.read() as conn:
        inc = conn.execute(select(incidents).where(incidents.c.name == incident)).first()
        ids = affected(conn, inc.id)
        names = {
            r.id: (r.slug, r.branch, r.key, r.system)
            for r in conn.execute(
                select(
                    branch_systems.c.id,
                    branches.c.slug,
                    branches.c.name.label("branch"),
                    systems.c.key,
                    systems.c.name.label("system"),
                )
                .join(branches, branches.c.id == branch_systems.c.branch_id)
                .join(systems, systems.c.id == branch_systems.c.system_id)
                .where(branch_systems.c.id.in_(ids or [-1]))
            )
        }
        rows = conn.execute(
            select(
                events.c.branch_system_id,
                events.c.state,
                events.c.effective_at,
                events.c.eta,
                events.c.note,
                events.c.actor,
            )
            .where(events.c.branch_system_id.in_(ids or [-1]), events.c.effective_at <= now)
            .order_by(events.c.branch_system_id, events.c.effective_at, events.c.id)
        ).all()
        tick_count = conn.execute(
            select(func.count()).select_from(ticks).where(ticks.c.branch_system_id.in_(ids or [-1]))
        ).scalar()
        file_count = conn.execute(
            select(func.count())
            .select_from(evidence.join(ticks, ticks.c.id == evidence.c.tick_id))
            .where(ticks.c.branch_system_id.in_(ids or [-1]))
        ).scalar()
    per_system, slipped = _walk(rows, names, inc.started_at)
    clocks = [c.to_json() for c in clock_listing(store, now=now, incident=incident)]
    return {
        "incident": {
            "name": inc.name,
            "started_at": _t(inc.started_at),
            "target_date": inc.target_date.isoformat() if inc.target_date else None,
            "description": inc.description or "",
        },
        "closing": closing,
        "affected": len(ids),
        "systems": per_system,
        "per_type": _per_type(per_system),
        "slipped": slipped,
        "clocks": clocks,
        "checklist": {"ticks": tick_count, "evidence_files": file_count},
        "timeline": _timeline(inc, per_system, clocks, closing),
    }


def _walk(rows, names, started_at) -> tuple[list[dict], list[dict]]:
    """Per affected system: when it went down and came back for good; every later date."""
    per: dict[int, dict] = {}
    slipped = []
    last_eta: dict[int, object] = {}
    for r in rows:
        slug, branch, key, system = names[r.branch_system_id]
        s = per.setdefault(
            r.branch_system_id,
            {
                "key": f"{slug}:{key}",
                "branch": branch,
                "system": system,
                "type": key,
                "down_at": None,
                "back_at": None,
            },
        )
        if r.state in _OUT:
            if s["down_at"] is None and r.effective_at >= started_at - timedelta(days=1):
                s["down_at"] = r.effective_at
            s["back_at"] = None
        elif s["down_at"] is not None and s["back_at"] is None:
            s["back_at"] = r.effective_at
        before = last_eta.get(r.branch_system_id)
        if r.eta and before and r.eta > before:
            slipped.append(
                {
                    "key": s["key"],
                    "at": _t(r.effective_at),
                    "from": before.isoformat(),
                    "to": r.eta.isoformat(),
                    "days": (r.eta - before).days,
                    "why": r.note or "(no note)",
                    "who": r.actor,
                }
            )
        if r.eta:
            last_eta[r.branch_system_id] = r.eta
    out = []
    for s in per.values():
        days = None
        if s["down_at"] and s["back_at"]:
            days = round((s["back_at"] - s["down_at"]).total_seconds() / 86400, 1)
        out.append(s | {"down_at": _t(s["down_at"]), "back_at": _t(s["back_at"]), "days": days})
    return out, slipped


def _per_type(per_system: list[dict]) -> list[dict]:
    groups: dict[str, list[float]] = {}
    labels = {}
    for s in per_system:
        labels[s["type"]] = s["system"]
        if s["days"] is not None:
            groups.setdefault(s["type"], []).append(s["days"])
    return [
        {
            "system": labels[k],
            "restored": len(v),
            "median_days": round(statistics.median(v), 1),
            "mean_days": round(statistics.fmean(v), 1),
            "longest_days": max(v),
        }
        for k, v in sorted(groups.items())
    ]


def _timeline(inc, per_system, clocks, closing) -> list[dict]:
    moments = [{"at": _t(inc.started_at), "what": f"Incident began: {inc.name}"}]
    for c in clocks:
        moments.append({"at": c["started_at"], "what": f"Clock started: {c['title']}"})
        if c["met_at"]:
            moments.append(
                {
                    "at": c["met_at"],
                    "what": f"{c['title']}: notified by {c['met_by']} (reference {c['reference']})",
                }
            )
    downs = sorted(s["down_at"] for s in per_system if s["down_at"])
    if downs:
        moments.append(
            {
                "at": downs[0],
                "what": f"First system out of service ({len(per_system)} affected in all)",
            }
        )
    for s in per_system:
        if s["back_at"]:
            moments.append(
                {
                    "at": s["back_at"],
                    "what": f"Back in service: {s['branch']} · "
                    f"{s['system']} after {s['days']} days",
                }
            )
    for key, what in (
        ("proposed", "Recovery complete proposed by"),
        ("confirmed", "Closing confirmed by"),
    ):
        if closing.get(f"{key}_at"):
            moments.append({"at": closing[f"{key}_at"], "what": f"{what} {closing[f'{key}_by']}"})
    return sorted(moments, key=lambda m: m["at"])


# --- Markdown -------------------------------------------------------------------------


def _when(iso: str | None) -> str:
    return show(datetime.fromisoformat(iso)) if iso else "-"


def _lines(f: dict) -> dict[str, list[str]]:
    """Each section's lines as plain text (escaped for Markdown by the caller)."""
    c = f["closing"]
    clocks = [
        f"{k['title']} (owner {k['owner']}): {k['state'].upper()}; due {_when(k['due_at'])}"
        + (
            f"; notified {_when(k['met_at'])} by {k['met_by']}, reference {k['reference']}"
            if k["met_at"]
            else ""
        )
        for k in f["clocks"]
    ]
    slipped = [
        f"{s['key']}: {s['from']} -> {s['to']} (+{s['days']} days), {_when(s['at'])}: {s['why']}"
        for s in f["slipped"]
    ]
    return {
        "timeline": [f"{_when(m['at'])}: {m['what']}" for m in f["timeline"]],
        "clocks": clocks,
        "slipped": slipped,
        "actions": [f"{a['action']} (owner: {a['owner']})" for a in c.get("actions", [])],
    }


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def summary(f: dict) -> str:
    c = f["closing"]
    return (
        f"{f['incident']['name']}: began {_when(f['incident']['started_at'])}; recovery "
        f"complete proposed by {c.get('proposed_by')} on {_when(c.get('proposed_at'))} and "
        f"confirmed by {c.get('confirmed_by') or '(not yet)'} on {_when(c.get('confirmed_at'))}."
        f" {_n(f['affected'], 'system')} affected; {_n(f['checklist']['ticks'], 'checklist tick')}"
        f" with {_n(f['checklist']['evidence_files'], 'evidence file')} recorded."
    )


def to_markdown(f: dict) -> str:
    """The final report as Markdown; every user and reference text is escaped."""
    lines = _lines(f)
    out = [f"# Final report: {md(f['incident']['name'])}", "", f"**{md(summary(f))}**", ""]
    if f["incident"]["description"]:
        out += [f"> {md(f['incident']['description'])}", ""]

    def bullets(items: list[str], empty: str) -> list[str]:
        return [f"- {md(i)}" for i in items] + [""] if items else [f"_{empty}_", ""]

    out += ["## Timeline", "", *bullets(lines["timeline"], "Nothing recorded.")]
    out += ["## Time to restore per system type", ""]
    if f["per_type"]:
        out += [
            "| System | Restored | Median days | Mean days | Longest days |",
            "|---|---|---|---|---|",
        ]
        out += [
            f"| {md(r['system'])} | {r['restored']} | {r['median_days']} | {r['mean_days']} "
            f"| {r['longest_days']} |"
            for r in f["per_type"]
        ] + [""]
    else:
        out += ["_No system was restored._", ""]
    out += ["## What slipped and why", "", *bullets(lines["slipped"], "No expected date moved.")]
    out += ["## Clocks met or missed", "", *bullets(lines["clocks"], "No clock was recorded.")]
    out += ["## Lessons learned", ""]
    lessons = f["closing"].get("lessons") or ""
    paragraphs = [p for p in lessons.splitlines() if p.strip()]
    out += [x for p in paragraphs for x in (md(p), "")] or ["_None written._", ""]
    out += ["### Actions and owners", "", *bullets(lines["actions"], "No actions.")]
    return "\n".join(out)


# --- PDF ------------------------------------------------------------------------------


class _Report(_Document):
    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(self.family, "", 8)
        self.set_text_color(100, 110, 120)
        self.cell(
            0,
            5,
            self.safe(f"Restore final report · closed {self.as_of} · produced {self.produced}"),
        )
        self.set_x(-40)
        self.cell(24, 5, f"Page {self.page_no()} of {{nb}}", align="R")


def to_pdf(f: dict) -> bytes:
    """The final report as an A4 PDF in the briefings' style."""
    closed = _when(f["closing"].get("confirmed_at") or f["closing"].get("proposed_at"))
    title = f"Final report: {f['incident']['name']}"
    pdf = _Report(title, closed, closed)
    pdf.add_page()
    w = _Writer(pdf)
    pdf.set_font(pdf.family, "B", 18)
    pdf.set_text_color(31, 41, 51)
    pdf.multi_cell(0, 9, pdf.safe(title), new_x="LMARGIN", new_y="NEXT")
    w.para(summary(f), size=11, bold=True)
    if f["incident"]["description"]:
        w.para(f["incident"]["description"])
    lines = _lines(f)
    w.heading("Timeline")
    _all(w, lines["timeline"], "Nothing recorded.")
    w.heading("Time to restore per system type")
    w.table(
        ["System", "Restored", "Median days", "Mean days", "Longest days"],
        [
            [
                r["system"],
                str(r["restored"]),
                str(r["median_days"]),
                str(r["mean_days"]),
                str(r["longest_days"]),
            ]
            for r in f["per_type"]
        ],
    )
    w.heading("What slipped and why")
    _all(w, lines["slipped"], "No expected date moved.")
    w.heading("Clocks met or missed")
    _all(w, lines["clocks"], "No clock was recorded.")
    w.heading("Lessons learned")
    w.para(f["closing"].get("lessons") or "None written.")
    w.heading("Actions and owners", size=11)
    w.table(
        ["Action", "Owner"],
        [[a["action"], a["owner"]] for a in f["closing"].get("actions", [])],
        widths=(130, 48),
    )
    return bytes(pdf.output())


def _all(w: _Writer, items: list[str], empty: str) -> None:
    """Every item as a bullet: a final report leaves nothing out."""
    for item in items or [empty]:
        w.para(("• " if items else "") + item)
