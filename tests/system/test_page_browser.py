"""Tutorial section 5: the page, in a real browser, against the real functions.

Debian's Chromium, driven by Playwright, loads the page exactly as it is
published: built by ``modules.site.assets.build_site`` (fingerprinted assets,
the generated ``config.json``) and served with its content types, cache
policies and the security headers of ``modules.site.headers``, Content-Security-
Policy included. Its API calls, on the same origin, reach the three functions'
handlers in-process under an emulated account (``tests/page_server.py``).

Staff sign in first, as in the local system: the page calls Cognito's JSON
API at ``/_cognito/``, which the server answers with moto's Cognito (a user
pool with an administrator, who has a password of their own, and a staff
member invited with a temporary one), and every API call must carry an ID
token of that pool. Most tests open the page signed in as the administrator;
the sign-in tests start from the form.

Every page a test opens is watched: a console error, an uncaught exception, a
CSP violation, an asset that fails to load, or (at phone width) a page wider
than the screen fails the test. Screenshots of both layouts in both languages
are written to ``$PAGE_SCREENSHOT_DIR`` (default ``.build/screenshots/``).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

import pytest
from botocore.exceptions import ClientError
from playwright.sync_api import Browser, Page, ViewportSize, expect

from config.settings import LOCAL_COGNITO_PATH
from lambdas.backup import handler as backup_handler
from lambdas.common import aws, names
from modules.site.assets import FRONTEND_DIR, IMMUTABLE, REVALIDATE, SiteObject, build_site, runtime_config
from modules.site.headers import CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from tests.browser import (
    DESKTOP,
    PHONE,
    WatchedPages,
    chromium,
    screenshot_dir,
    sign_in,
    wait_until_listed,
    watched_pages,
)
from tests.lambdas.scenarios import (
    REGION,
    AsyncInvocations,
    World,
    api_event,
    aws_world,
    inject_error,
    invoke,
    response_json,
)
from tests.page_server import PASSWORD_MIN_LENGTH, RETRY_AFTER_SECONDS, PageServer, StaffPool, create_staff_pool

pytestmark = pytest.mark.browser

LANGUAGE_KEY: Final = "studentManagement.language"
CONFIG: Final = runtime_config()
STUDENTS_PATH: Final = CONFIG["api"]["students"]
BACKUP_PATH: Final = CONFIG["api"]["backup"]
PAGE_SIZE: Final = CONFIG["pageSize"]
API_PATHS: Final = frozenset(CONFIG["api"].values())
#: Paths whose failed answers the watch lets pass: the API's, and the sign-in endpoint's.
WATCHED_PATHS: Final = API_PATHS | {LOCAL_COGNITO_PATH}


@dataclass(frozen=True)
class Member:
    """A staff member of the test's user pool."""

    email: str
    password: str
    groups: tuple[str, ...]
    #: Invited with a temporary password: the first sign-in chooses ``new_password``.
    temporary: bool
    new_password: str | None = None


ADMIN: Final = Member("head@example.com", "Head-Of-School-2025!", (names.STAFF_GROUP, names.ADMIN_GROUP), False)
STAFF: Final = Member(
    "teacher@example.com", "Temporary-Pass-77!", (names.STAFF_GROUP,), True, new_password="Chalk-And-Slate-42!"
)
NEW_STUDENT: Final = {
    "studentid": "SV001",
    "name": "Nguyễn Văn A",
    "class": "CNTT1",
    "birthdate": "2000-01-01",
    "email": "nguyen.van.a@example.com",
}
VIETNAMESE_NAMES: Final = (
    "Trần Thị Bích Ngọc",
    "Lê Hoàng Phúc",
    "Phạm Đức Duy",
    "Huỳnh Ngọc Hải Yến",
    "Đặng Thuỳ Dương",
    "Võ Minh Khôi",
)


def seed_students(world: World, count: int) -> list[dict[str, str]]:
    students = [
        {
            "studentid": f"SV{number:03d}",
            "name": VIETNAMESE_NAMES[number % len(VIETNAMESE_NAMES)],
            "class": f"CNTT{number % 3 + 1}",
            "birthdate": f"{2000 + number % 6}-0{number % 9 + 1}-1{number % 9}",
            "email": f"student{number:03d}@example.com",
        }
        for number in range(1, count + 1)
    ]
    world.put_students(students)
    return students


