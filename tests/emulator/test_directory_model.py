"""The in-memory directory against a plain model: any sequence of operations keeps its indexes right."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from sandbox.confluence.errors import ApiError
from sandbox.confluence.state import RESERVED_GROUPS, Directory

NAMES = st.sampled_from(["ann", "bob", "cy", "dee", "eve", "fay"])
GROUPS = st.sampled_from(["eng", "ops", "Eng", "qa", *RESERVED_GROUPS])
SEATS = 4


class DirectoryModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = Directory(seats=SEATS)
        self.active = {"admin": True}
        self.members = {group: {"admin"} for group in RESERVED_GROUPS}

    def _expect(self, status: int | None, action) -> None:
        try:
            action()
        except ApiError as error:
            assert error.status == status, error.message
        else:
            assert status is None

    @rule(name=NAMES)
    def create_user(self, name: str) -> None:
        if name in self.active:
            status = 409
        elif sum(self.active.values()) >= SEATS:
            status = 402
        else:
            status = None
            self.active[name] = True
        self._expect(status, lambda: self.directory.create_user(name, name, f"{name}@example.com", "pw"))

    @rule(name=NAMES, active=st.booleans())
    def set_active(self, name: str, active: bool) -> None:
        status = None if name in self.active else 404
        if status is None:
            self.active[name] = active
        self._expect(status, lambda: self.directory.set_active(name, active))

    @rule(name=NAMES)
    def delete_user(self, name: str) -> None:
        status = None if name in self.active else 404
        if status is None:
            del self.active[name]
            for members in self.members.values():
                members.discard(name)
        self._expect(status, lambda: self.directory.delete_user(name))

    @rule(group=GROUPS)
    def create_group(self, group: str) -> None:
        key = group.lower()
        status = 409 if key in self.members else None
        if status is None:
            self.members[key] = set()
        self._expect(status, lambda: self.directory.create_group(group))

    @rule(group=GROUPS)
    def delete_group(self, group: str) -> None:
        key = group.lower()
        status = 404 if key not in self.members else 400 if key == "confluence-administrators" else None
        if status is None:
            del self.members[key]
        self._expect(status, lambda: self.directory.delete_group(group))

    @rule(name=NAMES, group=GROUPS, add=st.booleans())
    def change_membership(self, name: str, group: str, add: bool) -> None:
        key = group.lower()
        status = 404 if name not in self.active or key not in self.members else None
        if status is None:
            (self.members[key].add if add else self.members[key].discard)(name)
        change = self.directory.add_member if add else self.directory.remove_member
        self._expect(status, lambda: change(name, group))

    @invariant()
    def listings_match_the_model(self) -> None:
        users, total = self.directory.users_page(0, 100)
        assert [user.username for user in users] == sorted(self.active)
        assert total == len(self.active)
        assert [user.active for user in users] == [self.active[name] for name in sorted(self.active)]
        assert self.directory.active_users == sum(self.active.values())
        groups, _ = self.directory.groups_page(0, 100)
        assert groups == sorted(self.members)
        for group, members in self.members.items():
            listed, _ = self.directory.members_page(group, 0, 100)
            assert [user.username for user in listed] == sorted(members)
        for name in self.active:
            mine, _ = self.directory.groups_of_page(name, 0, 100)
            assert mine == sorted(group for group, members in self.members.items() if name in members)

    @invariant()
    def dump_and_load_round_trip(self) -> None:
        copy = Directory()
        copy.load(self.directory.dump())
        assert copy.dump() == self.directory.dump()


DirectoryModel.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
test_directory_matches_the_model = DirectoryModel.TestCase
