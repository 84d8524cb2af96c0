"""What a valid student is: the gateway's schema, interpreted here, and what no schema can say.

``parse_student`` either returns a normalised ``Student`` or raises
``InvalidStudentError`` carrying one reason per offending field, so the page can
show every problem at once.

The rules are the JSON Schema of ``student_schema.py``, the one API Gateway
validates ``POST /students`` bodies with; ``schema_errors`` interprets exactly
the keywords it uses (a schema that uses another fails this module's import,
so no rule is ever skipped). A body the schema refuses is refused here too,
whichever way it arrived. After the schema, and only on values it admits,
come the checks a schema cannot make (``EXTRA_CHECKS``):

- ``name``: every character outside ASCII is a letter or a combining mark
  (Unicode categories L and M; the schema's ASCII classes cannot name them), and
  at least one character is a letter;
- ``birthdate``: a real calendar date, from ``EARLIEST_BIRTHDATE`` to today.

Values are stored composed (NFC); a value that NFC changes must pass the rules
in both forms.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from lambdas.common import names
from lambdas.common.http import echo
from lambdas.common.student_schema import CLASS_MAX, EMAIL_MAX, NAME_MAX, STUDENT_ID_MAX, student_schema

EARLIEST_BIRTHDATE: Final = date(1900, 1, 1)
# Unknown field names are echoed back (each shortened by ``echo``); a hostile body
# must not make the reply huge.
_UNKNOWN_FIELDS_SHOWN: Final = 10
# Why a value that breaks its field's rule is refused, in the words the page shows.
_NAME_LETTERS: Final = "may contain only letters, spaces, apostrophes, periods and hyphens"
_SCHEMA_REASONS: Final = {
    "studentid": f"must be 1 to {STUDENT_ID_MAX} letters, digits, '_' or '-'",
    "name": _NAME_LETTERS,
    "class": f"must be 1 to {CLASS_MAX} letters, digits, spaces, '_' or '-'",
    "birthdate": "must be a date written YYYY-MM-DD",
    "email": f"must be an e-mail address of at most {EMAIL_MAX} characters",
}
_LENGTH_REASONS: Final = {"name": f"must be 1 to {NAME_MAX} characters"}
_SURROUNDING_SPACE: Final = "must not begin or end with a space"


@dataclass(frozen=True)
class Student:
    """A validated student. ``class_`` is the ``class`` attribute (a Python keyword)."""

    studentid: str
    name: str
    class_: str
    birthdate: str
    email: str

    def as_dict(self) -> dict[str, str]:
        """The student as stored and returned, keyed by ``names.STUDENT_FIELDS``."""
        values = (self.studentid, self.name, self.class_, self.birthdate, self.email)
        return dict(zip(names.STUDENT_FIELDS, values, strict=True))


class InvalidStudentError(ValueError):
    """The request describes no valid student; ``errors`` maps each bad field to a reason."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("invalid student")
        self.errors = dict(errors)


# --- The schema, interpreted -------------------------------------------------------------

_OBJECT_KEYWORDS: Final = frozenset({"$schema", "title", "type", "additionalProperties", "required", "properties"})
_STRING_KEYWORDS: Final = frozenset({"type", "minLength", "maxLength", "pattern"})


class SchemaNotUnderstoodError(RuntimeError):
    """The schema uses something this interpreter does not apply: refusing to run beats skipping a rule."""


@dataclass(frozen=True)
class StringRule:
    """One property's rule: a string of ``min_length`` to ``max_length`` code points matching ``pattern``."""

    min_length: int
    max_length: int | None
    pattern: re.Pattern[str] | None

    @classmethod
    def of(cls, field: str, rule: Mapping[str, Any]) -> StringRule:
        unknown = sorted(set(rule) - _STRING_KEYWORDS)
        if rule.get("type") != "string" or unknown:
            raise SchemaNotUnderstoodError(f"property {field!r}: only strings with {sorted(_STRING_KEYWORDS)}")
        pattern = rule.get("pattern")
        return cls(rule.get("minLength", 0), rule.get("maxLength"), re.compile(pattern) if pattern else None)

    def broken_keyword(self, value: str) -> str | None:
        """The first keyword ``value`` breaks, or None. Lengths count code points, as JSON Schema does."""
        if len(value) < self.min_length:
            return "minLength"
        if self.max_length is not None and len(value) > self.max_length:
            return "maxLength"
        # JSON Schema's pattern is found anywhere in the value: search, never fullmatch.
        if self.pattern is not None and self.pattern.search(value) is None:
            return "pattern"
        return None

    def admits(self, value: str) -> bool:
        return self.broken_keyword(value) is None


