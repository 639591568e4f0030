"""SPEC §2, effective permissions, on configurations built by hand in an empty database."""

from __future__ import annotations

import json

import pytest
from builders import EXCLUDE, GRANT, make_role
from peewee import Database

from store import PermissionSet, Session, who_grants
from store.models import Group, GroupRole, GroupUser, RoleFunction, User
from tui.command_line.reports import perms_report

# -- builders ---------------------------------------------------------------------------------


def make_group(name: str, roles: tuple[int, ...] = (), *, disabled: bool = False) -> int:
    group = Group.create(name=name, disabled=int(disabled))
    for role_id in roles:
        GroupRole.create(group_id=group.id, role_id=role_id)
    return group.id


def make_user(name: str, *groups: int) -> int:
    user = User.create(username=name, password="", email=f"{name}@example.com")
    for group_id in groups:
        GroupUser.create(group_id=group_id, user_id=user.id)
    return user.id


def perms(user_id: int) -> PermissionSet:
    return PermissionSet.for_user(user_id)


# -- has(): grants, wildcards, exclusions ----------------------------------------------------


def test_star_star_grants_every_function_and_makes_an_administrator(db: Database) -> None:
    uid = make_user("boss", make_group("Admins", (make_role("All", "*/*"),)))
    p = perms(uid)
    assert p.has("lhuser", "deleteuser")
    assert p.has("anything", "at_all")
    assert p.has("*", "*")
    assert p.is_administrator


def test_an_exclusion_beats_star_star_for_exactly_that_function(db: Database) -> None:
    role = make_role("Almost all", "*/*", ("lhuser", "deleteuser", "", EXCLUDE))
    uid = make_user("boss", make_group("Admins", (role,)))
    p = perms(uid)
    assert not p.has("lhuser", "deleteuser")
    assert p.has("lhuser", "edituser")
    assert p.has("lhchat", "use")
    assert p.is_administrator  # */* itself is not excluded


def test_an_exclusion_in_another_group_still_takes_the_function_away(db: Database) -> None:
    admins = make_group("Admins", (make_role("All", "*/*"),))
    restricted = make_group("No delete", (make_role("Deny", ("lhuser", "deleteuser", "", 1)),))
    uid = make_user("boss", admins, restricted)
    assert not perms(uid).has("lhuser", "deleteuser")
    assert perms(uid).has("lhuser", "createuser")


def test_a_module_wildcard_exclusion_does_not_exclude_the_functions_of_that_module(
    db: Database,
) -> None:
    role = make_role("All but users?", "*/*", ("lhuser", "*", "", EXCLUDE))
    uid = make_user("boss", make_group("Admins", (role,)))
    p = perms(uid)
    assert p.has("lhuser", "edituser")  # LHC matches exclusions literally
    assert p.has("lhuser", "deleteuser")
    assert not p.has("lhuser", "*")  # only the literal key is excluded


def test_an_exclusion_of_star_star_removes_administration_but_not_other_functions(
    db: Database,
) -> None:
    role = make_role("Odd", "*/*", ("*", "*", "", EXCLUDE))
    uid = make_user("boss", make_group("Admins", (role,)))
    p = perms(uid)
    assert not p.is_administrator
    assert not p.has("*", "*")
    assert p.has("lhuser", "edituser")


def test_an_exclusion_alone_grants_nothing(db: Database) -> None:
    uid = make_user("x", make_group("G", (make_role("Deny", ("lhchat", "use", "", EXCLUDE)),)))
    assert not perms(uid).has("lhchat", "use")
    assert not perms(uid).has("lhchat", "other")


def test_a_module_wildcard_grants_every_function_of_that_module_only(db: Database) -> None:
    uid = make_user("x", make_group("G", (make_role("Chat", "lhchat/*"),)))
    p = perms(uid)
    assert p.has("lhchat", "use")
    assert p.has("lhchat", "allowopenremotechat")
    assert p.has("lhchat", "*")
    assert not p.has("lhuser", "use")
    assert not p.has("*", "*")
    assert not p.is_administrator


def test_an_exact_grant_gives_only_that_function(db: Database) -> None:
    uid = make_user("x", make_group("G", (make_role("One", "lhuser/userlist"),)))
    p = perms(uid)
    assert p.has("lhuser", "userlist")
    assert not p.has("lhuser", "userlistonline")
    assert not p.has("lhuser", "*")
    assert not p.has("lhchat", "userlist")