# --- Fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> list[SiteObject]:
    return build_site(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def server(site: list[SiteObject]) -> Iterator[PageServer]:
    with PageServer.running(site) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def world(server: PageServer) -> Iterator[World]:
    """An emulated account with the system's resources, its functions allowing the server's origin,
    and the staff pool the page signs in to: an administrator and a newly invited staff member."""
    with aws_world({names.ENV_ALLOWED_ORIGIN: server.origin}) as emulated:
        server.reset()
        server.lambda_service = AsyncInvocations(aws.lambda_())
        server.staff = create_staff_pool(REGION)
        for member in (ADMIN, STAFF):
            server.staff.add_member(member.email, member.password, groups=member.groups, temporary=member.temporary)
        yield emulated
        server.reset()


@pytest.fixture
def staff(server: PageServer, world: World) -> StaffPool:
    assert server.staff is not None
    return server.staff


OpenPage = Callable[..., Page]


def sign_in_as(page: Page, member: Member) -> None:
    sign_in(page, member.email, member.password, new_password=member.new_password if member.temporary else None)


@pytest.fixture
def open_page(browser: Browser, server: PageServer, world: World) -> Iterator[OpenPage]:
    """Opens the page in a fresh browser context and watches it; signed in as ``member`` (the administrator
    unless told otherwise; None: not signed in), it waits until the list is loaded."""
    with watched_pages(browser, api_paths=WATCHED_PATHS) as pages:

        def open_(
            *,
            viewport: ViewportSize = DESKTOP,
            locale: str = "en-US",
            member: Member | None = ADMIN,
            before_load: Callable[[Page], None] | None = None,
        ) -> Page:
            page = pages.open(f"{server.origin}/", viewport=viewport, locale=locale, before_load=before_load)
            if member is None:
                expect(page.locator("body")).to_have_attribute("data-ready", "true")
            else:
                sign_in_as(page, member)
                wait_until_listed(page)
            return page

        yield open_


def fill_student(page: Page, student: dict[str, str]) -> None:
    for name, value in student.items():
        page.locator(f"#field-{name}").fill(value)


def rows(page: Page) -> list[str]:
    return [row.get_attribute("data-studentid") or "" for row in page.locator("#student-rows tr").all()]


def field_error(page: Page, name: str) -> str:
    return page.locator(f"#field-{name}-error").inner_text()


# --- The page's sources ------------------------------------------------------------------


def page_sources(suffix: str) -> dict[str, str]:
    """The page's files of one kind (``.js``: its modules) by their names under ``frontend/``."""
    return {
        path.relative_to(FRONTEND_DIR).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(FRONTEND_DIR.rglob(f"*{suffix}"))
    }


def test_page_sources_carry_no_host_key_or_inline_code() -> None:
    sources = page_sources(".html") | page_sources(".css") | page_sources(".js")
    assert {name.rpartition(".")[2] for name in sources} == {"html", "css", "js"}
    for name, text in sources.items():
        for forbidden in ("http://", "https://", "x-api-key", "execute-api", "innerHTML", "eval(", "alert("):
            assert forbidden not in text, f"{name} contains {forbidden!r}"
    html = sources["index.html"]
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline <script> would be blocked by the CSP"
    assert "<style" not in html and " style=" not in html, "inline style would be blocked by the CSP"
    script = "\n".join(page_sources(".js").values())
    assert ".style." not in script, "styles are set through classes, never from script"
    # Tokens live in memory only: no cookie, no session storage, and local storage holds the language alone.
    assert "document.cookie" not in script and "sessionStorage." not in script
    assert re.findall(r"localStorage\.setItem\(([^,]+),", script) == ["LANGUAGE_KEY"]


def test_every_message_is_written_in_both_languages() -> None:
    script = "\n".join(page_sources(".js").values())
    html = (FRONTEND_DIR / "index.html").read_text(encoding="utf-8")
    blocks = re.search(
        r"export const MESSAGES = \{\n  en: \{(?P<en>.*?)\n  \},\n  vi: \{(?P<vi>.*?)\n  \},\n\};",
        script,
        re.S,
    )
    assert blocks is not None
    keys = {language: re.findall(r'^    "([\w.]+)":', blocks[language], re.M) for language in ("en", "vi")}
    assert len(keys["en"]) > 100 and sorted(keys["en"]) == sorted(keys["vi"])
    # Every key the page names (in a message part, a label, a ternary choice or the markup) is written.
    used = {
        *re.findall(r'\bkey: "([\w.]+)"', script),
        *re.findall(r'\bt\("([\w.]+)"', script),
        *(key for pair in re.findall(r'setAuthBusy\([^,]+, "([\w.]+)", "([\w.]+)"', script) for key in pair),
        *(key for pair in re.findall(r'\? "([a-z]+\.[\w.]+)" : "([a-z]+\.[\w.]+)"', script) for key in pair),
        *re.findall(r'data-i18n="([\w.]+)"', html),
    }
    assert {"auth.signedOut", "auth.signedOutLocally", "newPassword.heading", "auth.submitting"} <= used
    assert used - set(keys["en"]) == set()


def test_page_is_served_as_published_with_its_security_headers(open_page: OpenPage, server: PageServer) -> None:
    page = open_page()
    answer = page.request.get(f"{server.origin}/")
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    for header, value in SECURITY_HEADERS.items():
        assert answer.headers[header.lower()] == value
    assert answer.headers["cache-control"] == REVALIDATE
    stylesheets = [link.get_attribute("href") or "" for link in page.locator("link[rel=stylesheet]").all()]
    assert stylesheets and all(re.fullmatch(r"/css/[\w-]+\.[0-9a-f]{12}\.css", href) for href in stylesheets)
    for stylesheet in stylesheets:
        assert page.request.get(f"{server.origin}{stylesheet}").headers["cache-control"] == IMMUTABLE
    assert [call.path for call in server.api_calls()] == [STUDENTS_PATH]
    assert server.api_calls()[0].query == {"limit": str(PAGE_SIZE)}
    # The ID token as it came from Cognito, as is: no "Bearer".
    assert server.api_calls()[0].authorization == server.issued("IdToken")[-1]


def test_page_watch_catches_a_csp_violation(browser: Browser, server: PageServer, world: World) -> None:
    # The watch must see what it guards against: here an inline style attribute, which the CSP
    # blocks. (``world`` sets up the sign-in the page's settings name.)
    pages = WatchedPages(browser, WATCHED_PATHS)
    page = pages.open(f"{server.origin}/")
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    for _ in range(100):
        if any("CSP violation: style-src" in problem for problem in pages.problems()):
            break
        page.wait_for_timeout(20)
    problems = pages.problems()
    page.context.close()
    assert any("CSP violation: style-src" in problem for problem in problems), problems


# --- Signing in ------------------------------------------------------------------------------


def cognito_calls(server: PageServer, operation: str) -> list[dict[str, object]]:
    return [call.body for call in server.cognito_calls if call.operation == operation]


def refresh_is_refused(staff: StaffPool, refresh_token: str) -> bool:
    try:
        staff.client().initiate_auth(
            ClientId=staff.client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh_token}
        )
    except ClientError as error:
        return error.response["Error"]["Code"] == "NotAuthorizedException"
    return False


def start_first_sign_in(page: Page, member: Member) -> None:
    page.locator("#sign-in-email").fill(member.email)
    page.locator("#sign-in-password").fill(member.password)
    page.locator("#sign-in-button").click()
    expect(page.locator("#new-password-form")).to_be_visible()


