"""Tutorial section 5: the page, in a real browser, against the real functions.

Debian's Chromium, driven by Playwright, loads the page exactly as it is
published: built by ``modules.site_assets.build_site`` (fingerprinted assets,
the generated ``config.json``) and served with its content types, cache
policies and the security headers of ``modules.site_headers``, Content-Security-
Policy included. Its API calls, on the same origin, reach the three functions'
handlers in-process under an emulated account (``tests/page_server.py``).

Every page a test opens is watched: a console error, an uncaught exception, a
CSP violation, an asset that fails to load, or (at phone width) a page wider
than the screen fails the test. Screenshots of both layouts in both languages
are written to ``$PAGE_SCREENSHOT_DIR`` (default ``.build/screenshots/``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Final

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from lambdas.backup import handler as backup_handler
from lambdas.common import aws, names
from modules.site_assets import FRONTEND_DIR, IMMUTABLE, REVALIDATE, SiteObject, build_site, runtime_config
from modules.site_headers import CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from tests.browser import DESKTOP, PHONE, WatchedPages, chromium, screenshot_dir, wait_until_listed, watched_pages
from tests.lambdas.scenarios import (
    AsyncInvocations,
    World,
    api_event,
    aws_world,
    inject_error,
    invoke,
    response_json,
)
from tests.page_server import RETRY_AFTER_SECONDS, PageServer

pytestmark = pytest.mark.browser

LANGUAGE_KEY: Final = "studentManagement.language"
CONFIG: Final = runtime_config()
STUDENTS_PATH: Final = CONFIG["api"]["students"]
BACKUP_PATH: Final = CONFIG["api"]["backup"]
PAGE_SIZE: Final = CONFIG["pageSize"]
API_PATHS: Final = frozenset(CONFIG["api"].values())
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
    """An emulated account with the system's resources, its functions allowing the server's origin."""
    with aws_world({names.ENV_ALLOWED_ORIGIN: server.origin}) as emulated:
        server.reset()
        server.lambda_service = AsyncInvocations(aws.lambda_())
        yield emulated
        server.reset()


OpenPage = Callable[..., Page]


@pytest.fixture
def open_page(browser: Browser, server: PageServer, world: World) -> Iterator[OpenPage]:
    """Opens the page in a fresh browser context, waits until its list is loaded, and watches it."""
    with watched_pages(browser, api_paths=API_PATHS) as pages:

        def open_(*, viewport: ViewportSize = DESKTOP, locale: str = "en-US") -> Page:
            page = pages.open(f"{server.origin}/", viewport=viewport, locale=locale)
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


def test_page_sources_carry_no_host_key_or_inline_code() -> None:
    sources = {path.name: path.read_text(encoding="utf-8") for path in FRONTEND_DIR.iterdir() if path.is_file()}
    for name in ("index.html", "styles.css", "scripts.js"):
        text = sources[name]
        for forbidden in ("http://", "https://", "x-api-key", "execute-api", "innerHTML", "eval(", "alert("):
            assert forbidden not in text, f"{name} contains {forbidden!r}"
    html = sources["index.html"]
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline <script> would be blocked by the CSP"
    assert "<style" not in html and " style=" not in html, "inline style would be blocked by the CSP"
    assert ".style." not in sources["scripts.js"], "styles are set through classes, never from script"


def test_page_is_served_as_published_with_its_security_headers(open_page: OpenPage, server: PageServer) -> None:
    page = open_page()
    answer = page.request.get(f"{server.origin}/")
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    for header, value in SECURITY_HEADERS.items():
        assert answer.headers[header.lower()] == value
    assert answer.headers["cache-control"] == REVALIDATE
    stylesheet = page.locator("link[rel=stylesheet]").get_attribute("href") or ""
    assert re.fullmatch(r"/styles\.[0-9a-f]{12}\.css", stylesheet)
    assert page.request.get(f"{server.origin}{stylesheet}").headers["cache-control"] == IMMUTABLE
    assert [call.path for call in server.api_calls()] == [STUDENTS_PATH]
    assert server.api_calls()[0].query == {"limit": str(PAGE_SIZE)}


def test_page_watch_catches_a_csp_violation(browser: Browser, server: PageServer, world: World) -> None:
    # The watch must see what it guards against: here an inline style attribute, which the CSP
    # blocks. (``world`` answers the list request the page makes on load.)
    pages = WatchedPages(browser, API_PATHS)
    page = pages.open(f"{server.origin}/")
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    for _ in range(100):
        if any("CSP violation: style-src" in problem for problem in pages.problems()):
            break
        page.wait_for_timeout(20)
    problems = pages.problems()
    page.context.close()
    assert any("CSP violation: style-src" in problem for problem in problems), problems


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
    wait_until_listed(page)
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page).to_have_title("Quản lý sinh viên")
    expect(page.locator("#language")).to_have_value("vi")
    expect(page.locator("label[for=field-birthdate]")).to_have_text("Ngày sinh")


def test_tab_reaches_every_field_and_button_with_a_visible_focus_ring(open_page: OpenPage, world: World) -> None:
    seed_students(world, PAGE_SIZE + 1)
    page = open_page()
    wanted = [
        "language",
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
    page.locator("body").focus()
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
