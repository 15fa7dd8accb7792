"""The transition rules, as a table that reads as the specification."""

import itertools

import pytest

from restore.domain import (
    STATE_IDS,
    STATES,
    Band,
    RuleError,
    band_of,
    check_transition,
    is_legal,
    legal_next_states,
    needs_hq,
    replay,
)

# From each state (None: no report yet), the states a system may be recorded in next.
SPEC = {
    # a first report may be anything but `restored`, which needs HQ's checks
    None: "operational outage contained investigating rebuilding verifying degraded",
    # in service: a new attack, or known problems (never back to `operational`)
    "operational": "operational outage contained degraded",
    "restored": "restored outage contained degraded",
    "degraded": "degraded outage contained restored",
    # out of service: start the recovery path (skipping ahead is allowed)
    "outage": "outage contained investigating rebuilding verifying",
    "contained": "contained outage investigating rebuilding verifying",
    # the recovery path runs forward
    "investigating": "investigating outage contained rebuilding verifying",
    "rebuilding": "rebuilding outage contained verifying",
    # checks passed (restored / degraded) or failed (rebuild again)
    "verifying": "verifying outage contained restored degraded rebuilding",
}


@pytest.mark.parametrize(("current", "new"), list(itertools.product([None, *STATE_IDS], STATE_IDS)))
def test_every_move_follows_the_spec(current, new):
    assert is_legal(current, new) == (new in SPEC[current].split())


def test_states_labels_and_bands_are_as_specified():
    assert {s: (STATES[s].label, band_of(s)) for s in STATE_IDS} == {
        "operational": ("Operational (not affected)", Band.IN),
        "outage": ("Outage", Band.OUT),
        "contained": ("Contained (disconnected to stop the spread)", Band.OUT),
        "investigating": ("Investigating", Band.RECOVERING),
        "rebuilding": ("Rebuilding / restoring from backup", Band.RECOVERING),
        "verifying": ("Verifying (security checks before reconnecting)", Band.RECOVERING),
        "restored": ("Restored", Band.IN),
        "degraded": ("Degraded (in service with known problems)", Band.IN),
    }


@pytest.mark.parametrize("current", [None, *STATE_IDS])
def test_any_state_may_go_to_outage_or_contained(current):
    assert is_legal(current, "outage") and is_legal(current, "contained")


@pytest.mark.parametrize("current", [s for s in STATE_IDS if band_of(s) is not Band.IN])
def test_out_of_service_systems_reach_restored_only_from_verifying(current):
    assert is_legal(current, "restored") == (current == "verifying")


@pytest.mark.parametrize("current", [s for s in STATE_IDS if s != "operational"])
def test_a_system_is_never_operational_again(current):
    assert not is_legal(current, "operational")


@pytest.mark.parametrize("state", STATE_IDS)
def test_recording_the_same_state_again_is_a_check_in(state):
    assert is_legal(state, state)


def test_illegal_move_names_the_legal_next_states():
    with pytest.raises(RuleError) as err:
        check_transition("outage", "restored")
    assert str(err.value) == (
        "cannot move from 'outage' to 'restored'; legal next states: "
        "outage, contained, investigating, rebuilding, verifying"
    )


def test_unknown_state_is_refused_with_the_list_of_states():
    with pytest.raises(RuleError, match="unknown state 'fixed'; states are: operational, outage"):
        check_transition("outage", "fixed")


def test_legal_next_states_start_with_the_check_in():
    assert legal_next_states("rebuilding") == ["rebuilding", "outage", "contained", "verifying"]
    assert "restored" not in legal_next_states(None)


@pytest.mark.parametrize(
    ("current", "new", "hq_only"),
    [
        ("verifying", "restored", True),  # the second key
        ("verifying", "degraded", True),  # back into service, with known problems
        ("degraded", "restored", True),  # every `restored` is HQ's word
        ("rebuilding", "verifying", False),  # a chair's "back up, awaiting checks"
        ("verifying", "rebuilding", False),  # checks failed
        ("restored", "restored", False),  # a check-in
        ("restored", "contained", False),
    ],
)
def test_two_keys_only_hq_passes_a_system_back_into_service(current, new, hq_only):
    assert needs_hq(current, new) == hq_only


def test_replay_finds_illegal_moves_in_a_sequence():
    assert replay(["operational", "outage", "investigating", "verifying", "restored"]) == []
    assert replay(["outage", "restored", "operational"]) == [
        "outage->restored",
        "restored->operational",
    ]