def test_first_sign_in_chooses_a_new_password_and_lands_on_the_list(
    open_page: OpenPage, server: PageServer, staff: StaffPool, world: World
) -> None:
    seed_students(world, 2)
    page = open_page(member=None)
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    expect(page.locator("#workspace")).to_be_hidden()
    expect(page.locator("#session")).to_be_hidden()
    form = page.locator("#sign-in-form")
    form.get_by_label("E-mail").fill(STAFF.email)
    form.get_by_label("Password").fill(STAFF.password)
    form.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Choose your own password")).to_be_visible()
    expect(page.get_by_label("New password", exact=True)).to_be_focused()
    expect(page.get_by_label("Account")).to_have_value(STAFF.email)
    rules = page.locator("#password-rules li")
    expect(rules).to_have_count(5)
    expect(rules.first).to_contain_text(f"at least {PASSWORD_MIN_LENGTH} characters")
    expect(page.locator("#password-rules li[data-met=true]")).to_have_count(0)
    page.get_by_label("New password", exact=True).fill("short1A")
    expect(page.locator("#password-rules li[data-met=true]")).to_have_count(3)  # lower, upper, digit
    expect(page.locator("#password-rules li[data-rule=symbol]")).to_contain_text("(still needed)")
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.locator("#new-password-error")).to_have_text("The password does not meet every rule above.")
    expect(page.get_by_label("New password", exact=True)).to_have_attribute("aria-invalid", "true")

    assert STAFF.new_password is not None
    page.get_by_label("New password", exact=True).fill(STAFF.new_password)
    expect(page.locator("#password-rules li[data-met=true]")).to_have_count(5)
    page.get_by_label("New password, again").fill(STAFF.new_password + "x")
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.locator("#new-password-again-error")).to_have_text("The two passwords are not the same.")
    assert cognito_calls(server, "RespondToAuthChallenge") == []
    page.get_by_label("New password, again").fill(STAFF.new_password)
    page.get_by_role("button", name="Set password and sign in").click()

    wait_until_listed(page)
    expect(page.locator("#session-email")).to_have_text(STAFF.email)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator("#student-rows tr")).to_have_count(2)
    expect(page.locator("#auth-section")).to_be_hidden()
    # Cognito's JSON API, as documented: the password flow, then the challenge with its session.
    [first] = [call for call in server.cognito_calls if call.operation == "InitiateAuth"]
    assert first.content_type == "application/x-amz-json-1.1"
    assert first.body == {
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": staff.client_id,
        "AuthParameters": {"USERNAME": STAFF.email, "PASSWORD": STAFF.password},
    }
    [answer] = cognito_calls(server, "RespondToAuthChallenge")
    assert answer == {
        "ClientId": staff.client_id,
        "ChallengeName": "NEW_PASSWORD_REQUIRED",
        "Session": server.cognito_calls[0].answer["Session"],
        "ChallengeResponses": {"USERNAME": STAFF.email, "NEW_PASSWORD": STAFF.new_password},
    }
    user = staff.client().admin_get_user(UserPoolId=staff.user_pool_id, Username=STAFF.email)
    assert user["UserStatus"] == "CONFIRMED"
    assert server.api_calls()[0].authorization == server.issued("IdToken")[-1]


def test_a_new_password_cognito_refuses_keeps_the_step_and_says_why(open_page: OpenPage, server: PageServer) -> None:
    server.cognito_errors["RespondToAuthChallenge"] = (
        "InvalidPasswordException",
        "Password does not conform to policy: Password must have symbol characters",
    )
    page = open_page(member=None)
    start_first_sign_in(page, STAFF)
    assert STAFF.new_password is not None
    page.get_by_label("New password", exact=True).fill(STAFF.new_password)
    page.get_by_label("New password, again").fill(STAFF.new_password)
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.locator("#new-password-error")).to_have_text(
        "The new password was refused: it does not meet the password rules."
        " (Password does not conform to policy: Password must have symbol characters)"
    )
    expect(page.locator("#new-password-form")).to_be_visible()
    expect(page.get_by_label("New password", exact=True)).to_have_value("")
    expect(page.get_by_label("New password", exact=True)).to_be_focused()
    assert server.api_calls() == []


Setup = Callable[[PageServer, StaffPool, Page], None]


def disabled(server: PageServer, staff: StaffPool, page: Page) -> None:
    staff.client().admin_disable_user(UserPoolId=staff.user_pool_id, Username=ADMIN.email)


def offline(server: PageServer, staff: StaffPool, page: Page) -> None:
    page.context.set_offline(True)


def cognito_says(kind: str, message: str) -> Setup:
    """Cognito answers the sign-in with this error (moto never gives it)."""

    def setup(server: PageServer, staff: StaffPool, page: Page) -> None:
        server.cognito_errors["InitiateAuth"] = (kind, message)

    return setup


#: What goes wrong → (address, password, how it is made to go wrong, what the page says).
SIGN_IN_FAILURES: Final[dict[str, tuple[str, str, Setup | None, str]]] = {
    "wrong password": (ADMIN.email, "Not-The-Password-1!", None, "The e-mail address or the password is not right."),
    # An address outside the pool reads exactly as a wrong password.
    "unknown address": ("nobody@example.com", ADMIN.password, None, "The e-mail address or the password is not right."),
    "disabled": (
        ADMIN.email,
        ADMIN.password,
        disabled,
        "This account is disabled. Ask an administrator to enable it again.",
    ),
    "locked after failed attempts": (
        ADMIN.email,
        ADMIN.password,
        cognito_says("NotAuthorizedException", "Password attempts exceeded"),
        "Too many wrong passwords: this account is locked for a while. Try again later.",
    ),
    "must reset": (
        ADMIN.email,
        ADMIN.password,
        cognito_says("PasswordResetRequiredException", "Password reset required for the user"),
        "Your password must be reset before you can sign in. Ask an administrator for a new temporary password.",
    ),
    "temporary password expired": (
        STAFF.email,
        STAFF.password,
        cognito_says("NotAuthorizedException", "Temporary password has expired and must be reset by an administrator."),
        "Your temporary password has expired. Ask an administrator to invite you again.",
    ),
    "throttled": (
        ADMIN.email,
        ADMIN.password,
        cognito_says("TooManyRequestsException", "Rate exceeded"),
        "Too many sign-in attempts. Wait a minute, then try again.",
    ),
    "offline": (
        ADMIN.email,
        ADMIN.password,
        offline,
        "The sign-in service cannot be reached. Check your connection and try again.",
    ),
}


