"""The README and docs/ stand on their own: every link leads somewhere in the repository.

Pages move and headings change (issue 21 moved the manual from the README into docs/), and on
GitHub a broken relative link or anchor fails silently, on a reader. So every relative link and
image of README.md and docs/*.md must name a file or folder of the repository (never a path outside
it), and every ``#anchor``, in-page or ``page.md#anchor``, a heading of its page by GitHub's slug
rules; every repository path a page names in a code span (``ops/restore.py``,
``tests/x.py::test_y``) must exist too, so a move or a rename leaves no stale name behind. External
links are not fetched: the test needs no network. Users get the repository and
nothing beside it, so no page may mention ``../shared``; and the README stays a front door: at most
160 lines, starting with the two commands. Each link is a test case of its own, named by page, line
and target, so a broken one is named; the checker is first proven on a page with known breaks.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = ROOT / "README.md"
PAGES = (README, *sorted((ROOT / "docs").glob("*.md")))
README_MAX_LINES = 160
#: What the README starts with, right under its title: these two commands, in this order.
FIRST_COMMANDS = ("make up", "make test")

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)
#: ``[text](target "title")`` and ``![alt](target)``; the text may hold one level of brackets.
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^)\s]*)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)", re.MULTILINE)
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
HTML_ANCHOR = re.compile(r"<a\s[^>]*\b(?:id|name)=\"([^\"]+)\"")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
#: GitHub's anchors for a line or lines of a file that is not Markdown.
LINE_ANCHOR = re.compile(r"^L\d+(?:-L\d+)?$")


@dataclass(frozen=True)
class Link:
    """One link or image of a page: where it is, and what it points at."""

    page: Path
    line: int
    target: str

    def case_id(self, root: Path) -> str:
        return f"{self.page.relative_to(root)}:{self.line}:{self.target}"


def outside_code_blocks(text: str) -> list[str]:
    """The page's lines, those of fenced code blocks blanked out: a ``#`` there starts no heading."""
    lines, fence = [], ""
    for line in text.splitlines():
        opened = FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
            lines.append("")
        elif opened:
            fence = opened.group(1)
            lines.append("")
        else:
            lines.append(line)
    return lines


def prose(text: str) -> str:
    """The page with code blocks and code spans blanked out (line numbers kept): links in code are text."""
    return CODE_SPAN.sub(lambda span: "\n" * span.group(0).count("\n"), "\n".join(outside_code_blocks(text)))


