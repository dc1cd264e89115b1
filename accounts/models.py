"""Users and their login tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.validators import validate_name
from chat_project.access_cache.declarations import NotWatched, Watched
from chat_project.db.ids import random_id

if TYPE_CHECKING:
    from django.db.models import QuerySet


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def by_username(self, username: str) -> QuerySet[User]:
        """Users whose username equals `username` ignoring case (served by the unique index)."""
        return self.alias(username_lower=Lower("username")).filter(username_lower=username.lower())

    def by_email(self, email: str) -> QuerySet[User]:
        """Users whose email equals `email` ignoring case (served by the unique index)."""
        return self.alias(email_lower=Lower("email")).filter(email_lower=email.lower())

    def get_by_natural_key(self, username: str | None) -> User:
        return self.by_username(username or "").get()

    # Django's createsuperuser and admin tooling create users through these two; both go through
    # the one service that creates users.
    def create_user(
        self, username: str, email: str, password: str | None = None, **extra: Any
    ) -> User:
        from accounts.services import create_user

        return create_user(username=username, email=email, password=password, **extra)

    def create_superuser(
        self, username: str, email: str, password: str | None = None, **extra: Any
    ) -> User:
        from accounts.services import create_user

        extra.pop("is_superuser", None)
        extra.pop("is_staff", None)
        return create_user(
            username=username, email=email, password=password, is_superuser=True, **extra
        )


class User(AbstractBaseUser, PermissionsMixin):
    """A person or bot. Ids, usernames and emails follow Rocket.Chat's rules."""

    id = models.CharField(primary_key=True, max_length=17, default=random_id, editable=False)
    username = models.CharField(
        max_length=64,
        # Unique as Django's auth machinery expects, and, by the constraint below, regardless of
        # case as Rocket.Chat's rules ask.
        unique=True,
        error_messages={"unique": "Username is already in use."},
        validators=[validate_name],
        help_text="Letters, digits and - _ . (NAME_PATTERN); unique regardless of case.",
    )
    email = models.EmailField(max_length=254, help_text="Unique regardless of case.")
    name = models.CharField("display name", max_length=120, blank=True)
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Inactive users cannot log in, and their tokens stop working.",
    )
    is_staff = models.BooleanField(
        "staff status", default=False, help_text="May sign in to the Django admin."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    preferences = models.JSONField(
        default=dict,
        blank=True,
        help_text="Rocket.Chat's user preferences (users.setPreferences; known keys only).",
    )
    roles = models.ManyToManyField(
        "permissions.Role",
        blank=True,
        related_name="users",
        limit_choices_to={"scope": "Users"},
        help_text="Global roles; what they hold applies everywhere.",
    )

    objects: ClassVar[UserManager] = UserManager()

    access_cache = Watched(
        "verify_login_token keeps a token with its user, every field of it",
        many_to_many={
            "roles": Watched("who holds which global role: authorisation, whoever writes it"),
            "groups": NotWatched("Django's groups: only the admin's has_perm reads them"),
            "user_permissions": NotWatched("Django's permissions: only the admin reads them"),
        },
    )

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message="Username is already in use.",
            ),
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="Email is already in use.",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    def clean(self) -> None:
        super().clean()
        self.email = UserManager.normalize_email(self.email)

    def get_full_name(self) -> str:
        return self.name or self.username

    def get_short_name(self) -> str:
        return self.username

    # What a save ends. Whoever saves a user (a service, the Django admin's forms,
    # `manage.py changepassword`, a script), the save is followed by the revocation of the
    # logins it ends (accounts.tokens.end_logins_after_save, a post_save receiver).
    _password: str | None  # Django's: the raw password set_password was given, until saved
    _login_kept: int | None = None
    _password_taken_away = False

    def set_password(self, raw_password: str | None, *, keeping_login: int | None = None) -> None:
        """A new password, which ends the user's logins once saved: every one of them, or all
        but `keeping_login` (a token id: the caller's own, when one changes one's own)."""
        super().set_password(raw_password)
        self._login_kept = keeping_login

    def set_unusable_password(self) -> None:
        """No password any more (the admin's "disable password-based authentication"): ends
        every login once saved, as a new password does."""
        super().set_unusable_password()
        self._password_taken_away = True
        self._login_kept = None

    def logins_ended_by_save(self, update_fields: frozenset[str] | None) -> tuple[bool, int | None]:
        """Whether the save just made ends this user's logins, and which one it keeps if any;
        from then on, the next save ends none unless a password is set again.

        A save ends them when it stores a new password (set_password since the last save; not
        the hash upgrade check_password makes on a login, which Django does not count as a
        change either), takes the password away, or stores the user inactive (an inactive
        user's tokens are deleted, so that ticking Active again revives none of them)."""
        new_password = self._password is not None or self._password_taken_away
        kept = self._login_kept
        self._login_kept, self._password_taken_away = None, False
        if (update_fields is None or "is_active" in update_fields) and not self.is_active:
            return True, None
        if (update_fields is None or "password" in update_fields) and new_password:
            return True, kept
        return False, None


class LoginToken(models.Model):
    """One login: a device, a script or a bot. Only the SHA-256 digest of the secret is kept,
    so a copy of the database yields no usable token. See accounts.tokens."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_tokens")
    digest = models.CharField(
        max_length=64, unique=True, editable=False, help_text="SHA-256 of the token, in hex."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(db_index=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    access_cache = Watched(
        "verify_login_token keeps a token with its user",
        # A hint refreshed at most once a minute, which verify_login_token writes into the kept
        # token itself; and a new token changes nothing kept (nothing is kept of tokens that do
        # not exist).
        harmless_columns=frozenset({"last_used_at"}),
        harmless_inserts=True,
    )

    # The websocket that ended this login itself (its logout): it stays up, signed out, while
    # every other socket of the login is closed (accounts.tokens.revoke_login_token).
    ended_by: str | None = None

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "expires_at"], name="accounts_token_user_expiry")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.digest[:12]}…"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class Setting(models.Model):
    """One of Rocket.Chat's settings, by its id (`Message_MaxAllowedSize`). What it is (type,
    group, section, label, public, editable, default) is the catalogue's
    (accounts.site_settings.CATALOGUE), copied here for the admin's lists; `value` is the
    administrator's, or null for the default (packageValue, which may come from the
    environment, so it is never copied: it follows the environment until someone sets a value).
    Written only through accounts.services.change_setting (REST and the admin alike)."""

    class Type(models.TextChoices):
        BOOLEAN = "boolean"
        STRING = "string"
        INT = "int"
        SELECT = "select"
        LANGUAGE = "language"

    id = models.CharField("_id", primary_key=True, max_length=100)
    value = models.JSONField(
        null=True, blank=True, help_text="Empty (null): the default, packageValue."
    )
    type = models.CharField(max_length=16, choices=Type.choices, editable=False)
    public = models.BooleanField(
        default=False, editable=False, help_text="Readable by anyone (settings.public)."
    )
    group = models.CharField(max_length=64, editable=False)
    section = models.CharField(max_length=64, blank=True, editable=False)
    i18n_label = models.CharField("i18nLabel", max_length=100, editable=False)
    # Rocket.Chat's _updatedAt.
    updated_at = models.DateTimeField(auto_now=True)

    access_cache = NotWatched(
        "the settings have a generation of their own (accounts.site_settings), replaced by "
        "change_setting: the many writes the access answers watch leave it alone"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.id
