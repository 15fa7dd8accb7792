"""Who may do what: the role x action matrix is the specification."""

import pytest

from restore.access import ANONYMOUS, Action, Actor, PermissionDenied, can, require

IT = Actor("it", "hq-it")
CHAIR = Actor("wm", "chair", branch_id=7)
LEAD = Actor("boss", "leadership")
A = Action

MATRIX = [
    # HQ IT may do everything but hold the second key of a closing, which is leadership's
    *[(IT, action, None, action is not A.CONFIRM_CLOSE) for action in Action],
    (IT, A.RECORD_STATUS, 3, True),
    # a chair records for their own branch only, and nothing else
    (CHAIR, A.RECORD_STATUS, 7, True),
    (CHAIR, A.RECORD_STATUS, 8, False),
    (CHAIR, A.RECORD_STATUS, None, False),
    (CHAIR, A.READ_BOARD, None, True),
    (CHAIR, A.READ_NOTES, None, True),
    (CHAIR, A.RECORD_ON_BEHALF, 7, False),
    (CHAIR, A.OVERRIDE, 7, False),
    (CHAIR, A.IMPORT, None, False),
    (CHAIR, A.EXPORT, None, False),
    (CHAIR, A.MANAGE, None, False),
    (CHAIR, A.PUBLISH_BRIEFING, None, False),
    (CHAIR, A.TICK_CHECKLIST, 7, True),
    (CHAIR, A.TICK_CHECKLIST, 8, False),
    (CHAIR, A.READ_EVIDENCE, 7, False),
    (CHAIR, A.EDIT_CHECKLIST, None, False),
    (CHAIR, A.MANAGE_DEPENDENCIES, None, False),
    (CHAIR, A.RECORD_CLOCK, None, False),
    (CHAIR, A.PROPOSE_CLOSE, None, False),
    (CHAIR, A.CONFIRM_CLOSE, None, False),
    # leadership reads (and publishes briefings) but never records
    (LEAD, A.READ_BOARD, None, True),
    (LEAD, A.READ_NOTES, None, True),
    (LEAD, A.EXPORT, None, True),
    (LEAD, A.PUBLISH_BRIEFING, None, True),
    (LEAD, A.RECORD_STATUS, 7, False),
    (LEAD, A.RECORD_ON_BEHALF, None, False),
    (LEAD, A.OVERRIDE, None, False),
    (LEAD, A.IMPORT, None, False),
    (LEAD, A.MANAGE, None, False),
    # leadership records the clocks it owns and holds the closing's second key
    (LEAD, A.RECORD_CLOCK, None, True),
    (LEAD, A.CONFIRM_CLOSE, None, True),
    (LEAD, A.PROPOSE_CLOSE, None, False),
    (LEAD, A.TICK_CHECKLIST, 7, False),
    (LEAD, A.READ_EVIDENCE, None, False),
    # anonymous members see the public board only
    (ANONYMOUS, A.READ_BOARD, None, True),
    *[(ANONYMOUS, action, 7, False) for action in Action if action is not A.READ_BOARD],
    # a user with an unknown role gets nothing
    (Actor("x", "admin"), A.READ_BOARD, None, False),
]


@pytest.mark.parametrize(("actor", "action", "branch_id", "allowed"), MATRIX)
def test_role_action_matrix(actor, action, branch_id, allowed):
    assert can(actor, action, branch_id=branch_id) is allowed


def test_require_names_who_and_what():
    with pytest.raises(PermissionDenied, match=r"^boss \(Leadership\) may not record status$"):
        require(LEAD, A.RECORD_STATUS, branch_id=7)
    with pytest.raises(PermissionDenied, match="only for their own branch"):
        require(CHAIR, A.RECORD_STATUS, branch_id=8)
    with pytest.raises(PermissionDenied, match=r"^anonymous"):
        require(ANONYMOUS, A.EXPORT)