def links(page: Path) -> Iterator[Link]:
    """Every inline link, image and reference definition of ``page``, in order."""
    text = prose(page.read_text(encoding="utf-8"))
    found = [*INLINE_LINK.finditer(text), *REFERENCE_DEFINITION.finditer(text)]
    for match in sorted(found, key=lambda m: m.start()):
        target = match.group(1).removeprefix("<").removesuffix(">")
        yield Link(page=page, line=text.count("\n", 0, match.start()) + 1, target=target)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text, lower case, spaces to '-', punctuation but '-' and '_' dropped."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text, not its target
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives ``page``: one per heading (a repeated one gets -1, -2, ...), and HTML ids."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in outside_code_blocks(page.read_text(encoding="utf-8")):
        found.update(HTML_ANCHOR.findall(line))
        heading = HEADING.match(line)
        if heading:
            base = slug(heading.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def problem(link: Link, root: Path) -> str | None:
    """Why ``link`` does not resolve inside ``root``, or None when it does (external links are not fetched)."""
    if SCHEME.match(link.target) or link.target.startswith("//"):
        return None
    path_part, _, anchor = link.target.partition("#")
    if not path_part and not anchor:
        return "empty link target"
    target = (link.page.parent / urllib.parse.unquote(path_part)).resolve() if path_part else link.page
    if not target.is_relative_to(root.resolve()):
        return f"{path_part} lies outside the repository"
    if not target.exists():
        return f"{path_part} does not exist"
    if not anchor:
        return None
    if target.suffix.lower() == ".md":
        if target.is_file() and urllib.parse.unquote(anchor) in anchors(target):
            return None
        return f"{target.relative_to(root.resolve())} has no heading with the anchor #{anchor}"
    if target.is_file() and LINE_ANCHOR.match(anchor):
        return None
    return f"#{anchor} is not an anchor of {target.name}"


def all_links() -> list[Link]:
    return [link for page in PAGES for link in links(page)]


LINKS = all_links()


@pytest.mark.parametrize("link", LINKS, ids=[link.case_id(ROOT) for link in LINKS])
def test_link_resolves_in_the_repository(link: Link) -> None:
    assert problem(link, ROOT) is None, f"{link.case_id(ROOT)}: {problem(link, ROOT)}"


def test_readme_links_every_docs_page() -> None:
    linked = {
        (README.parent / link.target.partition("#")[0]).resolve()
        for link in links(README)
        if not SCHEME.match(link.target)
    }
    missing = [page.name for page in PAGES[1:] if page.resolve() not in linked]
    assert not missing, f"README.md links no docs page {missing}"


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_no_page_points_outside_the_repository(page: Path) -> None:
    assert "../shared" not in page.read_text(encoding="utf-8"), f"{page.name} mentions ../shared"


def test_readme_is_a_front_door_starting_with_the_two_commands() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines, at most {README_MAX_LINES}"
    opening = [line for line in lines[: lines.index("```sh") + 1 + len(FIRST_COMMANDS) + 1] if line.strip()]
    assert opening[0].startswith("# "), "README.md starts with its title"
    commands = tuple(line.split("#", 1)[0].strip() for line in opening[2:-1])
    assert opening[1:] == ["```sh", *opening[2:-1], "```"] and commands == FIRST_COMMANDS, (
        f"under its title, README.md starts with a block of exactly {FIRST_COMMANDS}: {opening[1:]}"
    )


def test_slugs_follow_githubs_rules() -> None:
    assert slug("Removing a deployment (`make destroy`)") == "removing-a-deployment-make-destroy"
    assert slug("The API's authorizer") == "the-apis-authorizer"
    assert slug("Signing in, in the page") == "signing-in-in-the-page"
    assert slug("2.1–2.3 snake_case and [a link](x.md)") == "2123-snake_case-and-a-link"
    assert slug("Tiếng Việt") == "tiếng-việt"


def test_the_checker_names_each_broken_link_and_passes_good_ones(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "A.md").write_text("# A\n\n## Same\n\n## Same\n\n## Used `here`, too\n", encoding="utf-8")
    (tmp_path / "code.py").write_text("x = 1\n", encoding="utf-8")
    page = tmp_path / "README.md"
    page.write_text(
        "# Title\n\n## Local heading\n\n"
        "[good](docs/A.md) [good](docs/A.md#same-1) [good](docs/A.md#used-here-too) [good](#local-heading)\n"
        "![image](code.py) [good](code.py#L3-L4) [good](docs/) [external](https://example.org/nowhere)\n"
        "[no file](docs/B.md) [no anchor](docs/A.md#same-2) [no local anchor](#nowhere)\n"
        "[outside](../shared/STYLE.md) [anchor in code](code.py#x) [empty]()\n"
        "`[in a code span](missing.md)`\n\n```\n[in a block](missing.md)\n```\n",
        encoding="utf-8",
    )
    broken = {link.target: problem(link, tmp_path) for link in links(page) if problem(link, tmp_path)}
    assert sorted(broken) == sorted(
        ["docs/B.md", "docs/A.md#same-2", "#nowhere", "../shared/STYLE.md", "code.py#x", ""]
    ), broken
    assert broken["../shared/STYLE.md"] == "../shared/STYLE.md lies outside the repository"
    assert broken["docs/A.md#same-2"] == "docs/A.md has no heading with the anchor #same-2"


#: Where a path named in a code span starts, when it names something of this repository.
REPOSITORY_PATH = re.compile(
    r"^(?:config|engines?|modules|lambdas|frontend|local|ops|pipeline|bench|tests|docs|security|\.github)/[\w./-]*"
    r"(?:::\w+)?$|^(?:main\.py|cdktf\.json|config\.toml|Makefile)$"
)


@dataclass(frozen=True)
class NamedPath:
    """A repository path (or ``file.py::test_name``) a page names in a code span: the text a reader follows."""

    page: Path
    line: int
    text: str

    def problem(self, root: Path) -> str | None:
        path, _, test = self.text.partition("::")
        if not (root / path).exists():
            return f"{path} does not exist"
        if test and not re.search(rf"^(?:async )?def {re.escape(test)}\(", (root / path).read_text(), re.MULTILINE):
            return f"{path} has no test {test}"
        return None


def named_paths(page: Path) -> Iterator[NamedPath]:
    """Each code span of ``page`` (outside code blocks) that is a path of the repository, or a test in one."""
    for number, line in enumerate(outside_code_blocks(page.read_text(encoding="utf-8")), 1):
        for span in re.findall(r"`([^`\s]+)`", line):
            text = span.rstrip(".,;:")
            if REPOSITORY_PATH.match(text) and not any(mark in text for mark in "<*{$"):
                yield NamedPath(page, number, text)


NAMED_PATHS = [named for page in PAGES for named in named_paths(page)]


def test_pages_name_paths() -> None:
    """The check below has something to check: the pages name the code they describe."""
    assert len(NAMED_PATHS) > 100, len(NAMED_PATHS)


@pytest.mark.parametrize(
    "named", NAMED_PATHS, ids=[f"{n.page.relative_to(ROOT)}:{n.line}:{n.text}" for n in NAMED_PATHS]
)
def test_every_path_a_page_names_exists(named: NamedPath) -> None:
    """A file that moved or a test that was renamed leaves no stale name behind in the docs."""
    assert named.problem(ROOT) is None, f"{named.page.name}:{named.line}: {named.problem(ROOT)}"


def test_a_stale_path_or_test_is_named(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_here() -> None:\n    pass\n", encoding="utf-8")
    page = tmp_path / "A.md"
    page.write_text(
        "`tests/test_a.py::test_here` `tests/test_a.py::test_gone` `ops/gone.py` `not/a/repo/path`.\n",
        encoding="utf-8",
    )
    problems = [named.problem(tmp_path) for named in named_paths(page)]
    assert problems == [None, "tests/test_a.py has no test test_gone", "ops/gone.py does not exist"]