def test_an_exclusion_beats_a_module_wildcard_grant(db: Database) -> None:
    role = make_role("Users but delete", "lhuser/*", ("lhuser", "deleteuser", "", EXCLUDE))
    uid = make_user("x", make_group("G", (role,)))
    assert not perms(uid).has("lhuser", "deleteuser")
    assert perms(uid).has("lhuser", "createuser")


# -- disabled groups and users without groups -----------------------------------------------


def test_a_disabled_group_gives_nothing_even_star_star(db: Database) -> None:
    uid = make_user("x", make_group("Off", (make_role("All", "*/*"),), disabled=True))
    p = perms(uid)
    assert not p.has("lhuser", "edituser")
    assert not p.is_administrator
    assert p.entries() == []


def test_an_exclusion_in_a_disabled_group_takes_nothing_away(db: Database) -> None:
    on = make_group("On", (make_role("Chat", "lhchat/use"),))
    off = make_group("Off", (make_role("Deny", ("lhchat", "use", "", EXCLUDE)),), disabled=True)
    uid = make_user("x", on, off)
    assert perms(uid).has("lhchat", "use")
    assert perms(uid).excluded() == []


def test_a_role_shared_by_an_enabled_and_a_disabled_group_still_counts_once_enabled(
    db: Database,
) -> None:
    role = make_role("Chat", "lhchat/use")
    uid = make_user("x", make_group("Off", (role,), disabled=True), make_group("On", (role,)))
    assert perms(uid).has("lhchat", "use")
    assert [e.granted_by for e in perms(uid).entries()] == [((2, role),)]


def test_a_user_without_groups_has_no_permissions(db: Database) -> None:
    make_group("G", (make_role("All", "*/*"),))
    uid = make_user("lonely")
    p = perms(uid)
    assert p.rows == []
    assert not p.has("lhchat", "use")
    assert not p.is_administrator
    assert perms_report(p) == {"permissions": [], "excluded": []}


def test_a_group_without_roles_gives_nothing(db: Database) -> None:
    uid = make_user("x", make_group("Empty"))
    assert perms(uid).rows == []
    assert not perms(uid).has("lhchat", "use")


# -- limitations ---------------------------------------------------------------------------


def test_a_single_limited_grant_keeps_its_limitation(db: Database) -> None:
    role = make_role("AU", ("lhdepartment", "see_all", '{"group":[1]}'))
    uid = make_user("x", make_group("G", (role,)))
    grant = perms(uid).grant("lhdepartment", "see_all")
    assert grant is not None
    assert grant.limitation == {"group": [1]}


def test_limitations_of_several_rows_merge_by_union_per_key_sorted(db: Database) -> None:
    a = make_role("A", ("lhdepartment", "see_all", '{"group":[3,1],"dep":["b"]}'))
    b = make_role("B", ("lhdepartment", "see_all", '{"group":[2,1]}'))
    c = make_role("C", ("lhdepartment", "see_all", '{"dep":["a"],"extra":5}'))
    uid = make_user("x", make_group("G1", (a,)), make_group("G2", (b, c)))
    grant = perms(uid).grant("lhdepartment", "see_all")
    assert grant is not None
    assert grant.limitation == {"dep": ["a", "b"], "extra": [5], "group": [1, 2, 3]}
    assert list(grant.limitation) == ["dep", "extra", "group"]


def test_one_unlimited_exact_row_makes_the_function_unrestricted(db: Database) -> None:
    limited = make_role("Limited", ("lhdepartment", "see_all", '{"group":[1]}'))
    free = make_role("Free", "lhdepartment/see_all")
    uid = make_user("x", make_group("G", (limited, free)))
    grant = perms(uid).grant("lhdepartment", "see_all")
    assert grant is not None and grant.limitation is None


def test_an_unlimited_module_wildcard_makes_a_limited_function_unrestricted(db: Database) -> None:
    limited = make_role("Limited", ("lhdepartment", "see_all", '{"group":[1]}'))
    wildcard = make_role("Departments", "lhdepartment/*")
    uid = make_user("x", make_group("G", (limited, wildcard)))
    grant = perms(uid).grant("lhdepartment", "see_all")
    assert grant is not None and grant.limitation is None


