"""Roles and permissions in the Django admin: what the seed did in the MongoDB shell.

They are the one permission system: Django's own Groups, which django.contrib.auth registers,
would be a second one that rules nothing in the API, so the admin does not show them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth.models import Group
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from permissions.models import Permission, Role
from permissions.selectors import role_in_use
from permissions.services import delete_unheld_role, set_role_permissions

admin.site.unregister(Group)


class RoleForm(forms.ModelForm):
    """A role with the permissions it holds, in the two-pane selector. The relation is stored
    on Permission (as Rocket.Chat stores it), so RoleAdmin.save_related saves this side."""

    permissions = forms.ModelMultipleChoiceField(
        queryset=Permission.objects.all(),
        required=False,
        widget=FilteredSelectMultiple("permissions", is_stacked=False),
    )

    class Meta:
        model = Role
        fields = ("name", "scope", "description", "permissions")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["name"].disabled = True  # the id: other rows point at it
            self.initial["permissions"] = list(self.instance.permissions.all())


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    form = RoleForm
    list_display = ("name", "scope", "description", "holders", "permission_count", "protected")
    list_filter = ("scope", "protected")
    search_fields = ("name", "description")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Role]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                holder_total=Count("users", distinct=True),
                permission_total=Count("permissions", distinct=True),
            )
        )

    @admin.display(description="users", ordering="holder_total")
    def holders(self, role: Any) -> int:
        return int(role.holder_total)

    @admin.display(description="permissions", ordering="permission_total")
    def permission_count(self, role: Any) -> int:
        return int(role.permission_total)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        set_role_permissions(role=form.instance, permissions=form.cleaned_data["permissions"])

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and (obj.protected or role_in_use(obj)):
            return False  # the built-in roles, and those someone holds (as roles.delete says)
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: Role) -> None:
        delete_unheld_role(role=obj)  # inside the admin's transaction

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would not spare the built-in roles
        return actions


@admin.register(Permission)
class PermissionAdmin(admin.ModelAdmin):
    list_display = ("id", "role_names", "description")
    list_filter = ("roles",)
    search_fields = ("id", "description", "roles__name")
    filter_horizontal = ("roles",)
    fields = ("id", "roles", "description")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Permission]:
        return super().get_queryset(request).prefetch_related("roles")

    @admin.display(description="roles")
    def role_names(self, permission: Permission) -> str:
        return ", ".join(role.name for role in permission.roles.all())

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("id",) if obj is not None else ()
