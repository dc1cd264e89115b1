"""Routes under /api/v1/ for sessions and users."""

from django.urls import URLPattern, re_path

from accounts import v1_views


def users_route(name: str, view: type[v1_views.V1View]) -> URLPattern:
    """/api/v1/users.<name>, named `users.<name>` (the name RATELIMIT_RATES takes)."""
    return re_path(rf"^users\.{name}/?$", view.as_view(), name=f"users.{name}")


urlpatterns = [
    re_path(r"^login/?$", v1_views.LoginView.as_view(), name="v1-login"),
    re_path(r"^logout/?$", v1_views.LogoutView.as_view(), name="v1-logout"),
    re_path(r"^me/?$", v1_views.MeView.as_view(), name="v1-me"),
    users_route("register", v1_views.UsersRegisterView),
    users_route("create", v1_views.UsersCreateView),
    users_route("info", v1_views.UsersInfoView),
    users_route("list", v1_views.UsersListView),
    users_route("update", v1_views.UsersUpdateView),
    users_route("delete", v1_views.UsersDeleteView),
    users_route("setActiveStatus", v1_views.UsersSetActiveStatusView),
    users_route("createToken", v1_views.UsersCreateTokenView),
    users_route("getPresence", v1_views.UsersGetPresenceView),
    users_route("presence", v1_views.UsersPresenceView),
    users_route("setStatus", v1_views.UsersSetStatusView),
    re_path(r"^settings\.public/?$", v1_views.SettingsPublicView.as_view(), name="settings.public"),
    re_path(r"^settings/?$", v1_views.SettingsView.as_view(), name="settings"),
    re_path(
        r"^settings/(?P<setting_id>[^/]+)/?$",
        v1_views.SettingOneView.as_view(),
        name="settings-one",
    ),
    re_path(
        r"^service\.configurations/?$",
        v1_views.ServiceConfigurationsView.as_view(),
        name="service.configurations",
    ),
    users_route("getPreferences", v1_views.UsersGetPreferencesView),
    users_route("setPreferences", v1_views.UsersSetPreferencesView),
    users_route("getUsernameSuggestion", v1_views.UsersGetUsernameSuggestionView),
    users_route("autocomplete", v1_views.UsersAutocompleteView),
    users_route("removeOtherTokens", v1_views.UsersRemoveOtherTokensView),
    users_route("logoutOtherClients", v1_views.UsersLogoutOtherClientsView),
    users_route("forgotPassword", v1_views.UsersForgotPasswordView),
]
