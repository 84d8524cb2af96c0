"""Tutorial section 5: the page's ES modules, their imports read, checked and put in publishing order.

The page's script is a set of ES modules; each names the modules it needs in
its static ``import ... from "./x.js"`` (or ``export ... from``) statements,
and the browser fetches them by those names. ``modules/site/assets.py``
publishes every asset under a name with its content's hash, so it must publish
a module only after the modules it imports, with each import rewritten to the
name its target is published under (``ModuleGraph.order``,
``ModuleGraph.rewritten``). The rewritten import is part of the importer's
content, so a changed module changes the name of every module that imports
it, transitively, up to the page.

Only static imports of the site's own modules, by relative path, can be
published that way: a dynamic ``import()``, a bare (``"lit"``) or absolute
specifier, a URL, an import of a file that is not a module of the site, and a
cycle (no module of a cycle can be named before the others) are refused, each
with an error that names the file.

The imports are found by ``_Scanner``: just enough JavaScript to know where
comments, strings, template literals and regular expressions begin and end, so
that the word ``import`` in a comment or a message is never read as a
statement. Standard library only.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, NoReturn

MODULE_SUFFIX: Final = ".js"
_WORD: Final = re.compile(r"[\w$]+")
#: After these words a ``/`` starts a regular expression (``return /x/.test(s)``), not a division.
_REGEX_AFTER_WORDS: Final = frozenset(
    {"return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else"}
    | {"yield", "await"}
)
#: After these a ``/`` is a division: they end a value (``(a + b) / 2``).
_VALUE_ENDS: Final = frozenset({")", "]", "}"})

TokenKind = Literal["word", "string", "template", "regex", "punct"]


class ModuleGraphError(ValueError):
    """A module's imports cannot be published: ``name`` is the module's, ``reason`` says why."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


@dataclass(frozen=True)
class Token:
    """One token of a module's text: comments are never tokens."""

    kind: TokenKind
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Import:
    """One static import (or ``export ... from``) of a module."""

    target: str  #: the imported module's name in the site (``js/page.js``)
    start: int  #: where the specifier's string literal, quotes included, starts in the importer's text
    end: int  #: and where it ends


class _Scanner:
    """A module's text as tokens: words, strings, template literals, regular expressions, punctuators."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        self.pos = 0
        self.tokens: list[Token] = []
        #: Open braces: "{" for a block or an object, "${" for a template literal's placeholder.
        self.braces: list[str] = []

    def scan(self) -> list[Token]:
        text = self.text
        while self._skip_blanks_and_comments():
            char = text[self.pos]
            if char in "'\"":
                self._quoted("string", char, start=self.pos)
            elif char == "`" or (char == "}" and self.braces[-1:] == ["${"]):
                self._template()
            elif char == "/" and self._regex_may_start():
                self._quoted("regex", "/", start=self.pos)
            elif word := _WORD.match(text, self.pos):
                self._add("word", self.pos, word.end())
            else:
                if char == "{":
                    self.braces.append("{")
                elif char == "}" and self.braces:
                    self.braces.pop()
                self._add("punct", self.pos, self.pos + 1)
        return self.tokens

    def _fail(self, what: str, at: int) -> NoReturn:
        raise ModuleGraphError(self.name, f"cannot be read as a module: {what} on line {_line(self.text, at)}")

    def _add(self, kind: TokenKind, start: int, end: int) -> None:
        self.tokens.append(Token(kind, self.text[start:end], start, end))
        self.pos = end

    def _skip_blanks_and_comments(self) -> bool:
        """Moves past white space and comments; False at the end of the text."""
        text = self.text
        while self.pos < len(text):
            if text[self.pos].isspace():
                self.pos += 1
            elif text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    self._fail("an unterminated comment", self.pos)
                self.pos = end + 2
            else:
                return True
        return False

    def _regex_may_start(self) -> bool:
        """Whether a ``/`` here starts a regular expression: the usual rule, by the token before it.

        After a value (a name, a number, a string, a closing bracket) it divides;
        after an operator, an opening bracket or a keyword such as ``return`` it
        starts a regular expression.
        """
        last = self.tokens[-1] if self.tokens else None
        if last is None:
            return True
        if last.kind == "word":
            return last.text in _REGEX_AFTER_WORDS
        if last.kind == "punct":
            return last.text not in _VALUE_ENDS
        return last.kind == "template" and last.text.endswith("${")

    def _quoted(self, kind: TokenKind, quote: str, *, start: int) -> None:
        """A string (up to its closing quote) or a regular expression (its closing slash, then flags)."""
        text, at, in_class = self.text, start + 1, False
        while at < len(text) and text[at] != "\n":
            char = text[at]
            if char == "\\":
                at += 2
                continue
            # Within a regular expression's character class a slash does not end it.
            in_class = kind == "regex" and (char == "[" or (in_class and char != "]"))
            if char == quote and not in_class:
                end = at + 1
                while kind == "regex" and end < len(text) and text[end].isalpha():
                    end += 1  # the flags
                self._add(kind, start, end)
                return
            at += 1
        self._fail(f"an unterminated {'string' if kind == 'string' else 'regular expression'}", start)

    def _template(self) -> None:
        """A template literal's text, from its backtick or a placeholder's closing brace to the next of either."""
        text, start = self.text, self.pos
        if text[start] == "}":
            self.braces.pop()
        at = start + 1
        while at < len(text):
            if text[at] == "\\":
                at += 2
            elif text[at] == "`":
                self._add("template", start, at + 1)
                return
            elif text.startswith("${", at):
                self.braces.append("${")
                self._add("template", start, at + 2)
                return
            else:
                at += 1
        self._fail("an unterminated template literal", start)


def _from_clause(tokens: list[Token], at: int) -> Token | None:
    """The specifier after an import's or re-export's clause (``x``, ``{ a, b as c }``, ``* as ns``) and ``from``."""
    depth = 0
    for index in range(at, len(tokens)):
        token = tokens[index]
        if token.kind == "punct" and token.text in ("{", "}"):
            depth += 1 if token.text == "{" else -1
        elif depth > 0:
            continue
        elif token.kind == "word" and token.text == "from":
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            return following if following is not None and following.kind == "string" else None
        elif token.text in ("import", "export") or not (token.kind == "word" or token.text in ("*", ",")):
            return None
    return None


def _line(text: str, at: int) -> int:
    return text.count("\n", 0, at) + 1


def _specifiers(name: str, text: str, tokens: list[Token]) -> list[Token]:
    """The string literal of each static import and ``export ... from`` of a module; a dynamic import is refused."""
    found: list[Token] = []
    for index, token in enumerate(tokens):
        if token.kind != "word" or token.text not in ("import", "export"):
            continue
        if index > 0 and tokens[index - 1].text == ".":
            continue  # a property of that name (``x.import``), not a statement
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if following is None or following.text in (".", ":"):
            continue  # ``import.meta``, or an object's key
        if token.text == "import" and following.text == "(":
            raise ModuleGraphError(
                name,
                f"a dynamic import() on line {_line(text, token.start)}: "
                "its module would keep its unfingerprinted name, so it cannot be published",
            )
        if token.text == "import" and following.kind == "string":
            found.append(following)
            continue
        if token.text == "export" and following.text not in ("*", "{"):
            continue  # ``export const``, ``export function``, ``export default``: it declares, it loads nothing
        specifier = _from_clause(tokens, index + 1)
        if specifier is not None:
            found.append(specifier)
        elif token.text == "import":
            raise ModuleGraphError(name, f"an import on line {_line(text, token.start)} that this build cannot read")
    return found


def _target(name: str, specifier: str, modules: Mapping[str, str]) -> str:
    """The site's module a specifier names, relative to the importer ``name``; anything else is refused."""
    if not specifier.startswith(("./", "../")):
        raise ModuleGraphError(
            name,
            f'import "{specifier}" is not a relative path ("./" or "../"): '
            "only the site's own modules may be imported, by relative path",
        )
    target = posixpath.normpath(posixpath.join(posixpath.dirname(name), specifier))
    if target not in modules:
        raise ModuleGraphError(name, f'import "{specifier}" names no module of the site')
    return target


