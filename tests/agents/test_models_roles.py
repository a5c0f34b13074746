"""Roles come from groups; superusers and admins hold every role; outsiders hold none."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, Group

from agents.permissions import Role, require_role, user_has_role, user_roles
from config.errors import PermissionDenied
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_the_role_groups_exist_after_migrating() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= {"admin", "editor", "tester", "operator"}


def test_each_role_user_holds_exactly_their_role(editor_user: Any, tester_user: Any, operator_user: Any) -> None:
    assert user_roles(editor_user) == {"editor"}
    assert user_roles(tester_user) == {"tester"}
    assert user_roles(operator_user) == {"operator"}


def test_superusers_and_admin_group_members_hold_every_role(admin_user: Any) -> None:
    assert user_roles(admin_user) == set(Role.values)
    group_admin = make_user("group-admin", "admin")
    assert not group_admin.is_superuser
    assert user_roles(group_admin) == set(Role.values)
    assert user_has_role(group_admin, Role.OPERATOR)


def test_outsiders_anonymous_and_inactive_users_hold_no_role(outsider_user: Any) -> None:
    assert user_roles(outsider_user) == set()
    assert user_roles(AnonymousUser()) == set()
    inactive = make_user("inactive", "editor", is_active=False)
    assert user_roles(inactive) == set()


def test_user_has_role_accepts_any_of_several_roles(editor_user: Any) -> None:
    assert user_has_role(editor_user, Role.TESTER, Role.EDITOR)
    assert not user_has_role(editor_user, Role.TESTER, Role.OPERATOR)
    with pytest.raises(ValueError, match="Unknown role"):
        user_has_role(editor_user, "wizard")


def test_require_role_raises_permission_denied_naming_the_roles(tester_user: Any, outsider_user: Any) -> None:
    require_role(tester_user, Role.TESTER)
    with pytest.raises(PermissionDenied) as excinfo:
        require_role(outsider_user, Role.EDITOR, Role.ADMIN)
    assert excinfo.value.status == 403
    assert "admin or editor" in excinfo.value.message
