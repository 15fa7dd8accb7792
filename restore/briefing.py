"""Leadership briefings: what is restored, what is not, what changed, when it will be done.

A briefing is composed from frames the queries return for one "as of" moment
(publishing.py reads them from the event log), compared with the previous
*published* briefing, and rendered to Markdown here (PDF in briefing_pdf.py).
No database here: every figure comes from the same functions the dashboard uses.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd

from restore import figures, queries, scale
from restore.domain import Band
from restore.timefmt import show

LONG_VERIFICATION = timedelta(days=3)
# Section keys and headings, shared by the Markdown and the PDF.
CHANGE_SECTIONS = (
    ("restored", "Systems restored"),
    ("lost", "Systems lost again"),
    ("new_overdue", "New overdue dates"),
    ("went_quiet", "Branches gone quiet"),
)
RISK_SECTIONS = (
    ("overdue", "Overdue expected dates"),
    ("long_verification", "Waiting long for HQ verification"),
    ("stale", "Branches gone quiet (48 hours) or never reported"),
    ("reinfections", "Re-infections"),
    ("clocks", "Clocks due within 12 hours"),
)
IN = Band.IN.value
MAX_BULLETS = 50  # a change or risk list names at most this many in Markdown and PDF


def key(branch: str, system: str) -> str:
    return f"{branch}: {system}"


@dataclass
class Briefing:
    """Everything a briefing says, as plain data (stored as JSON when published)."""

    as_of: str  # ISO 8601, UTC
    headline: str
    totals: dict
    per_system: list[dict]
    per_band: dict[str, int]
    per_region: list[dict]
    days_since: dict[str, int]
    forecast: dict | None
    previous: dict | None  # {"title", "as_of"} of the briefing compared against
    changes: dict[str, list[str]]
    still_out: list[dict]
    risks: dict[str, list[str]]
    snapshot: dict = field(default_factory=dict)  # for the next briefing's comparison
    # Per region: {"region", "still_out", "overdue", "named", "more"}; still_out then names at
    # most scale.NAMED_PER_REGION per region. Briefings published before this was kept have
    # it empty and still_out whole.
    still_out_regions: list[dict] = field(default_factory=list)
    # A countdown line per regulatory or contractual clock (running, met or missed), soonest
    # due first; empty in briefings published before clocks were kept.
    clocks: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def _forecast_text(fc: figures.Forecast | None) -> str:
    if fc is None or (fc.likely is None and fc.done_on is None):
        return "there is no recent progress to forecast from"
    if fc.done_on:
        return f"full restoration was reached on {fc.done_on:%-d %B %Y}"
    text = f"full restoration forecast for {fc.likely:%-d %B %Y}"
    return f"{text} ({fc.against_target()})"


def _silent_text(head: figures.Headline) -> str:
    n = len(head.never_reported_branches)
    if n:
        return f"{n} branch{'es have' if n != 1 else ' has'} never reported"
    m = head.never_reported_systems
    return f"{m} system{'s have' if m != 1 else ' has'} never been reported" if m else ""


def headline_text(head: figures.Headline, previous_in: int | None = None) -> str:
    """The briefing's one-sentence headline; the overview opens with it too."""
    if head.total == 0:
        return "No branch systems are recorded yet."
    if head.never_reported_systems == head.total:
        return f"No status has been recorded yet for any of the {head.total} branch systems."
    text = f"{head.in_service} of {head.total} systems are back in service ({head.percent}%)"
    if previous_in is not None:
        diff = head.in_service - previous_in
        text += ", " + (f"up {diff}" if diff > 0 else f"down {-diff}" if diff < 0 else "no change")
        text += " since the last briefing"
    text += f"; {_forecast_text(head.forecast)}"
    silent = _silent_text(head)
    return f"{text}; {silent}." if silent else f"{text}."


def _snapshot(board: pd.DataFrame, overdue_keys: set[str], stale: list[str]) -> dict:
    return {
        "systems": {
            key(r.branch, r.system_name): {
                "band": r.band,
                "state": r.state if isinstance(r.state, str) else None,
            }
            for r in board.itertuples()
        },
        "overdue": sorted(overdue_keys),
        "stale": sorted(stale),
    }