@pytest.mark.parametrize("case", list(SIGN_IN_FAILURES))
def test_a_refused_sign_in_says_why_and_shows_nothing(
    open_page: OpenPage, server: PageServer, staff: StaffPool, case: str
) -> None:
    email, password, setup, expected = SIGN_IN_FAILURES[case]
    page = open_page(member=None)
    if setup is not None:
        setup(server, staff, page)
    page.locator("#sign-in-email").fill(email)
    page.locator("#sign-in-password").fill(password)
    page.get_by_role("button", name="Sign in").click()

    expect(page.locator("#auth-status")).to_have_text(expected)
    expect(page.locator("#auth-status")).to_have_attribute("data-tone", "error")
    expect(page.locator("#sign-in-password")).to_have_value("")
    expect(page.locator("#sign-in-password")).to_be_focused()
    expect(page.locator("#sign-in-email")).to_have_value(email)
    expect(page.get_by_role("button", name="Sign in")).to_be_enabled()
    expect(page.locator("#workspace")).to_be_hidden()
    page.context.set_offline(False)
    assert server.api_calls() == []
    assert len(cognito_calls(server, "InitiateAuth")) == (0 if setup is offline else 1)


def test_an_empty_field_is_marked_and_nothing_is_sent(open_page: OpenPage, server: PageServer) -> None:
    page = open_page(member=None)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#sign-in-email-error")).to_have_text("Please fill in this field.")
    expect(page.locator("#sign-in-password-error")).to_have_text("Please fill in this field.")
    expect(page.locator("#sign-in-email")).to_be_focused()
    page.locator("#sign-in-email").fill(ADMIN.email)
    expect(page.locator("#sign-in-email-error")).to_be_hidden()
    assert server.cognito_calls == []


def test_settings_without_sign_in_leave_the_page_closed(browser: Browser, server: PageServer, world: World) -> None:
    server.staff = None  # config.json then names no user pool
    with watched_pages(browser, api_paths=WATCHED_PATHS) as pages:
        page = pages.open(f"{server.origin}/")
        expect(page.locator("#auth-status")).to_have_text(
            "The page could not load its settings. Reload the page to try again."
        )
        for control in ("#sign-in-email", "#sign-in-password", "#sign-in-button"):
            expect(page.locator(control)).to_be_disabled()
        expect(page.locator("#workspace")).to_be_hidden()
    assert server.api_calls() == []


# --- The session: renewed, ended, signed out ------------------------------------------------------


def base64url_json(part: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def eventually(page: Page, condition: Callable[[], bool], what: str) -> None:
    """Wait (real time, at most 5 s) until ``condition()`` holds."""
    for _ in range(100):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never happened: {what}")


def test_the_id_token_is_renewed_a_minute_before_it_expires(open_page: OpenPage, server: PageServer) -> None:
    # The page runs on Playwright's clock: its token's hour passes in an instant, Cognito's does not.
    page = open_page(before_load=lambda page: page.clock.install())
    [first] = server.issued("IdToken")
    assert server.api_calls()[-1].authorization == first
    claims = base64url_json(first.split(".")[1])
    lifetime_ms = (claims["exp"] - claims["iat"]) * 1000

    page.clock.fast_forward(lifetime_ms - 62_000)
    page.get_by_role("button", name="Refresh").click()
    wait_until_listed(page)
    assert len(cognito_calls(server, "InitiateAuth")) == 1
    assert server.api_calls()[-1].authorization == first

    page.clock.fast_forward(3_000)  # within a minute of its expiry: the page renews the token
    eventually(page, lambda: len(server.issued("IdToken")) == 2, "a refresh")
    renewal = cognito_calls(server, "InitiateAuth")[-1]
    assert renewal == {
        "AuthFlow": "REFRESH_TOKEN_AUTH",
        "ClientId": server.staff.client_id if server.staff else None,
        "AuthParameters": {"REFRESH_TOKEN": server.issued("RefreshToken")[0]},
    }
    page.get_by_role("button", name="Refresh").click()
    wait_until_listed(page)
    assert server.api_calls()[-1].authorization == server.issued("IdToken")[-1] != first
    expect(page.locator("#list-status")).to_be_hidden()


def test_a_token_the_api_calls_expired_is_renewed_and_the_call_repeated(
    open_page: OpenPage, server: PageServer, world: World
) -> None:
    seed_students(world, 1)
    page = open_page()
    server.expire_issued_tokens()
    page.get_by_role("button", name="Refresh").click()
    wait_until_listed(page)
    expect(page.locator("#student-rows tr")).to_have_count(1)
    expect(page.locator("#list-status")).to_be_hidden()
    old, new = server.issued("IdToken")
    assert [call.authorization for call in server.api_calls()[-2:]] == [old, new]


def test_a_session_cognito_will_not_renew_returns_to_the_sign_in_form(
    open_page: OpenPage, server: PageServer, staff: StaffPool, world: World
) -> None:
    seed_students(world, 3)
    page = open_page()
    expect(page.locator("#student-rows tr")).to_have_count(3)
    # An administrator ends the member's sessions; their ID token then expires.
    staff.client().admin_user_global_sign_out(UserPoolId=staff.user_pool_id, Username=ADMIN.email)
    server.expire_issued_tokens()
    page.get_by_role("button", name="Refresh").click()

    expect(page.locator("#auth-status")).to_have_text("Your session has expired. Please sign in again.")
    expect(page.locator("#sign-in-form")).to_be_visible()
    expect(page.locator("#workspace")).to_be_hidden()
    expect(page.locator("#session")).to_be_hidden()
    expect(page.locator("#student-rows tr")).to_have_count(0)  # nothing of the session stays on the page
    expect(page.locator("#sign-in-email")).to_be_focused()
    assert server.calls[-1].authorization == server.issued("IdToken")[0]

    sign_in_as(page, ADMIN)
    wait_until_listed(page)
    expect(page.locator("#student-rows tr")).to_have_count(3)


@pytest.mark.parametrize("revoke_token", [True, False], ids=["RevokeToken", "GlobalSignOut"])
def test_sign_out_revokes_the_sign_in_and_the_page_keeps_no_token(
    open_page: OpenPage, server: PageServer, staff: StaffPool, world: World, revoke_token: bool
) -> None:
    # The local emulator lacks RevokeToken: the page then ends the member's sessions with GlobalSignOut.
    server.revoke_token_supported = revoke_token
    seed_students(world, 2)
    page = open_page()
    expect(page.locator("#session-email")).to_have_text(ADMIN.email)
    page.get_by_role("button", name="Sign out").click()

    expect(page.locator("#auth-status")).to_have_text("You have signed out.")
    expect(page.locator("#sign-in-form")).to_be_visible()
    expect(page.locator("#workspace")).to_be_hidden()
    expect(page.locator("#session")).to_be_hidden()
    expect(page.locator("#student-rows tr")).to_have_count(0)
    [refresh_token] = server.issued("RefreshToken")
    [access_token] = server.issued("AccessToken")
    assert cognito_calls(server, "RevokeToken") == [{"Token": refresh_token, "ClientId": staff.client_id}]
    assert cognito_calls(server, "GlobalSignOut") == ([] if revoke_token else [{"AccessToken": access_token}])
    assert refresh_is_refused(staff, refresh_token)

    # The page kept its tokens in memory only: now it has none, and the API refuses what it sends.
    assert page.evaluate("[sessionStorage.length, document.cookie, Object.keys(localStorage)]") == [0, "", []]
    status = page.evaluate(f"fetch('{STUDENTS_PATH}').then((response) => response.status)")
    assert status == 401
    assert server.calls[-1].authorization is None
    assert len(server.api_calls()) == 2  # the first list, then the refused fetch


def test_sign_out_without_a_connection_still_forgets_the_session_and_says_so(
    open_page: OpenPage, server: PageServer
) -> None:
    page = open_page()
    page.context.set_offline(True)
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#auth-status")).to_have_text(
        "You have signed out of this page, but the sign-in service could not be reached to end the session."
    )
    expect(page.locator("#workspace")).to_be_hidden()
    page.context.set_offline(False)
    assert page.evaluate(f"fetch('{STUDENTS_PATH}').then((response) => response.status)") == 401


