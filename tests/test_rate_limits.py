"""Rate limits on every /api/ response, with the Mattermost headers, keyed by user or address: a
rate plus a burst (by default 10 a second after 100 at once), as Mattermost's."""

import os

import pytest
from django.core.cache import cache

from permissions.models import Permission
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.rate_limited]


def spend(api, count, **request):
    return [api.get("/api/publicRooms", **request) for _ in range(count)]


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
    # A bucket of 100, one more every tenth of a second: Reset is when the next one comes.
    assert [rate_headers(a) for a in answers] == [
        ("100", "99", "1"),
        ("100", "98", "1"),
        ("100", "97", "1"),
        ("100", "96", "1"),
    ]


def test_an_unauthenticated_401_carries_the_headers_too(api, clock):
    response = api.get("/api/logout")

    assert response.status_code == 401
    assert rate_headers(response) == ("100", "99", "1")


def test_a_burst_of_100_is_answered_and_the_101st_is_a_429(api, user, auth_headers, clock):
    headers = auth_headers(user)
    burst = spend(api, 100, **headers)

    over = api.get("/api/publicRooms", **headers)

    assert {a.status_code for a in burst} == {200}
    assert rate_headers(burst[-1]) == ("100", "0", "1")
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
    assert rate_headers(over) == ("100", "0", "1")
    assert over["Retry-After"] == "1"


def test_after_a_burst_the_rate_refills_the_bucket(api, user, auth_headers, clock):
    headers = auth_headers(user)
    spend(api, 100, **headers)

    clock.advance(0.1)  # one request's worth
    one_more = api.get("/api/publicRooms", **headers)
    over = api.get("/api/publicRooms", **headers)
    clock.advance(1)  # ten requests' worth
    refilled = spend(api, 11, **headers)

    assert (one_more.status_code, one_more["X-Ratelimit-Remaining"]) == (200, "0")
    assert over.status_code == 429
    assert [a.status_code for a in refilled] == [200] * 10 + [429]
    assert [a["X-Ratelimit-Remaining"] for a in refilled[:3]] == ["9", "8", "7"]


def test_a_sustained_rate_within_the_limit_is_never_refused(api, user, auth_headers, clock):
    headers = auth_headers(user)
    answers = []
    for _ in range(300):  # ten a second for thirty seconds, after a full burst
        answers.append(api.get("/api/publicRooms", **headers))
        clock.advance(0.1)

    assert {a.status_code for a in answers} == {200}
    assert answers[-1]["X-Ratelimit-Remaining"] == "99"


def test_a_429_runs_no_view(api, user, auth_headers, clock, django_assert_max_num_queries):
    headers = auth_headers(user)
    spend(api, 100, **headers)

    with django_assert_max_num_queries(2):  # the token and the permission set: no rooms read
        assert api.get("/api/publicRooms", **headers).status_code == 429


def test_reset_says_when_the_next_request_is_allowed(api, user, auth_headers, clock, settings):
    settings.RATELIMIT_RATE = "6/m"  # one every 10 seconds
    settings.RATELIMIT_BURST = 2
    headers = auth_headers(user)

    first, second, refused = spend(api, 3, **headers)
    clock.advance(4)
    still = api.get("/api/publicRooms", **headers)
    clock.advance(6)
    allowed = api.get("/api/publicRooms", **headers)

    assert rate_headers(first) == ("2", "1", "10")
    assert rate_headers(second) == ("2", "0", "10")
    assert (refused.status_code, refused["Retry-After"], rate_headers(refused)) == (
        429,
        "10",
        ("2", "0", "10"),
    )
    assert (still.status_code, still["Retry-After"]) == (429, "6")
    assert (allowed.status_code, rate_headers(allowed)) == (200, ("2", "0", "10"))


def test_one_users_burst_does_not_limit_another(api, auth_headers, clock):
    busy, calm = UserFactory(), UserFactory()
    spend(api, 101, **auth_headers(busy))

    assert api.get("/api/publicRooms", **auth_headers(busy)).status_code == 429
    assert api.get("/api/publicRooms", **auth_headers(calm)).status_code == 200