def _changes(snap: dict, prev: dict | None) -> dict[str, list[str]]:
    if prev is None:
        return {"restored": [], "lost": [], "new_overdue": [], "went_quiet": []}
    before, now = prev["systems"], snap["systems"]
    restored = [
        k for k, v in now.items() if v["band"] == IN and before.get(k, {}).get("band") != IN
    ]
    lost = [k for k, v in now.items() if v["band"] != IN and before.get(k, {}).get("band") == IN]
    return {
        "restored": sorted(restored),
        "lost": sorted(lost),
        "new_overdue": sorted(set(snap["overdue"]) - set(prev["overdue"])),
        "went_quiet": sorted(set(snap["stale"]) - set(prev["stale"])),
    }


def _per_group(board: pd.DataFrame, by: str, name: str) -> list[dict]:
    out = []
    for value, grp in board.groupby(by, sort=False):
        counts = grp["band"].value_counts()
        out.append(
            {name: value, "total": len(grp), **{b.value: int(counts.get(b.value, 0)) for b in Band}}
        )
    return out


def _still_out(board: pd.DataFrame, overdue_keys: set[str]) -> tuple[list[dict], list[dict]]:
    """(named items, per-region counts): every system not in service, counted per region;
    at most scale.NAMED_PER_REGION named per region, overdue first, then the longest out."""
    out = board[board["band"] != IN]
    late = [key(b, s) in overdue_keys for b, s in zip(out["branch"], out["system_name"],
                                                     strict=True)]  # fmt: skip
    out = out.assign(late_=late).sort_values(
        ["region", "late_", "since", "branch", "system_name"],
        ascending=[True, False, True, True, True],
        na_position="last",
    )
    counts = out.groupby("region", sort=True).agg(n=("late_", "size"), late=("late_", "sum"))
    regions = [
        {
            "region": region,
            "still_out": int(r.n),
            "overdue": int(r.late),
            "named": min(int(r.n), scale.NAMED_PER_REGION),
            "more": max(int(r.n) - scale.NAMED_PER_REGION, 0),
        }
        for region, r in counts.iterrows()
    ]
    named = out.groupby("region", sort=False).head(scale.NAMED_PER_REGION)
    items = [
        {
            "region": r.region,
            "branch": r.branch,
            "system": r.system_name,
            "state": r.label,
            "since": show(r.since) if pd.notna(r.since) else "",
            "eta": r.eta.isoformat() if isinstance(r.eta, date) else "",
            "overdue": bool(r.late_),
        }
        for r in named.itertuples()
    ]
    return items, regions


def _risks(board, overdue, stale, episodes, as_of) -> dict[str, list[str]]:
    verifying = board[
        (board["state"] == "verifying")
        & (board["since"] <= pd.Timestamp(as_of) - LONG_VERIFICATION)
    ]
    repeat = episodes.groupby(["branch", "system"]).size()
    kinds = board[["system", "system_name"]].drop_duplicates("system")
    names = dict(zip(kinds["system"], kinds["system_name"], strict=True))
    return {
        "overdue": [
            f"{r.branch} {r.system_name}: expected {r.eta}, {r.days_overdue} days overdue"
            for r in overdue.itertuples()
        ],
        "long_verification": [
            f"{r.branch} {r.system_name}: waiting for HQ checks since {show(r.since)}"
            for r in verifying.itertuples()
        ],
        "stale": [_stale_text(r) for r in stale.itertuples()],
        "reinfections": [
            f"{b} {names.get(s, s)}: lost {n} times" for (b, s), n in repeat.items() if n > 1
        ],
    }


def _stale_text(r) -> str:
    if pd.isna(r.last_update):
        return f"{r.branch}: has never reported"
    text = f"{r.branch}: no update for {r.hours_quiet:.0f} hours"
    if r.never_reported:
        text = f"{r.branch}: {r.never_reported} system(s) never reported"
    return text


@dataclass(frozen=True)
class Inputs:
    """The frames a briefing is composed from, all as of one moment."""

    board: pd.DataFrame
    change_24h: int  # systems in service now minus 24 hours before (in_service_change)
    daily: pd.DataFrame
    incidents: pd.DataFrame
    episodes: pd.DataFrame
    # The clocks as of the moment (restore.recovery_views.briefing_clocks): {"line", "state",
    # "risk"} each, "risk" set for a running clock due within 12 hours.
    clocks: tuple[dict, ...] = ()