def test_an_unlimited_star_star_makes_a_limited_function_unrestricted(db: Database) -> None:
    limited = make_role("Limited", ("lhdepartment", "see_all", '{"group":[1]}'))
    uid = make_user("x", make_group("A", (make_role("All", "*/*"),)), make_group("L", (limited,)))
    grant = perms(uid).grant("lhdepartment", "see_all")
    assert grant is not None and grant.limitation is None


def test_a_limited_module_wildcard_merges_with_the_exact_row(db: Database) -> None:
    exact = make_role("Exact", ("lhdepartment", "see_all", '{"group":[2]}'))
    wildcard = make_role("Wild", ("lhdepartment", "*", '{"group":[1]}'))
    uid = make_user("x", make_group("G", (exact, wildcard)))
    grant = perms(uid).grant("lhdepartment", "see_all")
    assert grant is not None and grant.limitation == {"group": [1, 2]}


def test_a_limited_row_in_a_disabled_group_does_not_take_part_in_the_merge(db: Database) -> None:
    on = make_group("On", (make_role("A", ("lhdepartment", "see_all", '{"group":[1]}')),))
    off = make_group("Off", (make_role("B", "lhdepartment/see_all"),), disabled=True)
    uid = make_user("x", on, off)
    grant = perms(uid).grant("lhdepartment", "see_all")
    assert grant is not None and grant.limitation == {"group": [1]}


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_the_merged_limitation_does_not_depend_on_row_order(
    db: Database, order: tuple[int, int, int]
) -> None:
    texts = ['{"group":[2]}', '{"group":[1,3]}', '{"group":[3],"dep":[9]}']
    role = make_role("R", *[("lhdepartment", "see_all", texts[i]) for i in order])
    uid = make_user("x", make_group("G", (role,)))
    grant = perms(uid).grant("lhdepartment", "see_all")
    assert grant is not None
    assert grant.limitation == {"dep": [9], "group": [1, 2, 3]}
    (entry,) = perms(uid).entries()
    assert entry.limitation == {"dep": [9], "group": [1, 2, 3]}


def test_stored_limitation_text_that_is_not_json_is_kept_verbatim(db: Database) -> None:
    role = make_role("Odd", ("lhdepartment", "see_all", "group=1"))
    uid = make_user("x", make_group("G", (role,)))
    grant = perms(uid).grant("lhdepartment", "see_all")
    assert grant is not None and grant.limitation == {"_unparsed": ["group=1"]}


# -- who grants ------------------------------------------------------------------------------


def test_who_grants_lists_rows_of_disabled_groups_as_giving_nothing(db: Database) -> None:
    role_off = make_role("Off role", "lhuser/*")
    role_on = make_role("On role", "lhuser/edituser")
    off = make_group("Off", (role_off,), disabled=True)
    on = make_group("On", (role_on,))
    uid = make_user("x", off, on)
    answer = who_grants(uid, "lhuser", "edituser")
    assert answer.granted is True
    by_group = {m.row.group_id: m for m in answer.rows}
    assert set(by_group) == {off, on}
    assert by_group[off].effective is False
    assert by_group[off].row.group_disabled is True
    assert "disabled" in by_group[off].note
    assert by_group[on].effective is True


def test_who_grants_with_only_a_disabled_group_says_not_granted_but_shows_the_row(
    db: Database,
) -> None:
    off = make_group("Off", (make_role("All", "*/*"),), disabled=True)
    uid = make_user("x", off)
    answer = who_grants(uid, "lhchat", "use")
    assert answer.granted is False
    assert len(answer.rows) == 1
    assert answer.rows[0].effective is False
    assert (answer.rows[0].row.module, answer.rows[0].row.function) == ("*", "*")


def test_who_grants_shows_the_exclusion_and_the_overridden_grant(db: Database) -> None:
    role = make_role("R", "*/*", ("lhuser", "deleteuser", "", EXCLUDE), "lhchat/use")
    uid = make_user("x", make_group("G", (role,)))
    answer = who_grants(uid, "lhuser", "deleteuser")
    assert answer.granted is False
    kinds = sorted((m.row.is_exclusion, m.effective) for m in answer.rows)
    assert kinds == [(False, False), (True, True)]  # */* overridden; exclusion counts
    assert all(m.row.function != "use" for m in answer.rows)


