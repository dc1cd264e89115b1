"""The admin as an administrator uses it: a real headless Chromium creates a role, grants it
bulk-create-c and create-c with the two-pane selector, gives it to a plain user, and the API
honours it; revoking it in the same way takes the right away again. A user the login guard
has blocked stays out of the admin, even with the right password. And the page at `/` as a
newcomer opens it: every link on it followed, and the admin's "View site" link back to it.

Needs Debian's chromium and chromium-driver (.ci/run installs them); skipped, saying so, without.
"""

import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request

import pytest

from accounts.tokens import issue_login_token
from tests.factories import UserFactory

ADMIN_INDEX_TITLE = "Users, rooms, roles and permissions | chat-server admin"
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium fetch a driver of its own
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def choose(driver, field, values, *, remove=False):
    """Moves `values` across the admin's two-pane selector for `field`, as a person would."""
    from selenium.webdriver.support.select import Select

    source = Select(driver.find_element("id", f"id_{field}_{'to' if remove else 'from'}"))
    source.deselect_all()
    for value in values:
        source.select_by_value(value)
    driver.find_element("id", f"id_{field}_{'remove' if remove else 'add'}").click()


def save(driver):
    """Clicks Save and waits for the admin's answer: its success message, or its errors."""
    from selenium.webdriver.support.wait import WebDriverWait

    driver.find_element("name", "_save").click()
    WebDriverWait(driver, 10).until(
        lambda d: d.find_elements("css selector", ".messagelist .success, .errornote")
    )
    errors = [e.text for e in driver.find_elements("css selector", ".errorlist, .errornote")]
    assert not errors, errors


def log_in(driver, base_url, username, password):
    """Signs in on the admin's login page; fails the test unless the admin's index shows."""
    errors = try_to_log_in(driver, base_url, username, password)
    assert not errors, errors


def try_to_log_in(driver, base_url, username, password):
    """Submits the admin's login page and waits for the page the browser lands on (a click
    returns before the navigation it starts has finished, so reading the title at once races
    it): the error notes it shows, none once signed in."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.wait import WebDriverWait

    driver.get(f"{base_url}/admin/login/?next=/admin/")
    driver.find_element("name", "username").send_keys(username)
    driver.find_element("name", "password").send_keys(password)
    driver.find_element("css selector", "input[type=submit]").click()
    try:
        WebDriverWait(driver, 15).until(
            lambda d: ADMIN_INDEX_TITLE in d.title or d.find_elements("css selector", ".errornote")
        )
    except TimeoutException:
        pytest.fail(
            f"neither the admin index nor an error: {driver.title!r} at {driver.current_url}"
        )
    return [e.text for e in driver.find_elements("css selector", ".errornote")]


def create_rooms(base_url, headers, name):
    request = urllib.request.Request(
        f"{base_url}/api/bulk/createRoom",
        data=json.dumps({"rooms": [{"name": name}]}).encode(),
        headers=headers | {"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_role_granted_and_revoked_in_the_admin_rules_the_api(live_server, browser):
    UserFactory(username="root", is_superuser=True, is_staff=True, roles=["admin", "user"])
    planner = UserFactory(username="planner", roles=["user"])
    headers = {"X-Auth-Token": issue_login_token(user=planner), "X-User-Id": planner.pk}
    assert create_rooms(live_server.url, headers, "before") == 403

    log_in(browser, live_server.url, "root", "correct horse battery staple")

    browser.get(f"{live_server.url}/admin/permissions/role/add/")
    browser.find_element("name", "name").send_keys("planners")
    choose(browser, "permissions", ["bulk-create-c", "create-c"])
    save(browser)

    browser.get(f"{live_server.url}/admin/accounts/user/{planner.pk}/change/")
    choose(browser, "roles", ["planners"])
    save(browser)

    assert create_rooms(live_server.url, headers, "granted") == 200

    browser.get(f"{live_server.url}/admin/permissions/role/planners/change/")
    choose(browser, "permissions", ["bulk-create-c"], remove=True)
    save(browser)

    assert create_rooms(live_server.url, headers, "revoked") == 403


def test_a_user_the_login_guard_blocked_stays_out_of_the_admin(live_server, browser, settings):
    settings.RATELIMIT_ENABLE = True  # the guard, which the other tests leave off
    settings.LOGIN_FAILURES_PER_USER = 3
    UserFactory(username="root", email="root@example.com", is_superuser=True, is_staff=True)
    wrong = (
        "Please enter the correct username and password for a staff account. Note that both "
        "fields may be case-sensitive."
    )

    failures = [
        try_to_log_in(browser, live_server.url, name, "wrong")
        for name in ("root", "ROOT@example.com", "root")
    ]
    blocked = try_to_log_in(browser, live_server.url, "root", "correct horse battery staple")

    assert failures == [[wrong]] * 3
    assert blocked == ["Too many failed logins for this user. Try again later."]
    browser.get(f"{live_server.url}/admin/")
    assert ADMIN_INDEX_TITLE not in browser.title
    assert browser.current_url.startswith(f"{live_server.url}/admin/login/")


def status_of(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_page_at_root_and_every_link_on_it(live_server, browser):
    from selenium.webdriver.support.wait import WebDriverWait

    browser.set_window_size(390, 844)  # a phone's screen
    browser.get(f"{live_server.url}/")

    assert browser.title.startswith("chat-server ")
    assert browser.find_element("css selector", "#health .health").text == "ok"
    websocket = browser.find_element("id", "websocket").text
    assert websocket == f"ws://{live_server.url.removeprefix('http://')}/websocket"
    # Nothing fetched but the page itself (its stylesheet is inline), and nothing wider than
    # the phone's screen but the curl block, which scrolls inside itself.
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert fetched == []
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390

    links = {
        a.get_attribute("href"): a.text for a in browser.find_elements("css selector", "a[href]")
    }
    assert links == {
        f"{live_server.url}{path}": f"{live_server.url}{path}"
        for path in ("/admin/", "/api/docs/", "/api/health", "/api/info")
    }
    for href in links:
        assert status_of(href) == 200, href

    browser.find_element("link text", f"{live_server.url}/api/health").click()
    WebDriverWait(browser, 10).until(lambda d: '"status"' in d.page_source)
    assert json.loads(browser.find_element("tag name", "pre").text)["status"] == "ok"

    browser.get(f"{live_server.url}/")
    browser.find_element("link text", f"{live_server.url}/api/docs/").click()
    WebDriverWait(browser, 15).until(
        lambda d: d.find_elements("css selector", ".swagger-ui .info .title")
    )
    assert "Chat server API" in browser.find_element("css selector", ".info .title").text

    browser.get(f"{live_server.url}/")
    browser.find_element("link text", f"{live_server.url}/admin/").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements("name", "username"))
    assert browser.title == "Log in | chat-server admin"


def test_the_admins_view_site_link_opens_the_page(live_server, browser):
    from selenium.webdriver.support.wait import WebDriverWait

    UserFactory(username="root", is_superuser=True, is_staff=True, roles=["admin", "user"])
    log_in(browser, live_server.url, "root", "correct horse battery staple")

    view_site = browser.find_element("css selector", "#user-tools a[href='/']")
    assert view_site.text.lower() == "view site"
    view_site.click()

    WebDriverWait(browser, 10).until(lambda d: d.find_elements("id", "health"))
    assert browser.current_url == f"{live_server.url}/"
    assert browser.find_element("tag name", "h1").text.startswith("chat-server")
