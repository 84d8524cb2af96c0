"""The layout's rules (issue 21): small files, short functions, entry points run as modules, tests that mirror the code.

A file over ``MAX_FILE_LINES`` or a function over ``MAX_FUNCTION_LINES`` outside ``tests/`` says why in a one-line
comment at its top that starts with ``size:`` (``# size: ...``, ``/* size: ... */``, ``<!-- size: ... -->``); only
data tables qualify. ``LONG`` in the closing note lists each. The rules read the files git tracks, so a new file is
held to them as soon as it is added.
"""

from __future__ import annotations

import ast
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

from tests.conftest import ROOT

MAX_FILE_LINES: Final = 500
MAX_FUNCTION_LINES: Final = 60
#: What the rules read: the project's own source and documentation, not lock files, snapshots or data.
SOURCE_SUFFIXES: Final = frozenset({".py", ".js", ".css", ".html", ".sh", ".md", ".toml"})
GENERATED: Final = ("requirements", "package-lock.json", "__snapshots__")
#: What may put a folder on Python's path: the Lambda runtime's bootstrap, which imports the function's deployed
#: zip as AWS's bootstrap does, and the benchmark's probe that plays that bootstrap (under ``python -I``).
PATH_INSERT_ALLOWED: Final = {
    "local/edge/awslambda/runtime.py": "the local Lambda runtime's bootstrap",
    "bench/functions.py": "its cold-start probe plays the runtime's bootstrap, isolated (-I) from PYTHONPATH",
}
#: Test folders that are not a code folder: the whole system used as a user would.
TEST_ONLY_FOLDERS: Final = frozenset({"system"})
SIZE_COMMENT: Final = re.compile(r"^\s*(#|//|/\*|<!--)\s*size:\s*\S")
#: A named function of a script: a declaration, or an arrow function bound to a const whose body opens on that line.
JS_FUNCTION: Final = re.compile(
    r"^\s*(export\s+)?(async\s+)?function\*?\s+(\w+)\s*\(|^\s*(export\s+)?const\s+(\w+)\s*=.*=>\s*\{\s*$"
)


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [name for name in listed.splitlines() if (ROOT / name).is_file()]


def source_files() -> list[str]:
    """The project's own source and docs outside ``tests/``."""
    return [
        name
        for name in tracked_files()
        if not name.startswith("tests/")
        and (Path(name).suffix in SOURCE_SUFFIXES or Path(name).name == "Makefile")
        and not any(part in name for part in GENERATED)
    ]


def says_why(lines: list[str], index: int) -> bool:
    """A ``size:`` comment on the line at ``index`` or the one above it (a shebang or a def may come first)."""
    return any(SIZE_COMMENT.match(lines[i]) for i in (index - 1, index, index + 1) if 0 <= i < len(lines))


def python_functions(text: str) -> Iterator[tuple[str, int, int]]:
    """Each function's name, first line (its first decorator's) and length in lines."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            yield node.name, first, (node.end_lineno or node.lineno) - first + 1


def js_functions(text: str) -> Iterator[tuple[str, int, int]]:
    """Each named function of a script (declarations and arrow functions bound to a const) and its length.

    The end is where the braces opened on the first line close again; braces inside strings and template literals
    are rare enough in this code that a miscount shows as an absurd length, which fails loudly rather than silently.
    """
    lines = text.splitlines()
    for start, line in enumerate(lines):
        found = JS_FUNCTION.match(line)
        if not found:
            continue
        depth, end = 0, start
        for end in range(start, len(lines)):
            depth += lines[end].count("{") - lines[end].count("}")
            if depth <= 0 and "{" in "".join(lines[start : end + 1]):
                break
        yield found.group(3) or found.group(5), start + 1, end - start + 1


def long_functions(name: str, text: str) -> Iterator[str]:
    finder = {".py": python_functions, ".js": js_functions}.get(Path(name).suffix)
    if finder is None:
        return
    lines = text.splitlines()
    for function, first, length in finder(text):
        if length > MAX_FUNCTION_LINES and not says_why(lines, first - 1) and not says_why(lines, first):
            yield f"{name}:{first} {function}: {length} lines"


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    return {name: (ROOT / name).read_text(encoding="utf-8", errors="replace") for name in source_files()}


def test_no_file_is_longer_than_the_limit_unless_it_says_why(sources: dict[str, str]) -> None:
    too_long = [
        f"{name}: {len(lines)} lines"
        for name, text in sources.items()
        if len(lines := text.splitlines()) > MAX_FILE_LINES and not says_why(lines, 0) and not says_why(lines, 1)
    ]
    assert not too_long, f"files over {MAX_FILE_LINES} lines: split them, or say why at the top (size: ...)" + "".join(
        f"\n  {line}" for line in too_long
    )


def test_no_function_is_longer_than_the_limit_unless_it_says_why(sources: dict[str, str]) -> None:
    too_long = [line for name, text in sources.items() for line in long_functions(name, text)]
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines: split them into named steps" + "".join(
        f"\n  {line}" for line in too_long
    )


def test_the_rules_catch_what_they_name() -> None:
    """The finders see a long Python function, a long script function, and accept one that says why."""
    body = "\n".join(f"    x = {i}" for i in range(MAX_FUNCTION_LINES))
    assert list(long_functions("a.py", f"def f():\n{body}\n"))
    assert not list(long_functions("a.py", f"# size: a table\ndef f():\n{body}\n"))
    script = "function f() {\n" + "\n".join(f"  x({i});" for i in range(MAX_FUNCTION_LINES)) + "\n}\n"
    assert [line.split()[1] for line in long_functions("a.js", script)] == ["f:"]
    arrow = script.replace("function f() {", "export const f = async (a) => {")
    assert list(long_functions("a.js", arrow))


def test_nothing_puts_itself_on_the_path_but_the_lambda_bootstrap(sources: dict[str, str]) -> None:
    """Entry points are modules run with ``python -m`` from the project's root; none edits ``sys.path``."""
    offenders = [
        name
        for name, text in sources.items()
        if name not in PATH_INSERT_ALLOWED and Path(name).suffix in {".py", ".sh"} and "sys.path.insert" in text
    ]
    assert not offenders, offenders


def test_tests_mirror_the_layout() -> None:
    """Each folder of ``tests/`` is named for the code folder it tests (or the whole system's)."""
    folders = {path.name for path in (ROOT / "tests").iterdir() if path.is_dir() and (path / "__init__.py").exists()}
    code = {path.name for path in ROOT.iterdir() if path.is_dir() and not path.name.startswith(".")}
    assert folders, "no test folders found"
    assert folders <= code | TEST_ONLY_FOLDERS, sorted(folders - code - TEST_ONLY_FOLDERS)
