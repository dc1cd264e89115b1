"""`manage.py check --deploy` with production settings: clean for the plain-HTTP localhost
default (its four HTTPS warnings silenced, and only those), clean behind TLS once HTTPS and HSTS
are set, and still warning when HTTPS is on but a safeguard is left off.

`make lint` runs the whole check (every app's checks); these tests pin the security part."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

CHECK = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]


def deploy_check(tmp_path, **settings):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYTEST_"))
        and k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "HTTPS",
            "TLS_PROXY",
            "SECURE_SSL_REDIRECT",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "SECURE_HSTS_SECONDS",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS",
            "SECURE_HSTS_PRELOAD",
            "CORS_ALLOWED_ORIGINS",
        }
    }
    env |= {"DEBUG": "false", "VAR_DIR": str(tmp_path / "var")} | settings
    return subprocess.run(
        [*CHECK, "--tag", "security", "--tag", "caches", "--tag", "compatibility"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_plain_http_default_passes_the_deploy_check(tmp_path):
    result = deploy_check(tmp_path)

    assert result.returncode == 0, result.stderr
    # The four HTTPS warnings, and django-ratelimit's two about the in-process cache (the
    # documented single-machine mode without REDIS_URL).
    assert "no issues (6 silenced)" in result.stdout


def test_behind_tls_with_hsts_the_deploy_check_passes_with_nothing_silenced(tmp_path):
    result = deploy_check(
        tmp_path,
        HTTPS="true",
        TLS_PROXY="true",
        SECURE_HSTS_SECONDS="31536000",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        SECURE_HSTS_PRELOAD="true",
        SECRET_KEY="k" + "Qx7_v9-Lm2Pz" * 5,
    )

    assert result.returncode == 0, result.stderr
    assert "no issues (2 silenced)" in result.stdout  # only django-ratelimit's, as above


def test_https_without_hsts_is_still_reported(tmp_path):
    result = deploy_check(tmp_path, HTTPS="true")

    assert result.returncode != 0
    assert "security.W004" in result.stderr
    assert "security.W008" not in result.stderr  # HTTPS=true turns the redirect on
    assert "security.W012" not in result.stderr


def test_a_setting_overrides_what_https_implies(tmp_path):
    result = deploy_check(
        tmp_path, HTTPS="true", SECURE_HSTS_SECONDS="3600", CSRF_COOKIE_SECURE="no"
    )

    assert "security.W016" in result.stderr


def test_a_malformed_cors_origin_is_reported(tmp_path):
    result = deploy_check(tmp_path, CORS_ALLOWED_ORIGINS="chat.example.com")

    assert result.returncode != 0
    assert "corsheaders.E013" in result.stderr
