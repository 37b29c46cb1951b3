"""Properties of map_rules over generated directories: deterministic, order-free, idempotent."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from confluence_provisioning import frames
from confluence_provisioning.mapping.stage import MappingResult, map_rules
from tests.mapping.idp import BASE, Idp, rules

# Small alphabets so that generated directories collide: same logins in other case, same emails,
# invalid names, protected names, groups that rewrite onto each other.
LOGINS = st.sampled_from(["ann", "Ann", "bob", "b.o", "carl@corp.com", "Carl", "mary jane", "admin", "zoë"])
EMAILS = st.sampled_from([None, "ann@x.org", "ANN@x.org", "b@x.org", "c@x.org", "bad", "z@x.org"])
GROUP_NAMES = st.sampled_from(
    ["staff", "Team-ab", "team-AB", "team-c", "ab-team", "robots", "Confluence-Administrators", "dev"]
)
SUBTREES = st.sampled_from([f"ou=people,{BASE}", f"ou=x,ou=people,{BASE}", f"ou=service,{BASE}"])


@st.composite
def directories(draw: st.DrawFn) -> Idp:
    users = draw(
        st.lists(
            st.tuples(LOGINS, EMAILS, st.booleans(), SUBTREES, st.sampled_from([None, "", "Name"])),
            max_size=8,
        )
    )
    user_rows = [
        {
            "id": f"u{n}",
            "dn": f"uid={login}{n},{subtree}",
            "login": login,
            "email": email,
            "display_name": name,
            "active": active,
        }
        for n, (login, email, active, subtree, name) in enumerate(users)
    ]
    group_names = draw(st.lists(GROUP_NAMES, max_size=6))
    group_rows = [
        {"id": f"g{n}", "dn": f"cn={name},ou=groups,{BASE}", "name": name}
        for n, name in enumerate(group_names)
    ]
    pairs = (
        draw(st.sets(st.tuples(st.integers(0, 7), st.integers(0, 5)), max_size=20))
        if users and group_names
        else set()
    )
    membership_rows = [
        {
            "group_id": f"g{group % len(group_rows)}",
            "user_id": f"u{user % len(user_rows)}",
            "direct": bool(group % 2),
        }
        for user, group in pairs
    ]
    memberships = pd.DataFrame(membership_rows, columns=list(frames.MEMBERSHIPS)).drop_duplicates(
        ["group_id", "user_id"]
    )
    return Idp(
        frames.from_records(user_rows, frames.USERS),
        frames.from_records(group_rows, frames.GROUPS),
        frames.conform(memberships, frames.MEMBERSHIPS),
    )


# Idempotent rewrites only: a name a rewrite produces is not rewritten again.
SETTINGS = rules(
    users={
        "include": {"dn_subtrees": [f"ou=people,{BASE}"]},
        "exclude": {"groups": ["robots"]},
        "username": {"lowercase": True, "rewrites": [{"pattern": "@corp\\.com$", "replace": ""}]},
    },
    groups={
        "default_groups": {"all_users": ["confluence-users"], "new_users": ["welcome"]},
        "on_the_fly": {
            "enabled": True,
            "exclude": ["^robots$"],
            "keep_existing_groups": False,
            "rewrites": [{"pattern": "^team-(.*)$", "replace": "\\1-team"}],
        },
    },
)
WITH_MANUAL = SETTINGS.model_copy(
    update={
        "groups": rules(
            groups={
                "default_groups": {"all_users": ["confluence-users"]},
                "manual": {
                    "mappings": [{"confluence_group": "engineering", "idp_groups": ["dev", "team-c"]}]
                },
                "on_the_fly": {"enabled": True, "rewrites": [{"pattern": "^dev$", "replace": "engineering"}]},
            }
        ).groups
    }
)


def examples(count: int) -> settings:
    # each mapping of a small frame costs tens of milliseconds of pandas overhead
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_same(first: MappingResult, second: MappingResult) -> None:
    for name in ("users", "groups", "memberships", "rejects", "held"):
        assert_frame_equal(getattr(first, name), getattr(second, name))


@examples(20)
@given(directories())
def test_the_same_input_gives_the_same_output(idp: Idp) -> None:
    assert_same(map_rules(idp, WITH_MANUAL), map_rules(idp, WITH_MANUAL))


@examples(30)
@given(directories(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(idp: Idp, random) -> None:
    def shuffled(frame: pd.DataFrame) -> pd.DataFrame:
        order = list(range(len(frame)))
        random.shuffle(order)
        return frame.iloc[order].reset_index(drop=True)

    reordered = Idp(shuffled(idp.users), shuffled(idp.groups), shuffled(idp.memberships))
    assert_same(map_rules(idp, WITH_MANUAL), map_rules(reordered, WITH_MANUAL))


def as_idp(result: MappingResult) -> Idp:
    """The desired state read back as a directory: what Confluence would hold after a sync."""
    users = result.users
    ids = users.set_index("username")["source_id"]
    permanent = result.memberships[~result.memberships["new_users_only"]]
    return Idp(
        users=frames.conform(
            pd.DataFrame(
                {
                    "id": users["source_id"],
                    "dn": users["source_dn"],
                    "login": users["username"],
                    "email": users["email"],
                    "display_name": users["display_name"],
                    "active": users["active"],
                }
            ),
            frames.USERS,
        ),
        groups=frames.conform(
            result.groups.assign(
                id=result.groups["name"], dn="cn=" + result.groups["name"] + f",ou=groups,{BASE}"
            ),
            frames.GROUPS,
        ),
        memberships=frames.conform(
            pd.DataFrame(
                {"group_id": permanent["group"], "user_id": permanent["username"].map(ids), "direct": True}
            ),
            frames.MEMBERSHIPS,
        ),
    )


@examples(40)
@given(directories())
def test_mapping_its_own_output_changes_nothing(idp: Idp) -> None:
    """Idempotence: map the directory, read the desired state back as a directory, map it again.

    Read back means: each desired user becomes an IdP user with its source id and DN and with
    login, email, display name and active as desired; each desired group becomes an IdP group of
    that name; each membership that is not new-users-only becomes a direct membership. Mapping
    that with the same rules gives the same users (every column), the same groups (name, managed,
    prune_members), the same memberships (group, username, new_users_only) and no rejects. The
    ``rule`` columns of groups and memberships name the IdP group a row came from, so they name
    the input's groups and are left out. This holds for rules whose rewrites are idempotent and
    that map no IdP group under another name by hand (a manual mapping renames its groups, so
    its output is not its own input): that is SETTINGS.
    """
    first = map_rules(idp, SETTINGS)
    second = map_rules(as_idp(first), SETTINGS)
    assert_frame_equal(second.users, first.users)
    columns = ["name", "managed", "prune_members"]
    assert_frame_equal(second.groups[columns], first.groups[columns])
    columns = ["group", "username", "new_users_only"]
    assert_frame_equal(second.memberships[columns], first.memberships[columns])
    assert second.rejects.empty