def _leaves_first(imports: Mapping[str, tuple[Import, ...]]) -> tuple[str, ...]:
    """Every module after the modules it imports; a cycle is refused, naming the module that closes it."""
    order: list[str] = []
    placed: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in placed:
            return
        if name in path:
            cycle = " -> ".join((*path[path.index(name) :], name))
            raise ModuleGraphError(
                path[-1], f"its imports form a cycle ({cycle}): no module of a cycle can be named by content first"
            )
        for item in imports[name]:
            visit(item.target, (*path, name))
        placed.add(name)
        order.append(name)

    for name in sorted(imports):
        visit(name, ())
    return tuple(order)


@dataclass(frozen=True)
class ModuleGraph:
    """The site's modules (name → text), what each imports, and the order to publish them in."""

    texts: Mapping[str, str]
    imports: Mapping[str, tuple[Import, ...]]
    #: Each module's strings, template literals and regular expressions, its import specifiers excepted:
    #: all the text by which a module could name another file.
    literals: Mapping[str, tuple[str, ...]]
    #: Leaves first: every module after the modules it imports.
    order: tuple[str, ...]

    @classmethod
    def read(cls, modules: Mapping[str, str]) -> ModuleGraph:
        """Scans every module (name → text) for its imports; each must name a module of the site, and none a cycle."""
        imports: dict[str, tuple[Import, ...]] = {}
        literals: dict[str, tuple[str, ...]] = {}
        for name, text in modules.items():
            tokens = _Scanner(name, text).scan()
            specifiers = _specifiers(name, text, tokens)
            imports[name] = tuple(
                Import(target=_target(name, token.text[1:-1], modules), start=token.start, end=token.end)
                for token in specifiers
            )
            literals[name] = tuple(
                token.text
                for token in tokens
                if token.kind in ("string", "template", "regex") and token not in specifiers
            )
        return cls(texts=dict(modules), imports=imports, literals=literals, order=_leaves_first(imports))

    def rewritten(self, name: str, renamed: Mapping[str, str]) -> str:
        """Module ``name``'s text with each import pointing at ``renamed[target]``, relative to ``name``."""
        text = self.texts[name]
        folder = posixpath.dirname(name) or "."
        for item in sorted(self.imports[name], key=lambda found: found.start, reverse=True):
            path = posixpath.relpath(renamed[item.target], folder)
            specifier = path if path.startswith("../") else f"./{path}"
            quote = text[item.start]
            text = f"{text[: item.start]}{quote}{specifier}{quote}{text[item.end :]}"
        return text
