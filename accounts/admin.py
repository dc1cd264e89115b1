"""Users and login tokens in the Django admin. Token secrets are never stored, so never shown:
an administrator sees digests, expiry and use, and revokes a token by deleting it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms
from django.http import HttpRequest

from accounts import site_settings
from accounts.models import LoginToken, Setting, User
from accounts.services import change_setting, check_setting_value, welcome_new_users
from chat_project.http.errors import ApiError
from permissions.checks import has_permission


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


class SettingForm(forms.ModelForm):
    class Meta:
        model = Setting
        fields = ("value",)

    def clean_value(self) -> Any:
        """The value as change_setting will take it, refused here in its words."""
        entry = site_settings.BY_ID.get(self.instance.pk)
        if entry is None:
            raise forms.ValidationError("This server has no such setting.")
        if not entry.editable:
            raise forms.ValidationError(
                f"{entry.id} says what this server does; it cannot be changed."
            )
        try:
            return check_setting_value(entry, self.cleaned_data["value"])
        except ApiError as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(Setting)
class SettingAdmin(admin.ModelAdmin):
    """Rocket.Chat's settings. A value is JSON (true, 5000, "Public"); empty sets the default
    back. Saving goes through change_setting, as POST /api/v1/settings/<id> does: the same
    checks, every process reads the new value from its next request, sockets hear a public one."""

    form = SettingForm
    list_display = ("id", "current_value", "group", "public", "editable", "updated_at")
    list_filter = ("group", "public")
    search_fields = ("id",)
    readonly_fields = (
        "id",
        "current_value",
        "default",
        "type",
        "group",
        "section",
        "i18n_label",
        "public",
        "editable",
        "updated_at",
    )
    fields = ("id", "value", *readonly_fields[1:])

    @admin.display(description="value now")
    def current_value(self, setting: Setting) -> Any:
        return site_settings.value_of(setting.pk) if setting.pk in site_settings.BY_ID else None

    @admin.display(description="default (packageValue)")
    def default(self, setting: Setting) -> Any:
        entry = site_settings.BY_ID.get(setting.pk)
        return entry.default() if entry else None

    @admin.display(boolean=True)
    def editable(self, setting: Setting) -> bool:
        entry = site_settings.BY_ID.get(setting.pk)
        return bool(entry and entry.editable)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the catalogue says which settings exist

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        return (
            super().has_change_permission(request, obj)
            and isinstance(user, User)
            and has_permission(user, "edit-privileged-setting")
        )

    def changeform_view(self, *args: Any, **kwargs: Any) -> Any:
        # Not in the admin's own transaction: change_setting owns its transaction (durable),
        # and publishes once it commits.
        return self._changeform_view(*args, **kwargs)  # type: ignore[attr-defined]

    def save_model(self, request: HttpRequest, obj: Setting, form: Any, change: bool) -> None:
        change_setting(
            user=request.user,  # type: ignore[arg-type]
            setting_id=obj.pk,
            value=form.cleaned_data["value"],
        )