def test_unauthenticated_requests_from_one_address_share_a_budget(api, clock):
    for _ in range(100):
        api.get("/api/version", REMOTE_ADDR="203.0.113.7")

    assert api.get("/api/version", REMOTE_ADDR="203.0.113.7").status_code == 429
    assert api.get("/api/version", REMOTE_ADDR="203.0.113.8").status_code == 200


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_changes_nothing(api, clock):
    for n in range(100):
        api.get("/api/version", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")

    response = api.get("/api/version", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.9.9.9")

    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts(api, clock, settings):
    import ipaddress

    settings.TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    for _ in range(100):
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

    answers = spend(api, 150, **headers)

    assert {a.status_code for a in answers} == {200}
    assert "X-Ratelimit-Limit" not in answers[-1]


def test_the_bypass_follows_the_permission(api, auth_headers, clock):
    Permission.objects.get(pk="api-bypass-rate-limit").roles.remove("bot")
    headers = auth_headers(UserFactory(roles=["bot"]))

    answers = spend(api, 101, **headers)

    assert answers[-1].status_code == 429


def test_an_endpoint_may_have_a_rate_of_its_own(api, user, auth_headers, clock, settings):
    settings.RATELIMIT_RATES = {"room-send": "2/m"}
    headers = auth_headers(user)
    api.post("/api/rooms/GENERAL/join", **headers)
    sends = [api.post("/api/rooms/GENERAL/send", {"msg": "hi"}, **headers) for _ in range(3)]

    assert [s.status_code for s in sends] == [200, 200, 429]
    assert sends[0]["X-Ratelimit-Limit"] == "2"  # without a burst of its own: its rate's count
    assert api.get("/api/publicRooms", **headers).status_code == 200  # the general budget is apart


def test_an_endpoints_rate_may_have_a_burst(api, user, auth_headers, clock, settings):
    settings.RATELIMIT_RATES = {"room-send": "2/m:5"}
    headers = auth_headers(user)
    api.post("/api/rooms/GENERAL/join", **headers)
    sends = [api.post("/api/rooms/GENERAL/send", {"msg": "hi"}, **headers) for _ in range(6)]

    assert [s.status_code for s in sends] == [200] * 5 + [429]
    assert rate_headers(sends[0]) == ("5", "4", "30")


def test_switched_off_there_are_no_limits_and_no_headers(api, user, auth_headers, settings):
    settings.RATELIMIT_ENABLE = False
    headers = auth_headers(user)

    answers = spend(api, 150, **headers)

    assert {a.status_code for a in answers} == {200}
    assert "X-Ratelimit-Limit" not in answers[-1]


def test_pages_outside_the_api_are_not_limited(client, clock):
    answers = [client.get("/admin/login/") for _ in range(12)]

    assert {a.status_code for a in answers} == {200}
    assert "X-Ratelimit-Limit" not in answers[-1]


def test_with_the_cache_down_reads_are_served_without_limits(api, user, auth_headers, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)
    monkeypatch.setattr("chat_project.http.gcra.spend_in_redis", down)

    response = api.get("/api/publicRooms", **auth_headers(user))

    assert response.status_code == 200
    assert "X-Ratelimit-Limit" not in response


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL=redis://..."
)
def test_a_redis_that_forgot_the_script_is_given_it_again(settings):
    """EVALSHA, then the script itself when Redis answers NOSCRIPT (restarted, or flushed)."""
    import redis

    from chat_project.http import gcra

    budget = gcra.Budget.of("1/h", 2)
    cache.clear()
    redis.Redis.from_url(settings.REDIS_URL).script_flush()

    answers = [gcra.spend("script-test", budget) for _ in range(3)]

    assert [usage.exceeded for usage in answers] == [False, False, True]
    assert [usage.remaining for usage in answers] == [1, 0, 0]
