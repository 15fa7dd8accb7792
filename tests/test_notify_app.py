"""The notification pages in the real Streamlit runtime (AppTest): Admin's invite button and
channels, Follow-up's "Send reminders" and "last chased", and the two pages links open."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from notify_kit import receiver
from streamlit.testing.v1 import AppTest
from test_app import ROOT, app, demo, demo_template, labelled, texts

from restore import notify
from restore.directory import actor_for
from restore.store import now_utc
from restore.transfer import export_rows

__all__ = ["demo", "demo_template"]  # fixtures shared with test_app
BASE = "http://restore.test"
ADMIN = str(ROOT / "restore" / "ui" / "views" / "admin.py")
FOLLOW_UP = str(ROOT / "restore" / "ui" / "views" / "follow_up.py")


@pytest.fixture(autouse=True)
def base_url(monkeypatch):
    monkeypatch.setenv("RESTORE_BASE_URL", BASE)
    monkeypatch.setenv("RESTORE_ALERTS_BACKGROUND", "0")


def value_of(url: str) -> str:
    return next(iter(parse_qs(urlsplit(url).query).values()))[0]


def quiet_branch(store) -> tuple[str, str]:
    """(name, chair) of a branch the demo story leaves quiet, so Follow-up chases it."""
    from restore import queries

    first = queries.stale(queries.board(store), now_utc()).iloc[0]
    return first["branch"], f"chair.{first['slug']}"


def button(at, label):
    return next(b for b in at.button if b.label == label)


def test_admin_invites_a_user_and_shows_the_link_to_read_out(demo):
    at = app(demo, "hq.it").switch_page(ADMIN).run()
    labelled(at.selectbox, "Notifications for").select("chair.kent").run()
    assert "Invite" in [b.label for b in at.button]  # chair.kent has no password yet
    button(at, "Invite").click().run()
    assert not at.exception
    assert "Invitation for chair.kent: read this link out" in texts(at)
    (shown,) = [c.value for c in at.code]
    assert shown.startswith(f"{BASE}/?invite=")
    link = notify.link_view(demo, value_of(shown))
    assert link.username == "chair.kent" and link.purpose == "invite"


def test_admin_sends_a_reset_to_a_channel_and_shows_it_masked(demo):
    with receiver() as inbox:
        at = app(demo, "hq.it").switch_page(ADMIN).run()
        labelled(at.selectbox, "Notifications for").select("leader").run()
        labelled(at.text_input, "Add a channel (Apprise URL)").input(inbox.url("s3cret-path"))
        next(b for b in at.button if b.label == "Add channel").click().run()
        shown = f"json://127.0.0.1:{inbox.port}/…"
        table = next(d.value for d in at.dataframe if "Channel" in d.value.columns)
        assert list(table["Channel"]) == [shown]
        at.checkbox(key="invite_send").check().run()
        button(at, "Reset password").click().run()
        assert "Password reset link sent to leader (1 channel(s))" in texts(at)
        (message,) = inbox.wait_for(1)
        assert "choose a new password" in message["title"]
        assert "s3cret-path" not in texts(at) + "".join(d.value.to_csv() for d in at.dataframe)


def test_follow_up_sends_reminders_and_shows_when_each_branch_was_last_chased(demo):
    branch, chair = quiet_branch(demo)
    with receiver() as inbox:
        notify.add_channel(demo, actor_for(demo, "hq.it"), username=chair, url=inbox.url("c"))
        at = app(demo, "hq.it").switch_page(FOLLOW_UP).run()
        with pytest.MonkeyPatch.context() as env:
            env.delenv("RESTORE_BASE_URL")
            button(at, "Send reminders").click().run()
        assert "Nothing sent: RESTORE_BASE_URL is not set" in texts(at)
        button(at, "Send reminders").click().run()
        assert not at.exception
        result = next(d.value for d in at.dataframe if "Outcome" in d.value.columns)
        outcomes = dict(zip(result["Chair"], result["Outcome"], strict=True))
        assert outcomes[chair] == "delivered"
        assert set(outcomes.values()) == {"delivered", "no channel"}  # demo chairs have none
        assert inbox.wait_for(1, "c")[0]["title"] == f"Restore: {branch}, any change?"
        stale = next(d.value for d in at.dataframe if "Quiet for" in d.value.columns)
        row = stale[stale["Branch"] == branch].iloc[0]
        assert f"reminder delivered to {chair}" in row["Last chased"]
        chased = next(d.value for d in at.dataframe if "Checked in by link" in d.value.columns)
        assert branch in set(chased["Branch"])


def _link_page(param: str, value: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.query_params[param] = value
    return at.run()


def test_the_invite_link_opens_the_password_page_once(demo):
    url = notify.invite(demo, actor_for(demo, "hq.it"), username="chair.kent").url
    at = _link_page("invite", value_of(url))
    assert at.title[0].value == "Choose your password"
    labelled(at.text_input, "New password (at least 8 characters)").input("kent chair pw")
    labelled(at.text_input, "The same password again").input("kent chair pw")
    next(b for b in at.button if b.label == "Save my password").click().run()
    assert at.title[0].value == "Password saved"
    again = _link_page("invite", value_of(url))
    assert again.title[0].value == "This link does not work"
    assert "already been used" in texts(again) and not again.text_input


def test_the_checkin_link_records_nothing_has_changed_for_its_branch_once(demo):
    branch, chair = quiet_branch(demo)
    with receiver() as inbox:
        notify.add_channel(demo, actor_for(demo, "hq.it"), username=chair, url=inbox.url("c"))
        notify.remind(demo, actor_for(demo, "hq.it"))
        value = value_of(next(w for w in inbox.wait_for(1)[0]["message"].split() if "?" in w))
    before = len(export_rows(demo, actor_for(demo, "hq.it")))
    changed = _link_page("checkin", value)
    button(changed, "Something changed").click().run()
    assert changed.title[0].value == "Sign in to Restore"  # then the branch page's form
    at = _link_page("checkin", value)
    assert at.title[0].value == f"{branch}: has anything changed?"
    button(at, "Nothing has changed").click().run()
    assert at.title[0].value == "Thank you"
    new = export_rows(demo, actor_for(demo, "hq.it"))[before:]
    slug = chair.removeprefix("chair.")
    assert new and {(r["branch"], r["who"], r["source"]) for r in new} == {(slug, chair, "link")}
    again = _link_page("checkin", value)
    assert "already been used" in texts(again)
    assert now_utc() - timedelta(minutes=5) < notify.last_chased(demo)["at"].max()
