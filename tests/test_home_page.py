"""The page at `/`: what a newcomer sees on opening the server in a browser, and where the
admin's "View site" link lands. (The browser side, links followed: test_admin_in_a_browser.py.)"""

import html
import json
import re
import shutil
import subprocess

import pytest
from django.db import OperationalError

from chat_project import __version__
from tests.factories import SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

CURL = shutil.which("curl")


class Unreachable:
    """A database connection or cache whose server has gone away."""

    def cursor(self):
        raise OperationalError("connection refused")

    def get(self, *args, **kwargs):
        raise ConnectionError("connection refused")


def text_of(response):
    """The page as a reader sees it: tags gone, entities decoded, spaces folded."""
    body = re.sub(r"<style>.*?</style>", " ", response.content.decode(), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def curl_lines(page):
    """The three lines of the page's curl example, as one would copy them."""
    block = re.search(r'<pre id="curl"><code>(.*?)</code></pre>', page, re.S)
    return html.unescape(block.group(1)).splitlines()


def test_the_page_names_the_server_its_version_and_health(client):
    response = client.get("/")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "no-cache" in response["Cache-Control"]  # it shows the live health
    text = text_of(response)
    assert f"chat-server version {__version__}" in text
    assert re.search(r"Health: ok database reachable \([\d.]+ ms\), cache reachable", text)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in (
        response.content.decode()
    )


def test_the_page_shows_a_degraded_health_as_the_health_check_does(client, monkeypatch):
    monkeypatch.setattr("chat_project.http.health.cache", Unreachable())

    text = text_of(client.get("/"))

    assert "Health: degraded database reachable" in text
    assert "cache unreachable" in text


def test_the_page_still_answers_when_the_database_is_down(client, monkeypatch):
    monkeypatch.setattr("chat_project.http.health.connection", Unreachable())

    response = client.get("/")

    assert response.status_code == 200
    assert "Health: down database unreachable, cache reachable" in text_of(response)


def test_the_page_costs_the_health_checks_one_query(client, django_assert_num_queries):
    with django_assert_num_queries(1):  # SELECT 1
        client.get("/")


def test_the_urls_use_the_host_and_port_the_request_came_to(client, settings):
    settings.ALLOWED_HOSTS = ["chat.example.org"]

    response = client.get("/", HTTP_HOST="chat.example.org:3001")

    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', response.content.decode())
    assert links == [
        ("/admin/", "http://chat.example.org:3001/admin/"),
        ("/api/docs/", "http://chat.example.org:3001/api/docs/"),
        ("/api/health", "http://chat.example.org:3001/api/health"),
        ("/api/info", "http://chat.example.org:3001/api/info"),
    ]
    assert '<code id="websocket">ws://chat.example.org:3001/websocket</code>' in (
        response.content.decode()
    )


def test_over_https_the_websocket_url_is_wss(client):
    response = client.get("/", secure=True)

    assert '<code id="websocket">wss://testserver/websocket</code>' in response.content.decode()
    assert 'href="/admin/">https://testserver/admin/</a>' in response.content.decode()


def test_the_page_has_a_three_line_curl_session(client):
    assert curl_lines(client.get("/").content.decode()) == [
        'curl http://testserver/api/v1/login -d "user=USERNAME&password=PASSWORD"',
        'curl -H "X-Auth-Token: TOKEN" -H "X-User-Id: USER_ID" '
        "http://testserver/api/v1/chat.postMessage "
        """-d '{"channel": "#general", "text": "Hello"}'""",
        'curl -H "X-Auth-Token: TOKEN" -H "X-User-Id: USER_ID" '
        '"http://testserver/api/v1/channels.history?roomName=general&count=5"',
    ]


def test_the_page_names_the_clients_that_work(client):
    text = text_of(client.get("/"))

    assert "curl, or any HTTP library the REST APIs" in text
    assert (
        'rocketchat-api (Python, PyPI) REST v1: RocketChat("USERNAME", "PASSWORD", '
        'server_url="http://testserver")' in text
    )
    assert (
        "rocketchat-async (Python, PyPI) the websocket: "
        'await RocketChat().start("ws://testserver/websocket", "USERNAME", "PASSWORD")' in text
    )


def test_the_page_fetches_nothing_from_elsewhere(client):
    page = client.get("/").content.decode()

    assert not re.search(r"<(script|img|iframe)\b", page)
    assert re.findall(r"<link\b[^>]*>", page) == ['<link rel="icon" href="data:,">']  # no icon
    assert not re.search(r"(src|href)=\"(https?:)?//", page)


def test_the_page_only_answers_reads(client):
    assert client.head("/").status_code == 200
    assert client.post("/").status_code == 405


def test_other_paths_outside_the_api_are_still_404(client):
    assert client.get("/nothing-here").status_code == 404


def test_the_admins_view_site_link_is_the_page(client):
    UserFactory(username="root", is_superuser=True, is_staff=True, roles=["admin", "user"])
    client.login(username="root", password="correct horse battery staple")

    index = client.get("/admin/").content.decode()

    assert '<a href="/">View site</a>' in index
    assert "<title>Users, rooms, roles and permissions | chat-server admin</title>" in index
    assert '<a href="/admin/">chat-server administration</a>' in index


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(not CURL, reason="needs curl")
def test_the_pages_curl_session_works_as_shown(live_server):
    """The three lines, copied from the page with the placeholders filled in, run by curl."""
    user = UserFactory(username="newcomer")
    SubscriptionFactory(user=user, room_id="GENERAL")
    page = subprocess.run([CURL, "-s", f"{live_server.url}/"], capture_output=True, check=True)
    lines = curl_lines(page.stdout.decode())

    def run(line, **values):
        for placeholder, value in values.items():
            line = line.replace(placeholder, value)
        answer = subprocess.run(
            ["bash", "-c", line.replace("curl ", "curl -s ", 1)], capture_output=True, check=True
        )
        return json.loads(answer.stdout)

    login = run(lines[0], USERNAME="newcomer", PASSWORD="correct horse battery staple")
    assert login["status"] == "success"
    signed = {"TOKEN": login["data"]["authToken"], "USER_ID": login["data"]["userId"]}
    posted = run(lines[1], **signed)
    assert posted["success"] is True
    assert posted["message"]["msg"] == "Hello"
    history = run(lines[2], **signed)
    assert [m["msg"] for m in history["messages"]] == ["Hello"]