def test_who_grants_reports_the_merged_limitation_and_every_matching_row(db: Database) -> None:
    a = make_role("A", ("lhdepartment", "see_all", '{"group":[2]}'))
    b = make_role("B", ("lhdepartment", "*", '{"group":[1]}'), "lhchat/use")
    uid = make_user("x", make_group("G", (a, b)))
    answer = who_grants(uid, "lhdepartment", "see_all")
    assert answer.granted
    assert answer.limitation == {"group": [1, 2]}
    assert sorted((m.row.module, m.row.function) for m in answer.rows) == [
        ("lhdepartment", "*"),
        ("lhdepartment", "see_all"),
    ]


def test_who_grants_for_a_user_without_groups_finds_nothing(db: Database) -> None:
    uid = make_user("lonely")
    answer = who_grants(uid, "lhchat", "use")
    assert answer.granted is False
    assert answer.rows == ()


# -- perms --json shape ----------------------------------------------------------------------


def test_perms_entries_list_each_written_key_once_with_its_own_merged_limitation(
    db: Database,
) -> None:
    r1 = make_role("R1", ("lhdepartment", "see_all", '{"group":[2]}'), "lhchat/*")
    r2 = make_role("R2", ("lhdepartment", "see_all", '{"group":[1]}'), "lhdepartment/*")
    r3 = make_role("R3", ("lhuser", "deleteuser", "", EXCLUDE), "lhchat/*")
    g1 = make_group("G1", (r1, r2))
    g2 = make_group("G2", (r3, r1))
    uid = make_user("x", g1, g2)
    p = perms(uid)
    entries = {(e.module, e.function): e for e in p.entries()}
    assert list(entries) == [
        ("lhchat", "*"),
        ("lhdepartment", "*"),
        ("lhdepartment", "see_all"),
    ]
    # lhdepartment/* (unlimited) does not leak into the exact key's entry
    assert entries[("lhdepartment", "see_all")].limitation == {"group": [1, 2]}
    assert entries[("lhdepartment", "see_all")].granted_by == ((g1, r1), (g1, r2), (g2, r1))
    assert entries[("lhchat", "*")].granted_by == ((g1, r1), (g2, r1), (g2, r3))
    assert entries[("lhchat", "*")].limitation is None
    assert p.excluded() == [("lhuser", "deleteuser")]


def test_perms_report_has_the_documented_json_shape(db: Database) -> None:
    role = make_role(
        "R",
        ("lhdepartment", "see_all", '{"group":[2,1]}'),
        "lhchat/use",
        ("lhchat", "delete", "", EXCLUDE),
    )
    off_role = make_role("Off", "lhuser/*")
    group = make_group("G", (role,))
    off = make_group("Off", (off_role,), disabled=True)
    uid = make_user("x", group, off)
    report = perms_report(perms(uid))
    assert report == {
        "permissions": [
            {
                "module": "lhchat",
                "function": "use",
                "limitation": None,
                "granted_by": [{"group_id": group, "role_id": role}],
            },
            {
                "module": "lhdepartment",
                "function": "see_all",
                "limitation": {"group": [1, 2]},
                "granted_by": [{"group_id": group, "role_id": role}],
            },
        ],
        "excluded": [{"module": "lhchat", "function": "delete"}],
    }
    json.dumps(report)  # serialisable as is


def test_policies_written_through_the_installer_services_behave_the_same(db: Database) -> None:
    installer = Session.installer(db)
    role = installer.roles.create("Everything but deleting")
    installer.roles.add_policy(role.id, "*", "*")
    installer.roles.add_policy(role.id, "lhuser", "deleteuser", exclude=True)
    installer.roles.add_policy(role.id, "lhdepartment", "see_all", limitation='{"group": [2]}')
    group = installer.groups.create("Admins")
    installer.groups.attach_role(group.id, role.id)
    uid = make_user("boss", group.id)
    stored = {(r.module, r.function): r for r in RoleFunction.select()}
    assert stored[("lhuser", "deleteuser")].type == EXCLUDE
    assert stored[("*", "*")].type == GRANT
    assert stored[("lhdepartment", "see_all")].limitation == '{"group":[2]}'
    p = perms(uid)
    assert p.is_administrator
    assert not p.has("lhuser", "deleteuser")
    # */* has no limitation, so see_all is unrestricted despite its own limited row
    grant = p.grant("lhdepartment", "see_all")
    assert grant is not None and grant.limitation is None
    assert p.excluded() == [("lhuser", "deleteuser")]