def test_a_member_with_an_authenticator_app_enters_its_code(
    open_page: OpenPage, server: PageServer, staff: StaffPool
) -> None:
    idp = staff.client()
    idp.set_user_pool_mfa_config(
        UserPoolId=staff.user_pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="OPTIONAL",
    )
    signed_in = idp.initiate_auth(
        ClientId=staff.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": ADMIN.email, "PASSWORD": ADMIN.password},
    )["AuthenticationResult"]
    idp.associate_software_token(AccessToken=signed_in["AccessToken"])
    idp.verify_software_token(AccessToken=signed_in["AccessToken"], UserCode="123456")
    idp.admin_set_user_mfa_preference(
        UserPoolId=staff.user_pool_id,
        Username=ADMIN.email,
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    page = open_page(member=None)
    page.locator("#sign-in-email").fill(ADMIN.email)
    page.locator("#sign-in-password").fill(ADMIN.password)
    page.get_by_role("button", name="Sign in").click()
    code = page.get_by_label("Code", exact=True)
    expect(code).to_be_focused()
    code.fill("12ab")
    page.get_by_role("button", name="Verify and sign in").click()
    expect(page.locator("#mfa-code-error")).to_have_text("Enter the 6 digits your app shows.")

    server.cognito_errors["RespondToAuthChallenge"] = ("CodeMismatchException", "Invalid code received for user")
    code.fill("000000")
    page.get_by_role("button", name="Verify and sign in").click()
    expect(page.locator("#mfa-code-error")).to_have_text("That code is not right. Enter the code your app shows now.")
    del server.cognito_errors["RespondToAuthChallenge"]
    code.fill("123456")
    page.get_by_role("button", name="Verify and sign in").click()
    wait_until_listed(page)
    answer = cognito_calls(server, "RespondToAuthChallenge")[-1]
    assert answer["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    assert answer["ChallengeResponses"] == {"USERNAME": ADMIN.email, "SOFTWARE_TOKEN_MFA_CODE": "123456"}


def test_cancel_goes_back_from_the_new_password_step(open_page: OpenPage, server: PageServer) -> None:
    page = open_page(member=None)
    start_first_sign_in(page, STAFF)
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#sign-in-form")).to_be_visible()
    expect(page.locator("#new-password-form")).to_be_hidden()
    expect(page.locator("#sign-in-email")).to_be_focused()
    assert cognito_calls(server, "RespondToAuthChallenge") == []


def test_sign_in_speaks_vietnamese(open_page: OpenPage, server: PageServer) -> None:
    page = open_page(member=None, locale="vi-VN")
    expect(page.get_by_role("heading", name="Đăng nhập cho cán bộ")).to_be_visible()
    expect(page.locator("label[for=sign-in-password]")).to_have_text("Mật khẩu")
    page.locator("#sign-in-email").fill(ADMIN.email)
    page.locator("#sign-in-password").fill("Not-The-Password-1!")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator("#auth-status")).to_have_text("Địa chỉ e-mail hoặc mật khẩu không đúng.")

    start_first_sign_in(page, STAFF)
    expect(page.get_by_role("heading", name="Đặt mật khẩu của riêng bạn")).to_be_visible()
    expect(page.locator("#password-rules li").first).to_contain_text(f"ít nhất {PASSWORD_MIN_LENGTH} ký tự")
    page.get_by_role("button", name="Đặt mật khẩu và đăng nhập").click()
    expect(page.locator("#new-password-error")).to_have_text("Vui lòng điền trường này.")
    # Switching language rewrites what is shown, the error included.
    page.get_by_label("Ngôn ngữ").select_option("en")
    expect(page.locator("#new-password-error")).to_have_text("Please fill in this field.")
    expect(page.locator("#password-rules li").first).to_contain_text(f"at least {PASSWORD_MIN_LENGTH} characters")
    page.get_by_label("Language").select_option("vi")
    assert STAFF.new_password is not None
    for field in ("#new-password", "#new-password-again"):
        page.locator(field).fill(STAFF.new_password)
    page.get_by_role("button", name="Đặt mật khẩu và đăng nhập").click()
    wait_until_listed(page)
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()
    expect(page.locator(".session__label")).to_have_text("Đã đăng nhập:")
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.locator("#auth-status")).to_have_text("Bạn đã đăng xuất.")


