"""Rate limits on every /api/ response, with the Mattermost headers, keyed by user or address."""

import pytest
from django.core.cache import cache

from permissions.models import Permission
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.rate_limited]


def rate_headers(response):
    return (
        response["X-Ratelimit-Limit"],
        response["X-Ratelimit-Remaining"],
        response["X-Ratelimit-Reset"],
    )


def test_every_answer_carries_the_headers_and_remaining_counts_down(api, user, auth_headers, clock):
    headers = auth_headers(user)

    answers = [
        api.get("/api/publicRooms", **headers),  # success
        api.get("/api/rooms/NoSuchRoom1234567/messages", **headers),  # 404 from a view
        api.get("/api/no/such/endpoint", **headers),  # 404 from the URL resolver
        api.post("/api/rooms/GENERAL/send", {}, format="json", **headers),  # 403: not a member
    ]

    assert [a.status_code for a in answers] == [200, 404, 404, 403]
    assert [rate_headers(a) for a in answers] == [
        ("10", "9", "1"),
        ("10", "8", "1"),
        ("10", "7", "1"),
        ("10", "6", "1"),
    ]


def test_an_unauthenticated_401_carries_the_headers_too(api, clock):
    response = api.get("/api/logout")

    assert response.status_code == 401
    assert rate_headers(response) == ("10", "9", "1")


def test_going_over_is_a_429_and_the_next_window_works_again(api, user, auth_headers, clock):
    headers = auth_headers(user)
    for _ in range(10):
        assert api.get("/api/publicRooms", **headers).status_code == 200

    over = api.get("/api/publicRooms", **headers)

    assert over.status_code == 429
    assert over.json() == {
        "success": False,
        "status": "error",
        "message": "limit exceeded",
        "error": "limit exceeded",
        "errorType": "error-too-many-requests",
        "detailed_error": "",
        "request_id": over["X-Request-Id"],
        "status_code": 429,
    }
    assert rate_headers(over) == ("10", "0", "1")
    assert over["Retry-After"] == "1"

    clock.advance(1)
    again = api.get("/api/publicRooms", **headers)
    assert again.status_code == 200
    assert again["X-Ratelimit-Remaining"] == "9"


def test_a_429_runs_no_view(api, user, auth_headers, clock, django_assert_max_num_queries):
    headers = auth_headers(user)
    for _ in range(10):
        api.get("/api/publicRooms", **headers)

    with django_assert_max_num_queries(2):  # the token and the permission set: no rooms read
        assert api.get("/api/publicRooms", **headers).status_code == 429


def test_reset_counts_down_within_a_longer_window(api, user, auth_headers, clock, settings):
    settings.RATELIMIT_RATE = "100/m"
    headers = auth_headers(user)

    first = int(api.get("/api/publicRooms", **headers)["X-Ratelimit-Reset"])
    clock.advance(7)
    later = int(api.get("/api/publicRooms", **headers)["X-Ratelimit-Reset"])

    assert 0 < first <= 60
    assert later == first - 7 or later > first  # unless the window turned over meanwhile


def test_one_users_burst_does_not_limit_another(api, auth_headers, clock):
    busy, calm = UserFactory(), UserFactory()
    for _ in range(11):
        api.get("/api/publicRooms", **auth_headers(busy))

    assert api.get("/api/publicRooms", **auth_headers(busy)).status_code == 429
    assert api.get("/api/publicRooms", **auth_headers(calm)).status_code == 200


def test_unauthenticated_requests_from_one_address_share_a_budget(api, clock):
    for _ in range(10):
        api.get("/api/version", REMOTE_ADDR="203.0.113.7")

    assert api.get("/api/version", REMOTE_ADDR="203.0.113.7").status_code == 429
    assert api.get("/api/version", REMOTE_ADDR="203.0.113.8").status_code == 200


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_changes_nothing(api, clock):
    for n in range(10):
        api.get("/api/version", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")

    response = api.get("/api/version", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.9.9.9")

    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts(api, clock, settings):
    import ipaddress

    settings.TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    for _ in range(10):
        api.get(
            "/api/version", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.4"
        )

    # the client (rightmost untrusted hop) is limited; what it claims further left is not believed
    limited = api.get(
        "/api/version", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.4"
    )
    assert limited.status_code == 429
    other = api.get("/api/version", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.5")
    assert other.status_code == 200


def test_holders_of_api_bypass_rate_limit_are_not_counted(api, auth_headers, clock):
    bot = UserFactory(roles=["bot"])
    headers = auth_headers(bot)

    answers = [api.get("/api/publicRooms", **headers) for _ in range(15)]

    assert {a.status_code for a in answers} == {200}
    assert "X-Ratelimit-Limit" not in answers[-1]


def test_the_bypass_follows_the_permission(api, auth_headers, clock):
    Permission.objects.get(pk="api-bypass-rate-limit").roles.remove("bot")
    headers = auth_headers(UserFactory(roles=["bot"]))

    answers = [api.get("/api/publicRooms", **headers) for _ in range(11)]

    assert answers[-1].status_code == 429


def test_an_endpoint_may_have_a_rate_of_its_own(api, user, auth_headers, clock, settings):
    settings.RATELIMIT_RATES = {"room-send": "2/m"}
    headers = auth_headers(user)
    api.post("/api/rooms/GENERAL/join", **headers)
    sends = [api.post("/api/rooms/GENERAL/send", {"msg": "hi"}, **headers) for _ in range(3)]

    assert [s.status_code for s in sends] == [200, 200, 429]
    assert sends[0]["X-Ratelimit-Limit"] == "2"
    assert api.get("/api/publicRooms", **headers).status_code == 200  # the general budget is apart


def test_switched_off_there_are_no_limits_and_no_headers(api, user, auth_headers, settings):
    settings.RATELIMIT_ENABLE = False
    headers = auth_headers(user)

    answers = [api.get("/api/publicRooms", **headers) for _ in range(15)]

    assert {a.status_code for a in answers} == {200}
    assert "X-Ratelimit-Limit" not in answers[-1]


def test_pages_outside_the_api_are_not_limited(client, clock):
    answers = [client.get("/admin/login/") for _ in range(12)]

    assert {a.status_code for a in answers} == {200}
    assert "X-Ratelimit-Limit" not in answers[-1]


def test_with_the_cache_down_reads_are_served_without_limits(api, user, auth_headers, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(cache, "add", down)
    monkeypatch.setattr(cache, "incr", down)

    response = api.get("/api/publicRooms", **auth_headers(user))

    assert response.status_code == 200
    assert "X-Ratelimit-Limit" not in response