def compose(inputs: Inputs, as_of: datetime, previous: dict | None = None) -> Briefing:
    """The briefing as of `as_of` (aware), compared with a previous published one (its JSON)."""
    board = inputs.board
    head = figures.headline(board, inputs.change_24h, inputs.daily, inputs.incidents, as_of)
    overdue = queries.overdue(board, as_of)
    stale = queries.stale(board, as_of)
    overdue_keys = {key(r.branch, r.system_name) for r in overdue.itertuples()}
    snap = _snapshot(board, overdue_keys, list(stale["branch"]))
    still_out, still_out_regions = _still_out(board, overdue_keys)
    prev_in = previous["totals"]["in_service"] if previous else None
    fc = head.forecast
    return Briefing(
        as_of=as_of.isoformat(),
        headline=headline_text(head, prev_in),
        totals={
            "in_service": head.in_service,
            "total": head.total,
            "percent": head.percent,
            "out_of_service": head.out_of_service,
            "change_24h": head.change_24h,
            "branches": head.branches_total,
            "branches_all_in_service": head.branches_all_in_service,
            "branches_fresh": head.branches_fresh,
            "branches_never_reported": len(head.never_reported_branches),
            "systems_never_reported": head.never_reported_systems,
            "since_previous": None if prev_in is None else head.in_service - prev_in,
        },
        per_system=_per_group(board, "system_name", "system"),
        per_band={b.value: int((board["band"] == b.value).sum()) for b in Band},
        per_region=_per_group(board.sort_values("region"), "region", "region"),
        days_since=head.days_since,
        forecast=None
        if fc is None
        else {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(fc).items()}
        | {"days_before_target": fc.days_before_target, "against_target": fc.against_target()},
        previous={"title": previous.get("title", ""), "as_of": previous["as_of"]}
        if previous
        else None,
        changes=_changes(snap, previous["snapshot"] if previous else None),
        still_out=still_out,
        risks=_risks(board, overdue, stale, inputs.episodes, as_of)
        | {"clocks": [c["risk"] for c in inputs.clocks if c["risk"]]},
        snapshot=snap,
        still_out_regions=still_out_regions,
        clocks=[c["line"] for c in inputs.clocks],
    )


# --- Markdown -------------------------------------------------------------------

# Markdown punctuation, plus $ (maths), & (entities) and : (emoji codes, autolinked URLs).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#!|<>~$&:])")


