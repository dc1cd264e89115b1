"""manage.py roles list | create NAME | add-user USERNAME ROLE | remove-user USERNAME ROLE"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from chat_project.http.errors import ApiError
from permissions.models import Role
from permissions.services import (
    add_user_to_role,
    create_role,
    get_role,
    get_user,
    remove_user_from_role,
)


class Command(BaseCommand):
    help = "List and create roles, and give global roles to users or take them away."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("list", help="every role, its scope, holders and permissions")
        create = actions.add_parser("create", help="a new role")
        create.add_argument("name")
        create.add_argument("--scope", choices=[s.value for s in Role.Scope], default="Users")
        create.add_argument("--description", default="")
        for name, verb in (("add-user", "give"), ("remove-user", "take")):
            action = actions.add_parser(name, help=f"{verb} a user a global role")
            action.add_argument("username")
            action.add_argument("role")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "do_" + options["action"].replace("-", "_"))(options)
        except ApiError as exc:
            raise CommandError(exc.message) from None

    def do_list(self, options: dict[str, Any]) -> None:
        roles = Role.objects.annotate(
            holders=Count("users", distinct=True), granted=Count("permissions", distinct=True)
        )
        self.stdout.write(f"{'ROLE':<20} {'SCOPE':<14} {'USERS':>5} {'PERMS':>5}  DESCRIPTION")
        for role in roles:
            mark = " (built in)" if role.protected else ""
            self.stdout.write(
                f"{role.name:<20} {role.scope:<14} {role.holders:>5} {role.granted:>5}  "
                f"{role.description}{mark}"
            )

    def do_create(self, options: dict[str, Any]) -> None:
        role = create_role(
            name=options["name"], scope=options["scope"], description=options["description"]
        )
        self.stdout.write(f"Created role {role.name} ({role.scope}).")

    def do_add_user(self, options: dict[str, Any]) -> None:
        user, role = get_user(options["username"]), get_role(options["role"])
        if add_user_to_role(user=user, role=role):
            self.stdout.write(f"{user.username} now has the role {role.name}.")
        else:
            self.stdout.write(f"{user.username} already had the role {role.name}.")

    def do_remove_user(self, options: dict[str, Any]) -> None:
        user, role = get_user(options["username"]), get_role(options["role"])
        if remove_user_from_role(user=user, role=role):
            self.stdout.write(f"{user.username} no longer has the role {role.name}.")
        else:
            self.stdout.write(f"{user.username} did not have the role {role.name}.")
