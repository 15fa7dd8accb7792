"""Sign-in, lockout after five failures, and revocable sessions that expire after 8 idle hours."""

from datetime import timedelta

import pytest
from conftest import NOW, snapshot

from restore.access import PermissionDenied
from restore.auth import (
    GENERIC_FAILURE,
    SignInFailed,
    actor_by_email,
    end_session,
    resume_session,
    sign_in,
    start_session,
)
from restore.directory import SYSTEM, add_user, update_user
from restore.records import NotFound, ValidationError

PASSWORD = "correct horse"


@pytest.fixture
def account(fresh_store):
    add_user(fresh_store, SYSTEM, username="wm", role="chair", branch="west-midlands",
             password=PASSWORD, email="Chair@Example.org")  # fmt: skip
    return fresh_store


def test_right_password_signs_in_with_role_and_branch(account):
    actor = sign_in(account, "wm", PASSWORD, now=NOW)
    assert (actor.username, actor.role) == ("wm", "chair") and actor.branch_id


@pytest.mark.parametrize(("name", "password"), [("wm", "wrong"), ("nobody", PASSWORD), ("", "")])
def test_wrong_name_or_password_gets_one_generic_message(account, name, password):
    with pytest.raises(SignInFailed) as err:
        sign_in(account, name, password, now=NOW)
    assert str(err.value) == GENERIC_FAILURE


def test_five_failures_lock_the_account_for_fifteen_minutes(account):
    for _ in range(5):
        with pytest.raises(SignInFailed):
            sign_in(account, "wm", "wrong", now=NOW)
    with pytest.raises(SignInFailed, match=r"^Sign-in failed"):  # even the right password now
        sign_in(account, "wm", PASSWORD, now=NOW + timedelta(minutes=14))
    assert sign_in(account, "wm", PASSWORD, now=NOW + timedelta(minutes=15, seconds=1))


def test_a_success_resets_the_failure_count(account):
    for _ in range(4):
        with pytest.raises(SignInFailed):
            sign_in(account, "wm", "wrong", now=NOW)
    sign_in(account, "wm", PASSWORD, now=NOW)
    for _ in range(4):
        with pytest.raises(SignInFailed):
            sign_in(account, "wm", "wrong", now=NOW)
    assert sign_in(account, "wm", PASSWORD, now=NOW)


def test_session_cookie_resumes_until_sign_out(account):
    cookie = start_session(account, "wm", now=NOW)
    assert resume_session(account, cookie, now=NOW + timedelta(hours=1)).username == "wm"
    end_session(account, cookie, now=NOW + timedelta(hours=2))
    assert resume_session(account, cookie, now=NOW + timedelta(hours=2)) is None


def test_session_expires_after_eight_idle_hours_but_use_keeps_it_alive(account):
    cookie = start_session(account, "wm", now=NOW)
    for hours in (7, 14, 21):  # used every 7 hours: still alive after 21
        assert resume_session(account, cookie, now=NOW + timedelta(hours=hours))
    assert resume_session(account, cookie, now=NOW + timedelta(hours=29, minutes=1)) is None


@pytest.mark.parametrize(
    "tamper",
    [lambda c: c[:-1] + ("1" if c.endswith("0") else "0"), lambda c: "x" + c, lambda c: "", None],
)
def test_forged_or_altered_cookies_are_refused(account, tamper):
    cookie = start_session(account, "wm", now=NOW)
    assert resume_session(account, tamper(cookie) if tamper else None, now=NOW) is None


def test_email_matches_a_local_account_case_insensitively(account):
    assert actor_by_email(account, "chair@example.org").username == "wm"
    assert actor_by_email(account, "someone@example.org") is None


def test_deactivating_a_user_signs_them_out_and_a_new_password_unlocks(fresh_store, people):
    update_user(fresh_store, people["it"], username="wm", password=PASSWORD)
    cookie = start_session(fresh_store, "wm", now=NOW)
    update_user(fresh_store, people["it"], username="wm", active=False)
    assert resume_session(fresh_store, cookie, now=NOW) is None
    with pytest.raises(SignInFailed):
        sign_in(fresh_store, "wm", PASSWORD, now=NOW)
    update_user(fresh_store, people["it"], username="wm", active=True, password="a new password")
    assert sign_in(fresh_store, "wm", "a new password", now=NOW).username == "wm"


def test_only_hq_it_changes_users_and_not_their_own_activity(fresh_store, people):
    before = snapshot(fresh_store)
    with pytest.raises(PermissionDenied):
        update_user(fresh_store, people["boss"], username="wm", active=False)
    with pytest.raises(ValidationError, match="cannot deactivate your own"):
        update_user(fresh_store, people["it"], username="it", active=False)
    with pytest.raises(NotFound):
        update_user(fresh_store, people["it"], username="ghost", active=False)
    assert snapshot(fresh_store) == before