def md(text: str) -> str:
    """User or reference text made literal in Markdown."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def _table(rows: list[dict], columns: dict[str, str]) -> list[str]:
    if not rows:
        return ["_None._", ""]
    lines = ["| " + " | ".join(columns.values()) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(md(r[c]) for c in columns) + " |" for r in rows]
    return [*lines, ""]


def capped(items: list[str], limit: int = MAX_BULLETS) -> list[str]:
    """At most `limit` items, and then "and K more." when some were left out."""
    if len(items) <= limit:
        return list(items)
    return [*items[:limit], f"and {len(items) - limit:,} more."]


def _bullets(items: list[str], empty: str) -> list[str]:
    return [f"- {md(i)}" for i in capped(items)] + [""] if items else [f"_{empty}_", ""]


STILL_OUT_COLUMNS = {
    "branch": "Branch",
    "system": "System",
    "state": "State",
    "since": "Since",
    "eta": "Expected",
    "overdue": "",
}


def still_out_intro(b: Briefing) -> str:
    """The sentence that opens the per-region still-out list."""
    n = sum(r["still_out"] for r in b.still_out_regions)
    late = sum(r["overdue"] for r in b.still_out_regions)
    regions = len(b.still_out_regions)
    return (
        f"{n:,} branch system{'s are' if n != 1 else ' is'} not in service, {late:,} of them "
        f"overdue, in {regions:,} region{'s' if regions != 1 else ''}. Each region names at "
        f"most {scale.NAMED_PER_REGION}: overdue first, then the longest out."
    )


def region_heading(r: dict) -> str:
    return f"{r['region']}: {r['still_out']:,} still out, {r['overdue']:,} overdue"


def _still_out_md(b: Briefing) -> list[str]:
    rows = [r | {"overdue": "overdue" if r["overdue"] else ""} for r in b.still_out]
    if not b.still_out_regions:  # published before regions were kept, or nothing is out
        return _table(rows, STILL_OUT_COLUMNS)
    lines = [md(still_out_intro(b)), ""]
    for region in b.still_out_regions:
        lines += [f"### {md(region_heading(region))}", ""]
        lines += _table([r for r in rows if r["region"] == region["region"]], STILL_OUT_COLUMNS)
        if region["more"]:
            lines += [f"_and {region['more']:,} more in {md(region['region'])}._", ""]
    return lines


def when(iso_time: str) -> str:
    return show(datetime.fromisoformat(iso_time))


def to_markdown(
    b: Briefing,
    *,
    title: str = "Draft briefing",
    note: str = "",
    author: str = "",
    published_at: str = "",
) -> str:
    """The briefing as Markdown; all user and reference text is escaped."""
    lines = [f"# {md(title)}", "", f"**As of {when(b.as_of)} (London)**"]
    if published_at:
        lines[-1] += f" · published {when(published_at)} by {md(author)}"
    lines += ["", f"**{md(b.headline)}**", ""]
    if note:
        lines += [*[f"> {md(line)}" for line in note.splitlines()], ""]
    lines += _figures_md(b) + _clocks_md(b) + _changes_md(b)
    lines += ["## Still out", "", *_still_out_md(b), "## Risks that need a decision", ""]
    for name, label in RISK_SECTIONS:
        lines += [f"### {label}", "", *_bullets(b.risks.get(name, []), "None.")]
    return "\n".join(lines)


CLOCKS_HEADING = "Regulatory and contractual clocks"


def _clocks_md(b: Briefing) -> list[str]:
    """A countdown line per clock; nothing for a briefing published before clocks."""
    if not b.clocks:
        return []
    return [f"## {CLOCKS_HEADING}", "", *_bullets(b.clocks, "None.")]


def _figures_md(b: Briefing) -> list[str]:
    t = b.totals
    lines = [
        "## Figures",
        "",
        f"- Systems in service: {t['in_service']} of {t['total']} ({t['percent']}%); "
        f"{t['change_24h']:+d} in the last 24 hours",
        f"- Branches with every system in service: {t['branches_all_in_service']} of "
        f"{t['branches']}; branches reporting in the last 24 hours: {t['branches_fresh']}",
    ]
    if t.get("systems_never_reported"):
        lines.append(
            f"- Never reported: {t.get('branches_never_reported', 0)} branches, "
            f"{t['systems_never_reported']} systems"
        )
    lines += [f"- Days since {md(name)}: {days}" for name, days in b.days_since.items()]
    if not b.days_since:
        lines.append("- No incident is recorded.")
    fc = b.forecast or {}
    if fc.get("likely"):
        lines.append(
            f"- Forecast: {fc['likely']} (range {fc['optimistic']} to "
            f"{fc['pessimistic'] or 'open-ended'}), at {fc['pace_per_day']:.1f} systems "
            f"a day; {fc.get('against_target') or 'target ' + str(fc['target'] or 'not set')}"
        )
    cols = {
        "system": "System",
        IN: "In service",
        Band.RECOVERING.value: "Recovering",
        Band.OUT.value: "Out of service",
        "total": "Total",
    }
    lines += ["", "### By system type", "", *_table(b.per_system, cols)]
    region_cols = {"region": "Region", **{k: v for k, v in cols.items() if k != "system"}}
    lines += ["### By region", "", *_table(b.per_region, region_cols)]
    bands = ", ".join(f"{name}: {n}" for name, n in b.per_band.items())
    return [*lines, f"By band: {bands}.", ""]


def _changes_md(b: Briefing) -> list[str]:
    if b.previous is None:
        return ["## Since the last briefing", "", "_This is the first briefing._", ""]
    lines = [
        f"## Since the last briefing ({md(b.previous['title'])}, as of "
        f"{when(b.previous['as_of'])})",
        "",
    ]
    for name, label in CHANGE_SECTIONS:
        lines += [f"**{label}** ({len(b.changes[name])})", "", *_bullets(b.changes[name], "None.")]
    return lines
