"""Notifications on both databases, against a real local HTTP receiver (Apprise json://):
invitations, reminders with their one-tap link, alerts, dead channels, masked secrets."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import NOW, snapshot
from notify_kit import closed_port, receiver
from sqlalchemy import func, select

from restore import audit, notify
from restore.access import PermissionDenied
from restore.auth import sign_in
from restore.directory import SYSTEM, add_user
from restore.notify import alerts, channels, delivery
from restore.notify.tables import alert_queue, delivery_log, links
from restore.records import ValidationError, check_in_branch, record_status
from restore.store import events, now_utc

BASE = "https://restore.example.org"


@pytest.fixture(autouse=True)
def base_url(monkeypatch):
    monkeypatch.setenv("RESTORE_BASE_URL", BASE)
    monkeypatch.setenv("RESTORE_ALERTS_BACKGROUND", "0")  # tests drain the queue themselves


@pytest.fixture
def inbox():
    with receiver() as r:
        yield r


def token(url: str) -> str:
    ((_key, values),) = parse_qs(urlsplit(url).query).items()
    return values[0]


def link_in(message: dict) -> str:
    return next(w for w in message["message"].split() if w.startswith(BASE))


def count(store, table) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def log_rows(store) -> list:
    with store.read() as conn:
        return conn.execute(select(delivery_log).order_by(delivery_log.c.id)).all()


def new_events(store, after: int = 0) -> list:
    with store.read() as conn:
        return conn.execute(select(events).where(events.c.id > after).order_by(events.c.id)).all()


# --- channels and masking ------------------------------------------------------------


@pytest.mark.parametrize(
    "url, shown",
    [
        ("json://127.0.0.1:8080/hook/s3cret", "json://127.0.0.1:8080/…"),
        ("jsons://user:pass@hooks.example.org/path?token=abc", "jsons://hooks.example.org/…"),
        ("tgram://123456:ABCdef/987654", "tgram://…"),
        ("signal://localhost:8080/+441234567890/+447700900123", "signal://localhost:8080/…"),
        ("twilio://AC123:tok@+441234567890/+447700900123", "twilio://…"),
        ("workflows://prod.westeurope.logic.azure.com:443/wf/sig", "workflows://prod.westeurope.logic.azure.com:443/…"),
        ("not a url", "…"),
    ],
)  # fmt: skip
def test_a_channel_shows_its_scheme_and_host_and_never_its_secrets(url, shown):
    assert notify.mask(url) == shown


def test_channels_are_kept_masked_in_pages_audit_and_the_delivery_log(fresh_store, people, inbox):
    secret_url = f"json://agent:s3cretpass@127.0.0.1:{inbox.port}/tok3nPath?key=abcdefgh"
    shown = channels.add_channel(fresh_store, people["it"], username="kent", url=secret_url)
    assert shown == f"json://127.0.0.1:{inbox.port}/…"
    assert (
        channels.channel_list(fresh_store, "kent") == [(1, shown)]
        or channels.channel_list(fresh_store, "kent")[0][1] == shown
    )
    notify.invite(fresh_store, people["it"], username="kent", send=True, now=NOW)
    assert len(inbox.wait_for(1)) == 1
    everything = audit.to_csv(fresh_store) + delivery.delivery_frame(fresh_store).to_csv()
    for secret in ("s3cretpass", "tok3nPath", "abcdefgh", "agent"):
        assert secret not in everything
    assert shown in everything


def test_refusals_write_nothing_bad_channel_no_base_url_not_hq_it(fresh_store, people, monkeypatch):
    before = snapshot(fresh_store)
    with pytest.raises(ValidationError, match="not a channel Apprise can send to"):
        channels.add_channel(fresh_store, people["it"], username="kent", url="nope://x/secret")
    with pytest.raises(ValidationError, match="control"):
        channels.add_channel(fresh_store, people["it"], username="kent", url="json://h/\x07")
    with pytest.raises(PermissionDenied):  # only HQ IT manages channels
        channels.add_channel(fresh_store, people["kent"], username="kent", url="json://h/x")
    monkeypatch.delenv("RESTORE_BASE_URL")
    with pytest.raises(notify.NoBaseUrl, match="RESTORE_BASE_URL is not set"):
        notify.invite(fresh_store, people["it"], username="kent", now=NOW)
    with pytest.raises(notify.NoBaseUrl, match="RESTORE_BASE_URL"):
        notify.remind(fresh_store, people["it"], now=NOW)
    assert snapshot(fresh_store) == before and count(fresh_store, channels.user_channels) == 0
    assert count(fresh_store, links) == 0


def test_an_invitation_is_delivered_used_once_and_refused_the_second_time(
    fresh_store, people, inbox
):
    add_user(fresh_store, SYSTEM, username="newchair", role="chair", branch="kent",
             display_name="Pat New")  # fmt: skip
    channels.add_channel(fresh_store, people["it"], username="newchair", url=inbox.url("pat"))
    result = notify.invite(fresh_store, people["it"], username="newchair", send=True, now=NOW)
    assert result.sent.status == "delivered"
    (message,) = inbox.wait_for(1, "pat")
    assert "choose your password" in message["title"] and link_in(message) == result.url
    assert result.url.startswith(f"{BASE}/?invite=")

    view = notify.link_view(fresh_store, token(result.url), now=NOW + timedelta(hours=1))
    assert (view.username, view.purpose) == ("newchair", "invite")
    notify.choose_password(
        fresh_store, token(result.url), "correct horse", again="correct horse",
        now=NOW + timedelta(hours=1),
    )  # fmt: skip
    assert sign_in(fresh_store, "newchair", "correct horse").username == "newchair"

    before = snapshot(fresh_store)
    with pytest.raises(notify.LinkRefused, match="already been used"):
        notify.choose_password(fresh_store, token(result.url), "another password1",
                               now=NOW + timedelta(hours=2))  # fmt: skip
    assert snapshot(fresh_store) == before
    (logged,) = log_rows(fresh_store)
    assert (logged.username, logged.purpose, logged.outcome) == ("newchair", "invite", "delivered")
    assert logged.channel == f"json://127.0.0.1:{inbox.port}/…"


def test_an_invitation_is_refused_after_72_hours_and_survives_a_bad_password(fresh_store, people):
    result = notify.invite(fresh_store, people["it"], username="kent", now=NOW)
    assert result.sent is None  # shown to HQ IT to read out
    url = result.url
    with pytest.raises(ValidationError, match="at least 8"):
        notify.choose_password(fresh_store, token(url), "short", now=NOW)
    with pytest.raises(ValidationError, match="differ"):
        notify.choose_password(fresh_store, token(url), "long enough", again="long enougH", now=NOW)
    assert notify.link_view(fresh_store, token(url), now=NOW).username == "kent"
    value = token(url)
    for bad in (value[:-1] + ("A" if value[-1] != "A" else "B"), "x" + value, "", None):
        with pytest.raises(notify.LinkRefused, match="not valid"):  # altered or made up
            notify.link_view(fresh_store, bad, now=NOW)
    before = snapshot(fresh_store)
    with pytest.raises(notify.LinkRefused, match="expired"):
        notify.choose_password(fresh_store, token(result.url), "long enough",
                               now=NOW + timedelta(hours=72))  # fmt: skip
    assert snapshot(fresh_store) == before
    fresh = notify.invite(fresh_store, people["it"], username="kent", now=NOW)
    with pytest.raises(notify.LinkRefused, match="newer link"):
        notify.link_view(fresh_store, token(result.url), now=NOW)
    notify.choose_password(fresh_store, token(fresh.url), "long enough",
                           now=NOW + timedelta(hours=71, minutes=59))  # fmt: skip


def test_a_reset_signs_the_user_out_and_replaces_their_password(fresh_store, people):
    from restore.auth import resume_session, start_session

    add_user(fresh_store, SYSTEM, username="sam", role="leadership", password="old password")
    cookie = start_session(fresh_store, "sam", now=NOW)
    with pytest.raises(ValidationError, match="already has a password"):
        notify.invite(fresh_store, people["it"], username="sam", now=NOW)
    url = notify.invite(fresh_store, people["it"], username="sam", purpose="reset", now=NOW).url
    notify.choose_password(fresh_store, token(url), "new password", now=NOW)
    assert resume_session(fresh_store, cookie, now=NOW) is None
    assert sign_in(fresh_store, "sam", "new password").username == "sam"


def _story(store, people, inbox):
    """West Midlands all in service; Kent out for 3 days; Essex out an hour ago; Dorset
    never reported. Each chair and HQ IT has a channel of their own."""
    add_user(store, SYSTEM, username="dorset", role="chair", branch="dorset")
    add_user(store, SYSTEM, username="essex", role="chair", branch="essex")
    for name in ("it", "wm", "kent", "dorset", "essex"):
        channels.add_channel(store, people["it"], username=name, url=inbox.url(name))
    it = people["it"]
    for system in ("website", "hub", "email"):
        record_status(store, it, branch="west-midlands", system=system, state="operational",
                      now=NOW - timedelta(days=4))  # fmt: skip
        record_status(store, it, branch="kent", system=system, state="outage",
                      now=NOW - timedelta(days=3))  # fmt: skip
        record_status(store, it, branch="essex", system=system, state="outage",
                      now=NOW - timedelta(hours=1))  # fmt: skip


def test_a_reminder_reaches_each_stale_and_never_reported_branchs_chair_and_nobody_else(
    fresh_store, people, inbox
):
    _story(fresh_store, people, inbox)
    before = snapshot(fresh_store)
    dry = notify.remind(fresh_store, people["it"], dry_run=True, now=NOW)
    assert {(r.slug, r.outcome) for r in dry if r.chair} == {
        ("kent", "would send"), ("dorset", "would send"),
    }  # fmt: skip
    assert snapshot(fresh_store) == before and count(fresh_store, links) == 0
    assert inbox.messages() == []  # a dry run sends nothing

    done = notify.remind(fresh_store, people["it"], now=NOW)
    outcomes = {(r.slug, r.chair): r.outcome for r in done}
    assert outcomes[("kent", "kent")] == "delivered"
    assert outcomes[("dorset", "dorset")] == "delivered"
    assert outcomes[("avon-and-somerset", "")] == "no chair"
    assert not {"west-midlands", "essex"} & {slug for slug, _ in outcomes}
    got = {m["path"] for m in inbox.wait_for(2)}
    assert got == {"/kent", "/dorset"}
    (kent,) = inbox.messages("kent")
    assert "Kent has not reported for 72 hours" in kent["message"]
    assert "Nothing has changed" in kent["message"] and "?checkin=" in link_in(kent)

    again = notify.remind(fresh_store, people["it"], now=NOW + timedelta(hours=11))
    assert {r.outcome for r in again if r.chair} == {"reminded recently"}
    assert len(inbox.messages()) == 2  # nothing re-sent within 12 hours
    later = notify.remind(fresh_store, people["it"], now=NOW + timedelta(hours=13))
    assert {r.outcome for r in later if r.chair} == {"delivered"}
    chased = notify.last_chased(fresh_store).set_index("slug")
    assert chased.loc["kent", "outcome"] == "delivered" and chased.loc["kent", "chair"] == "kent"


def test_the_reminder_link_checks_in_its_branch_only_once_within_24_hours(
    fresh_store, people, inbox
):
    _story(fresh_store, people, inbox)
    notify.remind(fresh_store, people["it"], now=NOW)
    (kent,) = inbox.wait_for(1, "kent")
    value = token(link_in(kent))
    view = notify.checkin_view(fresh_store, value, now=NOW + timedelta(hours=1))
    assert view.link.branch_slug == "kent" and set(view.systems["State"]) == {"Outage"}
    last = new_events(fresh_store)[-1].id

    ids = notify.check_in_by_link(fresh_store, value, now=NOW + timedelta(hours=1))
    made = new_events(fresh_store, last)
    assert [e.id for e in made] == ids and len(ids) == 3
    assert {(e.actor, e.source, e.state) for e in made} == {("kent", "link", "outage")}
    with fresh_store.read() as conn:
        from restore.store import branch_systems, branches

        slugs = set(
            conn.execute(
                select(branches.c.slug)
                .join(branch_systems, branch_systems.c.branch_id == branches.c.id)
                .where(branch_systems.c.id.in_([e.branch_system_id for e in made]))
            ).scalars()
        )
    assert slugs == {"kent"}

    before = snapshot(fresh_store)
    with pytest.raises(notify.LinkRefused, match="already been used"):
        notify.check_in_by_link(fresh_store, value, now=NOW + timedelta(hours=2))
    (dorset,) = inbox.wait_for(1, "dorset")
    with pytest.raises(notify.LinkRefused, match="expired"):
        notify.check_in_by_link(fresh_store, token(link_in(dorset)), now=NOW + timedelta(hours=24))
    with pytest.raises(notify.LinkRefused, match="not valid"):  # not an invitation
        notify.choose_password(fresh_store, token(link_in(dorset)), "long enough", now=NOW)
    assert snapshot(fresh_store) == before


def test_a_chair_moved_to_another_branch_cannot_use_the_old_branchs_link(
    fresh_store, people, inbox
):
    from restore.directory import update_user

    _story(fresh_store, people, inbox)
    notify.remind(fresh_store, people["it"], now=NOW)
    value = token(link_in(inbox.wait_for(1, "kent")[0]))
    update_user(fresh_store, people["it"], username="kent", role="chair", branch="essex")
    before = snapshot(fresh_store)
    with pytest.raises(PermissionDenied):
        notify.check_in_by_link(fresh_store, value, now=NOW + timedelta(hours=1))
    assert snapshot(fresh_store) == before


# --- alerts --------------------------------------------------------------------------


def test_an_alert_fires_once_per_grouped_burst_and_never_for_a_check_in(fresh_store, people, inbox):
    it, kent = people["it"], people["kent"]
    for name, kinds, branch in (("it", ["all"], None), ("boss", ["restored"], "kent")):
        channels.add_channel(fresh_store, it, username=name, url=inbox.url(name))
        alerts.subscribe(fresh_store, it, username=name, kinds=kinds, branch=branch, now=NOW)
    t = NOW
    record_status(fresh_store, kent, branch="kent", system="website", state="outage", now=t)
    record_status(fresh_store, kent, branch="kent", system="hub", state="outage",
                  now=t + timedelta(seconds=10))  # fmt: skip
    record_status(fresh_store, kent, branch="kent", system="website", state="investigating",
                  now=t + timedelta(seconds=20))  # fmt: skip
    check_in_branch(fresh_store, it, branch="kent", now=t + timedelta(seconds=40))
    assert alerts.send_due(fresh_store, now=t + timedelta(seconds=50)) == 0  # still grouping
    assert alerts.send_due(fresh_store, now=t + timedelta(seconds=61)) == 1
    (burst,) = inbox.wait_for(1, "it")
    assert burst["title"] == "Restore: 3 changes"
    lines = burst["message"].splitlines()
    assert len(lines) == 3 and "Kent, Public website: Outage -> Investigating" in lines[2]
    assert inbox.messages("boss") == []  # nothing was restored

    check_in_branch(fresh_store, kent, branch="kent", now=t + timedelta(minutes=5))
    assert alerts.send_due(fresh_store, now=t + timedelta(hours=1)) == 0  # a check-in: silent
    for state in ("verifying", "restored"):
        record_status(fresh_store, it, branch="kent", system="website", state=state,
                      now=t + timedelta(hours=2))  # fmt: skip
    assert alerts.send_due(fresh_store, now=t + timedelta(hours=3)) == 2
    assert len(inbox.wait_for(2, "it")) == 2
    (restored,) = inbox.wait_for(1, "boss")
    assert restored["title"] == "Restore: 1 change" and "-> Restored" in restored["message"]


def test_lost_again_and_overdue_alerts_reach_their_subscribers_once(fresh_store, people, inbox):
    it = people["it"]
    channels.add_channel(fresh_store, it, username="boss", url=inbox.url("boss"))
    alerts.subscribe(fresh_store, it, username="boss", kinds=["lost", "overdue"], now=NOW)
    record_status(fresh_store, it, branch="kent", system="email", state="operational",
                  now=NOW - timedelta(days=5))  # fmt: skip
    record_status(fresh_store, it, branch="kent", system="email", state="outage",
                  eta=(NOW - timedelta(days=4)).date(), now=NOW - timedelta(days=4))  # fmt: skip
    for _ in range(2):  # cron runs twice: the overdue date is told once
        alerts.queue_overdue(fresh_store, NOW)
        alerts.send_due(fresh_store, now=NOW + timedelta(minutes=2))
    (message,) = inbox.wait_for(1, "boss")
    before = snapshot(fresh_store)
    with pytest.raises(ValidationError, match="unknown alert kind"):
        alerts.subscribe(fresh_store, it, username="boss", kinds=["everything"])
    assert snapshot(fresh_store) == before
    assert "Operational (not affected) -> Outage" in message["message"]
    assert "day(s) overdue" in message["message"]
    assert len(inbox.messages("boss")) == 1


def test_a_dead_channel_neither_fails_nor_delays_the_write_and_is_logged(
    fresh_store, people, monkeypatch, caplog
):
    notify.after_commit(None, [1])  # the hook itself failing: logged, never raised
    assert "could not queue alerts" in caplog.text
    monkeypatch.setenv("RESTORE_ALERTS_BACKGROUND", "1")
    dead = f"json://127.0.0.1:{closed_port()}/hook"
    channels.add_channel(fresh_store, people["it"], username="it", url=dead)
    alerts.subscribe(fresh_store, people["it"], username="it", kinds=["all"], now=NOW)
    event_id = record_status(fresh_store, people["kent"], branch="kent", system="email",
                             state="outage", now=NOW)  # fmt: skip
    returned = now_utc()
    assert [e.id for e in new_events(fresh_store)] == [event_id]  # committed at once
    assert alerts.wait_idle(60)
    (failed,) = log_rows(fresh_store)
    assert (failed.username, failed.purpose, failed.outcome) == ("it", "alert", "failed")
    assert failed.channel == notify.mask(dead) and "hook" not in failed.detail
    assert failed.at > returned  # sent (and retried) after the write had returned
    with fresh_store.read() as conn:
        assert conn.execute(select(alert_queue.c.outcome)).scalar() == "failed"
