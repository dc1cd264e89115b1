"""Users and login tokens in the Django admin. Token secrets are never stored, so never shown:
an administrator sees digests, expiry and use, and revokes a token by deleting it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms
from django.http import HttpRequest

from accounts.models import LoginToken, User
from accounts.services import welcome_new_users


class UserCreationForm(auth_forms.UserCreationForm):
    class Meta:
        model = User
        fields = ("username", "email", "name")


class UserChangeForm(auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class LoginTokenInline(admin.TabularInline):
    model = LoginToken
    extra = 0
    fields = ("digest", "created_at", "expires_at", "last_used_at")
    readonly_fields = fields
    can_delete = True
    verbose_name_plural = "login tokens (delete one to revoke it)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ("username", "name", "email", "is_active", "is_superuser", "created_at")
    list_filter = ("is_active", "roles", "is_superuser", "is_staff")
    # Roles are the one permission system (they rule the API and the websocket); Django's groups
    # and per-user permissions, which would sit next to them and rule nothing there, are not shown.
    filter_horizontal = ("roles",)
    search_fields = ("username", "name", "email", "id")
    ordering = ("username",)
    readonly_fields = ("id", "created_at", "updated_at", "last_login")
    fieldsets = (
        (None, {"fields": ("id", "username", "password")}),
        ("Profile", {"fields": ("name", "email")}),
        (
            "Access",
            {
                "fields": ("is_active", "roles"),
                "description": "What the user may do through the API and the websocket: the "
                "permissions their roles hold (see Roles).",
            },
        ),
        (
            "Django admin access",
            {
                "classes": ("collapse",),
                "fields": ("is_staff", "is_superuser"),
                "description": "Who may use this admin: a user with both flags.",
            },
        ),
        ("Dates", {"fields": ("created_at", "updated_at", "last_login")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "name", "password1", "password2"),
            },
        ),
    )
    inlines = [LoginTokenInline]

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # The admin's add view already runs in a transaction: the user and their memberships
        # are saved together or not at all.
        super().save_model(request, obj, form, change)
        if not change:
            welcome_new_users(users=[obj])

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return list(self.inlines) if obj is not None else []  # a new user has no tokens


@admin.register(LoginToken)
class LoginTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "short_digest", "created_at", "expires_at", "last_used_at", "live")
    list_filter = ("expires_at", "created_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email", "digest")
    readonly_fields = ("user", "digest", "created_at", "expires_at", "last_used_at")
    date_hierarchy = "created_at"

    @admin.display(description="digest")
    def short_digest(self, token: LoginToken) -> str:
        return f"{token.digest[:16]}…"

    @admin.display(boolean=True, description="live")
    def live(self, token: LoginToken) -> bool:
        return not token.is_expired

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are issued by logging in

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
