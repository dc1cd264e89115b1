"""How the accounts app's authentication reads in the OpenAPI schema (drf-spectacular)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from accounts.authentication import LoginTokenAuthentication


class LoginTokenScheme(OpenApiAuthenticationExtension):
    """LoginTokenAuthentication in the OpenAPI schema: X-Auth-Token with X-User-Id (Rocket.Chat's
    pair); chat_project.http.schema.shared_parts adds the alternative, Authorization: Bearer
    <token>. drf-spectacular knows it once it is defined: AccountsConfig.ready() imports this
    module."""

    target_class = LoginTokenAuthentication
    name = ["authToken", "userId"]

    def get_security_definition(self, auto_schema: AutoSchema) -> list[dict[str, Any]]:
        return [
            {"type": "apiKey", "in": "header", "name": "X-Auth-Token"},
            {"type": "apiKey", "in": "header", "name": "X-User-Id"},
        ]