def string_rules(schema: Mapping[str, Any]) -> dict[str, StringRule]:
    """Each field's rule in ``schema``; ``SchemaNotUnderstoodError`` for anything but the subset applied here."""
    unknown = sorted(set(schema) - _OBJECT_KEYWORDS)
    if schema.get("type") != "object" or schema.get("additionalProperties") is not False or unknown:
        raise SchemaNotUnderstoodError("the schema must be a closed object (additionalProperties false)")
    properties: Mapping[str, Any] = schema["properties"]
    if list(properties) != list(names.STUDENT_FIELDS) or schema.get("required") != list(names.STUDENT_FIELDS):
        raise SchemaNotUnderstoodError(f"the schema must require exactly {names.STUDENT_FIELDS}, in that order")
    return {field: StringRule.of(field, rule) for field, rule in properties.items()}


RULES: Final = string_rules(student_schema())


def schema_errors(payload: object) -> dict[str, str]:
    """The schema's verdict on a decoded body, as the gateway reaches it: a reason per field that breaks it."""
    if not isinstance(payload, dict):
        return {"body": "must be a JSON object"}
    errors: dict[str, str] = {}
    unknown = sorted(set(payload) - set(RULES))
    for field in unknown[:_UNKNOWN_FIELDS_SHOWN]:
        errors[echo(field)] = "unknown field"
    if len(unknown) > _UNKNOWN_FIELDS_SHOWN:
        errors["body"] = f"has {len(unknown)} unknown fields"
    for field, rule in RULES.items():
        if field not in payload:
            errors[field] = "is required"
        elif not isinstance(payload[field], str):
            errors[field] = "must be a string"
        elif (keyword := rule.broken_keyword(payload[field])) is not None:
            errors[field] = _schema_reason(field, keyword, payload[field])
    return errors


def _schema_reason(field: str, keyword: str, value: str) -> str:
    if keyword == "pattern" and RULES[field].admits(value.strip()):
        # The old rules trimmed such values; say what to change rather than trim silently.
        return _SURROUNDING_SPACE
    if keyword in ("minLength", "maxLength") and field in _LENGTH_REASONS:
        return _LENGTH_REASONS[field]
    return _SCHEMA_REASONS[field]


# --- What a schema cannot say ----------------------------------------------------------------


def _name_problem(value: str, _: date) -> str | None:
    if not all(character.isascii() or unicodedata.category(character)[0] in "LM" for character in value):
        return _NAME_LETTERS
    if not any(unicodedata.category(character).startswith("L") for character in value):
        return "must contain a letter"
    return None


def _birthdate_problem(value: str, today: date) -> str | None:
    try:
        born = date.fromisoformat(value)
    except ValueError:
        return "is not a calendar date"
    if born < EARLIEST_BIRTHDATE:
        return f"must not be before {EARLIEST_BIRTHDATE.isoformat()}"
    if born > today:
        return "must not be in the future"
    return None


#: The checks of values the schema admits, by field (see the module's docstring for why each).
EXTRA_CHECKS: Final[Mapping[str, Callable[[str, date], str | None]]] = {
    "name": _name_problem,
    "birthdate": _birthdate_problem,
}


def field_problem(field: str, value: str, *, today: date) -> str | None:
    """Why the string ``value`` is no valid ``field``, or None: the schema's rule, then the extra check."""
    if (keyword := RULES[field].broken_keyword(value)) is not None:
        return _schema_reason(field, keyword, value)
    extra = EXTRA_CHECKS.get(field)
    return extra(value, today) if extra else None


# --- Students ----------------------------------------------------------------------------------------


def parse_student(payload: object, *, today: date) -> Student:
    """Validate a decoded JSON request body; ``today`` bounds the birthdate."""
    errors = schema_errors(payload)
    if not isinstance(payload, dict):
        raise InvalidStudentError(errors)
    values: dict[str, str] = {}
    for field in names.STUDENT_FIELDS:
        if field in errors:
            continue
        value = payload[field]
        composed = unicodedata.normalize("NFC", value)
        reason = field_problem(field, value, today=today)
        if reason is None and composed != value:
            reason = field_problem(field, composed, today=today)
        if reason is None:
            values[field] = composed
        else:
            errors[field] = reason
    if errors:
        raise InvalidStudentError(errors)
    return Student(
        studentid=values["studentid"],
        name=values["name"],
        class_=values["class"],
        birthdate=values["birthdate"],
        email=values["email"],
    )


def is_student_id(value: str) -> bool:
    return RULES[names.STUDENT_KEY].admits(value)


def student_id_problem(value: str) -> str | None:
    """Why ``value`` is no student id, or None: one wording for request bodies and query strings."""
    keyword = RULES[names.STUDENT_KEY].broken_keyword(value)
    return None if keyword is None else _schema_reason(names.STUDENT_KEY, keyword, value)


def is_email_address(value: str) -> bool:
    """An address of the schema's form: ASCII, at most 254 characters, 64 before the "@"."""
    return RULES["email"].admits(value)