# --- Saving a student ------------------------------------------------------------------------


def test_saving_a_vietnamese_name_says_saved_and_lists_the_student_without_reload(
    open_page: OpenPage, server: PageServer
) -> None:
    page = open_page()
    expect(page.locator("#list-empty")).to_be_visible()
    page.evaluate("window.sameDocument = true")
    fill_student(page, NEW_STUDENT)
    page.get_by_role("button", name="Save student").click()

    status = page.locator("#form-status")
    expect(status).to_have_text(
        "Saved Nguyễn Văn A (SV001). A confirmation e-mail was sent to nguyen.van.a@example.com."
    )
    expect(status).to_have_attribute("data-tone", "success")
    row = page.locator("#student-rows tr[data-studentid='SV001']")
    expect(row.locator("[data-field=name]")).to_have_text("Nguyễn Văn A")
    expect(page.locator("#list-empty")).to_be_hidden()
    assert page.evaluate("window.sameDocument") is True
    [post] = server.api_calls("POST")
    assert post.content_type == "application/json"
    assert json.loads(post.body) == NEW_STUDENT
    expect(page.locator("#field-studentid")).to_have_value("")


def test_vietnamese_name_reads_back_identically_through_the_api(
    open_page: OpenPage, server: PageServer, world: World
) -> None:
    page = open_page()
    fill_student(page, NEW_STUDENT)
    page.get_by_role("button", name="Save student").click()
    expect(page.locator("#form-status")).to_contain_text("Saved Nguyễn Văn A")

    page.reload()
    sign_in_as(page, ADMIN)  # the tokens were in the page's memory only
    wait_until_listed(page)
    expect(page.locator("#student-rows [data-field=name]")).to_have_text(["Nguyễn Văn A"])
    page.locator("#lookup-id").fill("SV001")
    page.get_by_role("button", name="Find", exact=True).click()
    expect(page.locator("#list-status")).to_have_text("Found student SV001.")
    shown = page.locator("#student-rows [data-field=name] .cell-value").inner_text()
    assert shown == NEW_STUDENT["name"]
    assert server.api_calls("GET")[-1].query == {"studentid": "SV001"}
    stored = world.dynamodb.get_item(TableName="studentData", Key={"studentid": {"S": "SV001"}})["Item"]
    assert stored["name"]["S"] == NEW_STUDENT["name"]


