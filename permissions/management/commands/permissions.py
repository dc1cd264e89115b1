"""manage.py permissions list | grant PERMISSION ROLE | revoke PERMISSION ROLE"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Prefetch

from chat_project.http.errors import ApiError
from permissions.models import Permission, Role
from permissions.services import get_permission, get_role, grant_permission, revoke_permission


class Command(BaseCommand):
    help = "List permissions and the roles holding them; grant or revoke one for a role."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        listing = actions.add_parser("list", help="every permission and the roles that hold it")
        listing.add_argument("--role", help="only the permissions this role holds")
        for name, verb in (("grant", "let a role do"), ("revoke", "stop a role doing")):
            action = actions.add_parser(name, help=f"{verb} something")
            action.add_argument("permission")
            action.add_argument("role")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "do_" + options["action"])(options)
        except ApiError as exc:
            raise CommandError(exc.message) from None

    def do_list(self, options: dict[str, Any]) -> None:
        permissions = Permission.objects.prefetch_related(
            Prefetch("roles", queryset=Role.objects.order_by("name"))
        )
        if options["role"]:
            permissions = permissions.filter(roles=get_role(options["role"]))
        for permission in permissions:
            roles = ", ".join(role.name for role in permission.roles.all()) or "-"
            self.stdout.write(f"{permission.id:<28} {roles:<32} {permission.description}")

    def do_grant(self, options: dict[str, Any]) -> None:
        permission, role = get_permission(options["permission"]), get_role(options["role"])
        if grant_permission(permission=permission, role=role):
            self.stdout.write(f"Granted {permission.id} to {role.name}.")
        else:
            self.stdout.write(f"{role.name} already held {permission.id}.")

    def do_revoke(self, options: dict[str, Any]) -> None:
        permission, role = get_permission(options["permission"]), get_role(options["role"])
        if revoke_permission(permission=permission, role=role):
            self.stdout.write(f"Revoked {permission.id} from {role.name}.")
        else:
            self.stdout.write(f"{role.name} did not hold {permission.id}.")
