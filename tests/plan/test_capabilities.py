"""What the target can do bounds the plan (``Capabilities``), and on a target whose accounts carry the
IdP's id, users are matched by that id before their username (``plan.identity``)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.plan.planner import plan
from confluence_provisioning.settings import Settings
from confluence_provisioning.targets.atlassian_cloud.target import CAPABILITIES as CLOUD
from confluence_provisioning.targets.confluence_dc.target import CAPABILITIES as DATA_CENTER
from tests.plan.states import State, current, desired, rows

OPEN = {"max_users_disabled_or_deleted": 1000, "max_users_disabled_or_deleted_percent": 100}
# rules that ask for deletions: Data Center's validate accepts them, Cloud's refuses them; the
# planner is the second line, for rules that arrive another way
DELETING = Settings.model_validate(
    {
        "limits": {**OPEN, "max_group_deletions": 5},
        "users": {"out_of_scope": "delete", "operations": {"delete": True}},
    }
)
CLOUD_RULES = Settings.model_validate({"limits": OPEN, "target": {"kind": "atlassian_cloud"}})

ANN = ("ann@example.com", "Ann", "ann@example.com", True)


def test_a_target_that_cannot_delete_gets_disables_and_keeps_its_groups() -> None:
    want = desired([ANN], [("eng", True, True)], [("eng", "ann@example.com", False)])
    have = current([ANN, ("zed@example.com", "Zed", "zed@example.com", True)], ["eng", "old-team"])
    previously = ["old-team"]
    on_dc = plan(want, have, DELETING, capabilities=DATA_CENTER, previously_managed_groups=previously)
    assert rows(on_dc) == [
        ("add_membership", "ann@example.com", "eng"),
        ("delete_user", "zed@example.com", None),
        ("delete_group", "old-team", None),
    ]
    cannot = replace(
        CLOUD, delete_groups=False
    )  # Cloud cannot delete users; no target lacks group deletion yet
    bounded = plan(want, have, DELETING, capabilities=cannot, previously_managed_groups=previously)
    assert rows(bounded) == [
        ("add_membership", "ann@example.com", "eng"),
        ("disable_user", "zed@example.com", None),
    ]
    assert "the target cannot delete users: out-of-scope users are disabled instead" in bounded.notes
    assert (
        "1 groups were managed before and no rule produces them now; they are kept because the target "
        "cannot delete groups: old-team" in bounded.notes
    )


def with_accounts(state: State, accounts: list[tuple[str, str, str | None]]) -> State:
    """The current state with accounts (username, account id, IdP id)."""
    frame = pd.DataFrame(accounts, columns=["user_id", "account_id", "idp_id"])
    return replace(state, accounts=frames.conform(frame, frames.ACCOUNTS))


def test_an_account_carrying_the_idp_id_is_renamed_not_replaced() -> None:
    # ann's email changed in the IdP (her IdP id is id-ann.new@...: states.desired names ids so)
    want = desired(
        [("ann.new@example.com", "Ann", "ann.new@example.com", True)],
        [("eng", True, True)],
        [("eng", "ann.new@example.com", False)],
    )
    have = with_accounts(
        current([ANN], ["eng"], [("eng", "ann@example.com")]),
        [("ann@example.com", "scim-1", "id-ann.new@example.com")],
    )
    result = plan(want, have, CLOUD_RULES)
    assert rows(result) == [("update_user", "ann.new@example.com", None)]
    update = result.operations[0]
    assert update.payload == {
        "full_name": None,
        "email": "ann.new@example.com",
        "user_name_now": "ann@example.com",
    }
    assert update.reason.endswith(
        "username 'ann@example.com' -> 'ann.new@example.com' (the same account: it carries the user's IdP id)"
    )
    assert result.links.empty
    # Data Center names accounts itself: no matching by id, the old account is out of scope
    assert [kind for kind, *_ in rows(plan(want, have, CLOUD_RULES, capabilities=DATA_CENTER))] == [
        "create_user",
        "add_membership",
        "remove_membership",
        "disable_user",
    ]


def test_the_audit_store_link_matches_an_account_without_the_id_and_username_matches_are_linked() -> None:
    want = desired(
        [("ann.new@example.com", "Ann", "ann.new@example.com", True), ("bob@example.com", "Bob", "b", True)]
    )
    have = with_accounts(
        current([ANN, ("bob@example.com", "Bob", "b", True)]),
        [("ann@example.com", "scim-1", None), ("bob@example.com", "scim-2", None)],
    )
    linked = plan(want, have, CLOUD_RULES, account_links={"scim-1": "id-ann.new@example.com"})
    assert [(op.kind.value, op.target, op.payload.get("user_name_now")) for op in linked.operations] == [
        ("update_user", "ann.new@example.com", "ann@example.com")
    ]
    # bob was matched by username: his account is linked to his IdP id for the next runs
    assert linked.links.to_dict("records") == [{"account_id": "scim-2", "idp_id": "id-bob@example.com"}]


def test_no_rename_onto_a_taken_name_nor_for_a_user_to_disable_nor_without_updates() -> None:
    ann = [("ann@example.com", "scim-1", "id-ann.new@example.com")]
    # another account already has the new name: it is the match, the old one is out of scope
    taken = with_accounts(
        current([ANN, ("ann.new@example.com", "Ann", "ann.new@example.com", True)]),
        [*ann, ("ann.new@example.com", "scim-9", None)],
    )
    want = desired([("ann.new@example.com", "Ann", "ann.new@example.com", True)])
    assert rows(plan(want, taken, CLOUD_RULES)) == [("disable_user", "ann@example.com", None)]
    # disabled in the IdP with a new email: the account is disabled under the name it has
    gone = desired([("ann.new@example.com", "Ann", "ann.new@example.com", False)])
    assert rows(plan(gone, with_accounts(current([ANN]), ann), CLOUD_RULES)) == [
        ("disable_user", "ann@example.com", None)
    ]
    # users.operations.update false: renaming is an update, so none (and the old account goes)
    no_updates = CLOUD_RULES.model_copy(
        update={
            "users": CLOUD_RULES.users.model_copy(
                update={"operations": CLOUD_RULES.users.operations.model_copy(update={"update": False})}
            )
        }
    )
    assert [kind for kind, *_ in rows(plan(want, with_accounts(current([ANN]), ann), no_updates))] == [
        "create_user",
        "disable_user",
    ]