def test_invalid_input_is_shown_beside_each_field_and_nothing_is_sent(open_page: OpenPage, server: PageServer) -> None:
    page = open_page()
    fill_student(
        page,
        {"studentid": "SV 01", "name": "", "class": "CNTT1", "birthdate": "1899-12-31", "email": "not-an-address"},
    )
    page.get_by_role("button", name="Save student").click()

    expect(page.locator("#field-studentid-error")).to_have_text("Use only letters, digits, “_” or “-”, without spaces.")
    expect(page.locator("#field-name-error")).to_have_text("Please fill in this field.")
    expect(page.locator("#field-birthdate-error")).to_have_text("Must not be before January 1, 1900.")
    expect(page.locator("#field-email-error")).to_have_text("Enter an e-mail address such as name@example.com.")
    expect(page.locator("#field-class-error")).to_be_hidden()
    for name in ("studentid", "name", "birthdate", "email"):
        field_input = page.locator(f"#field-{name}")
        expect(field_input).to_have_attribute("aria-invalid", "true")
        assert f"field-{name}-error" in (field_input.get_attribute("aria-describedby") or "").split()
    expect(page.locator("#field-class")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#form-status")).to_have_text("Please correct the highlighted fields.")
    expect(page.locator("#field-studentid")).to_be_focused()

    # Lengths are counted in characters (code points), as the schema means them, not UTF-16 units.
    page.locator("#field-name").fill("𝓐" * 101)
    page.locator("#field-birthdate").fill("2999-01-01")
    page.get_by_role("button", name="Save student").click()
    expect(page.locator("#field-name-error")).to_have_text("Must be at most 100 characters long.")
    expect(page.locator("#field-birthdate-error")).to_have_text("Must not be in the future.")
    page.locator("#field-name").fill("𝓐" * 100)
    page.get_by_role("button", name="Save student").click()
    expect(page.locator("#field-name-error")).to_be_hidden()
    assert server.api_calls("POST") == []


def test_fields_the_function_refuses_are_shown_beside_them(open_page: OpenPage, server: PageServer) -> None:
    # The schema's ASCII classes cannot tell a letter from a symbol outside ASCII; the function can.
    page = open_page()
    fill_student(page, {**NEW_STUDENT, "name": "Nguyễn Văn ②"})
    page.get_by_role("button", name="Save student").click()

    expect(page.locator("#field-name-error")).to_have_text(
        "May contain only letters, spaces, apostrophes, periods and hyphens."
    )
    expect(page.locator("#field-name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#form-status")).to_have_text(
        "Not saved: the server refused some fields (invalid student). Please correct the highlighted fields."
    )
    assert len(server.api_calls("POST")) == 1
    assert rows(page) == []


def test_duplicate_student_id_is_refused_naming_the_id(open_page: OpenPage, world: World) -> None:
    world.put_students([NEW_STUDENT])
    page = open_page()
    fill_student(page, {**NEW_STUDENT, "name": "Nguyễn Văn B"})
    page.get_by_role("button", name="Save student").click()

    expect(page.locator("#form-status")).to_have_text("A student with id SV001 already exists.")
    expect(page.locator("#form-status")).to_have_attribute("data-tone", "error")
    expect(page.locator("#field-studentid-error")).to_have_text("A student with id SV001 already exists.")
    expect(page.locator("#student-rows [data-field=name]")).to_have_text(["Nguyễn Văn A"])


def test_throttled_api_asks_to_slow_down_for_the_retry_time(open_page: OpenPage, server: PageServer) -> None:
    page = open_page()
    server.throttled = True
    fill_student(page, NEW_STUDENT)
    page.get_by_role("button", name="Save student").click()

    expect(page.locator("#form-status")).to_have_text(
        f"Not saved. Too many requests (429): please slow down and try again in {RETRY_AFTER_SECONDS} s."
    )
    expect(page.locator("#field-studentid")).to_have_value("SV001")
    expect(page.get_by_role("button", name="Save student")).to_be_enabled()


def test_unreachable_server_is_reported_and_the_form_kept(open_page: OpenPage, server: PageServer) -> None:
    page = open_page()
    fill_student(page, NEW_STUDENT)
    page.context.set_offline(True)
    page.get_by_role("button", name="Save student").click()

    expect(page.locator("#form-status")).to_have_text(
        "Not saved. The server cannot be reached. Check your connection and try again."
    )
    expect(page.locator("#field-name")).to_have_value(NEW_STUDENT["name"])
    page.context.set_offline(False)
    assert server.api_calls("POST") == []


# --- The list ------------------------------------------------------------------------------------


def test_load_more_follows_next_token_until_every_student_is_shown(
    open_page: OpenPage, server: PageServer, world: World
) -> None:
    seeded = seed_students(world, 45)
    page = open_page()
    load_more = page.get_by_role("button", name="Load more")
    count = page.locator("#list-count")

    expect(page.locator("#student-rows tr")).to_have_count(PAGE_SIZE)
    expect(count).to_have_text(f"{PAGE_SIZE} students shown · more available")
    load_more.click()
    expect(page.locator("#student-rows tr")).to_have_count(2 * PAGE_SIZE)
    load_more.click()
    expect(page.locator("#student-rows tr")).to_have_count(45)
    expect(load_more).to_be_hidden()
    expect(count).to_have_text("45 students shown")

    assert sorted(rows(page)) == sorted(student["studentid"] for student in seeded)
    queries = [call.query for call in server.api_calls("GET")]
    assert [query.get("limit") for query in queries] == [str(PAGE_SIZE)] * 3
    assert "nextToken" not in queries[0] and all(query.get("nextToken") for query in queries[1:])


def test_look_up_by_id_shows_the_student_or_says_none_has_it(open_page: OpenPage, world: World) -> None:
    seed_students(world, 3)
    page = open_page()
    lookup = page.locator("#lookup-id")
    find = page.get_by_role("button", name="Find", exact=True)
    show_all = page.get_by_role("button", name="Show all students")
    expect(show_all).to_be_hidden()

    lookup.fill("SV002")
    find.click()
    expect(page.locator("#list-status")).to_have_text("Found student SV002.")
    expect(page.locator("#student-rows tr")).to_have_count(1)
    assert rows(page) == ["SV002"]

    lookup.fill("SV999")
    find.click()
    expect(page.locator("#list-status")).to_have_text("No student has the ID SV999.")
    expect(page.locator("#student-rows tr")).to_have_count(0)
    expect(page.locator("#list-empty")).to_be_hidden()

    show_all.click()
    expect(page.locator("#student-rows tr")).to_have_count(3)
    expect(show_all).to_be_hidden()
    expect(page.locator("#list-status")).to_be_hidden()

    lookup.fill("SV 2")
    find.click()
    expect(page.locator("#lookup-error")).to_have_text("Use only letters, digits, “_” or “-”, without spaces.")


def test_empty_table_shows_the_empty_state(open_page: OpenPage) -> None:
    page = open_page()
    expect(page.locator("#list-empty")).to_contain_text("No students yet")
    expect(page.locator("#student-table")).to_be_hidden()
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    expect(page.locator("#list-loading")).to_be_hidden()


# --- Backup ----------------------------------------------------------------------------------------


def test_backup_shows_items_objects_and_email_and_is_disabled_while_running(
    open_page: OpenPage, server: PageServer, world: World
) -> None:
    seed_students(world, 3)
    page = open_page()
    button = page.locator("#backup-button")
    with server.holding(BACKUP_PATH) as release:
        button.click()
        expect(button).to_be_disabled()
        expect(button).to_have_text("Backing up…")
        expect(page.locator("#backup-section")).to_have_attribute("aria-busy", "true")
        expect(page.locator("#backup-status")).to_have_text("Backing up…")
        release.set()
        expect(page.locator("#backup-status")).to_have_text("Backup finished: 3 students in 3 files.")
    expect(button).to_be_enabled()
    expect(button).to_have_text("Back up now")
    expect(page.locator("#backup-items")).to_have_text("3")
    expect(page.locator("#backup-email")).to_have_text("Sent")

    keys = page.locator(".objects__key").all_inner_texts()
    assert sorted(keys) == world.object_keys()
    assert [key.split(".", 1)[1] for key in keys] == ["dynamodb.json", "csv", "manifest.json"]
    sizes = page.locator(".objects__size").all_inner_texts()
    assert all(re.fullmatch(r"\d+(\.\d)? (bytes|kB)", size) for size in sizes), sizes
    [call] = server.api_calls("POST")
    assert (call.path, call.content_type, call.body) == (BACKUP_PATH, "application/json", "{}")
    # The POST answered 202 at once; the page then followed the run until it was done.
    polls = [call for call in server.api_calls("GET") if call.path == BACKUP_PATH]
    assert polls and all(set(poll.query) == {"runId"} for poll in polls)
    assert keys[0].startswith(f"backups/backup-{polls[0].query['runId']}.")


def test_failed_backup_says_why(open_page: OpenPage, world: World) -> None:
    # The bucket refuses the upload: the run discards it and records its reason, which the page shows.
    inject_error(aws.s3(), "CreateMultipartUpload", "AccessDenied", status=403)
    page = open_page()
    page.locator("#backup-button").click()

    expect(page.locator("#backup-status")).to_have_text(
        "The backup failed. (the database or the backup bucket refused a request; no backup was written)"
    )
    expect(page.locator("#backup-status")).to_have_attribute("data-tone", "error")
    expect(page.locator("#backup-result")).to_be_hidden()
    expect(page.locator("#backup-button")).to_be_enabled()
    assert world.object_keys() == []


def test_backup_by_a_member_outside_the_admin_group_is_refused_saying_why(
    open_page: OpenPage, server: PageServer, world: World
) -> None:
    seed_students(world, 2)
    page = open_page(member=STAFF)
    page.get_by_role("button", name="Back up now").click()

    status = page.locator("#backup-status")
    expect(status).to_have_text("Only staff in the admin group may run backups. Ask an administrator.")
    expect(status).to_have_attribute("data-tone", "error")
    expect(page.get_by_role("button", name="Back up now")).to_be_enabled()
    page.get_by_label("Language").select_option("vi")
    expect(status).to_have_text("Chỉ cán bộ thuộc nhóm quản trị (admin) mới được sao lưu. Hãy liên hệ quản trị viên.")
    # The function refused it (403): the page sent the member's token, and nothing ran.
    [call] = server.api_calls("POST")
    assert (call.path, call.authorization) == (BACKUP_PATH, server.issued("IdToken")[-1])
    assert world.object_keys() == []
    assert world.run_records() == []


def test_backup_already_running_is_followed_not_raced(open_page: OpenPage, server: PageServer, world: World) -> None:
    seed_students(world, 2)
    # Another user's backup holds the lease; its run is queued, not yet delivered.
    other = server.lambda_service
    server.lambda_service = None
    started = invoke(backup_handler, api_event("POST", "/backup"))
    running = response_json(started)["runId"]
    page = open_page()
    page.locator("#backup-button").click()
    expect(page.locator("#backup-status")).to_have_text("A backup is already running; showing its progress.")
    other.deliver()
    expect(page.locator("#backup-status")).to_have_text("Backup finished: 2 students in 3 files.")
    assert {key.split(".", 1)[0] for key in world.object_keys()} == {f"backups/backup-{running}"}


# --- Language and keyboard -----------------------------------------------------------------------------


def test_vietnamese_chosen_once_stays_across_reloads(open_page: OpenPage) -> None:
    page = open_page()
    page.get_by_role("button", name="Save student").click()
    expect(page.locator("#field-name-error")).to_have_text("Please fill in this field.")

    page.get_by_label("Language").select_option("vi")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("h1")).to_have_text("Quản lý sinh viên")
    expect(page.locator("#field-name-error")).to_have_text("Vui lòng điền trường này.")
    expect(page.get_by_role("button", name="Lưu sinh viên")).to_be_visible()
    assert page.evaluate(f"localStorage.getItem('{LANGUAGE_KEY}')") == "vi"

    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("button", name="Đăng nhập")).to_be_visible()
    sign_in_as(page, ADMIN)
    wait_until_listed(page)
    expect(page).to_have_title("Quản lý sinh viên")
    expect(page.locator("#language")).to_have_value("vi")
    expect(page.locator("label[for=field-birthdate]")).to_have_text("Ngày sinh")


