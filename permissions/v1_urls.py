"""Routes under /api/v1/ for roles and permissions."""

from django.urls import re_path

from permissions import v1_views

urlpatterns = [
    re_path(r"^roles\.list/?$", v1_views.RolesListView.as_view(), name="v1-roles-list"),
    re_path(r"^roles\.sync/?$", v1_views.RolesSyncView.as_view(), name="v1-roles-sync"),
    re_path(r"^roles\.create/?$", v1_views.RolesCreateView.as_view(), name="v1-roles-create"),
    re_path(r"^roles\.delete/?$", v1_views.RolesDeleteView.as_view(), name="v1-roles-delete"),
    re_path(
        r"^roles\.addUserToRole/?$",
        v1_views.RolesAddUserView.as_view(),
        name="v1-roles-add-user-to-role",
    ),
    re_path(
        r"^roles\.removeUserFromRole/?$",
        v1_views.RolesRemoveUserView.as_view(),
        name="v1-roles-remove-user-from-role",
    ),
    re_path(
        r"^roles\.getUsersInRole/?$",
        v1_views.RolesUsersView.as_view(),
        name="v1-roles-get-users-in-role",
    ),
    re_path(
        r"^permissions\.listAll/?$",
        v1_views.PermissionsListAllView.as_view(),
        name="v1-permissions-list-all",
    ),
    re_path(
        r"^permissions\.update/?$",
        v1_views.PermissionsUpdateView.as_view(),
        name="v1-permissions-update",
    ),
]