def test_tab_reaches_every_field_and_button_with_a_visible_focus_ring(open_page: OpenPage, world: World) -> None:
    seed_students(world, PAGE_SIZE + 1)
    page = open_page()
    wanted = [
        "language",
        "sign-out-button",
        *(f"field-{name}" for name in names.STUDENT_FIELDS),
        "save-button",
        "clear-button",
        "backup-button",
        "refresh-button",
        "lookup-id",
        "lookup-button",
        "load-more-button",
    ]
    reached: list[str] = []
    rings: dict[str, str] = {}
    # From the top of the document, its skip link (signing in left the focus on the main content).
    page.locator(".skip-link").focus()
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
              const active = document.activeElement;
              const style = getComputedStyle(active);
              return {id: active.id, visible: active.matches(":focus-visible"),
                      ring: `${style.outlineStyle} ${style.outlineWidth} ${style.boxShadow}`};
            }"""
        )
        if focused["id"] in wanted and focused["id"] not in reached:
            reached.append(focused["id"])
            assert focused["visible"], f"#{focused['id']} has focus but no :focus-visible"
            rings[focused["id"]] = focused["ring"]
    assert reached == wanted
    for element, ring in rings.items():
        style, width, _ = ring.split(" ", 2)
        assert style != "none" and float(width.removesuffix("px")) >= 2, f"#{element} shows no focus ring: {ring}"


# --- Screenshots ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "vi"])
@pytest.mark.parametrize(("layout", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)], ids=["desktop", "phone"])
def test_screenshot_with_students_and_an_inline_error(
    open_page: OpenPage, world: World, language: str, layout: str, viewport: ViewportSize
) -> None:
    seed_students(world, 6)
    page = open_page(viewport=viewport, locale="vi-VN" if language == "vi" else "en-US")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#student-rows tr")).to_have_count(6)
    fill_student(page, {**NEW_STUDENT, "studentid": "SV100", "email": "nguyen.van.a@"})
    page.locator("#save-button").click()
    expect(page.locator("#field-email-error")).to_be_visible()

    target = screenshot_dir()
    page.screenshot(path=str(target / f"page-{layout}-{language}.png"), full_page=True)
    table = page.locator(".table-scroll").bounding_box()
    assert table is not None and table["x"] + table["width"] <= viewport["width"]


@pytest.mark.parametrize("language", ["en", "vi"])
@pytest.mark.parametrize(("layout", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)], ids=["desktop", "phone"])
def test_screenshot_of_sign_in_and_the_new_password_step(
    open_page: OpenPage, language: str, layout: str, viewport: ViewportSize
) -> None:
    page = open_page(member=None, viewport=viewport, locale="vi-VN" if language == "vi" else "en-US")
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.locator("#sign-in-email").fill(ADMIN.email)
    page.locator("#sign-in-password").fill("Not-The-Password-1!")
    page.locator("#sign-in-button").click()
    expect(page.locator("#auth-status")).to_have_attribute("data-tone", "error")
    target = screenshot_dir()
    page.screenshot(path=str(target / f"sign-in-{layout}-{language}.png"), full_page=True)

    start_first_sign_in(page, STAFF)
    page.locator("#new-password").fill("Chalk-and-slate")
    page.locator("#new-password-button").click()
    expect(page.locator("#new-password-error")).to_be_visible()
    page.screenshot(path=str(target / f"new-password-{layout}-{language}.png"), full_page=True)
    box = page.locator("#auth-section").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
