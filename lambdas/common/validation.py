"""What a valid student is, checked field by field.

``parse_student`` either returns a normalised ``Student`` or raises
``InvalidStudentError`` carrying one reason per offending field, so the page can
show every problem at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final

from lambdas.common import names
from lambdas.common.http import echo

STUDENT_ID_MAX: Final = 32
NAME_MAX: Final = 100
CLASS_MAX: Final = 32
EMAIL_MAX: Final = 254
EARLIEST_BIRTHDATE: Final = date(1900, 1, 1)

STUDENT_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{STUDENT_ID_MAX}}}", re.ASCII)
_CLASS = re.compile(rf"[\w -]{{1,{CLASS_MAX}}}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
# Deliberately simple: SES is the real judge of deliverability. ASCII only,
# because SES (v1 SendEmail) cannot address a UTF-8 local part.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}",
    re.ASCII,
)
_EMAIL_LOCAL_MAX: Final = 64
_NAME_PUNCTUATION: Final = frozenset(" '.-")
# Unknown field names are echoed back (each shortened by ``echo``); a hostile body
# must not make the reply huge.
_UNKNOWN_FIELDS_SHOWN: Final = 10


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


def is_student_id(value: str) -> bool:
    return STUDENT_ID.fullmatch(value) is not None


def is_email_address(value: str) -> bool:
    if len(value) > EMAIL_MAX or _EMAIL.fullmatch(value) is None:
        return False
    return len(value.partition("@")[0]) <= _EMAIL_LOCAL_MAX


def parse_student(payload: object, *, today: date) -> Student:
    """Validate a decoded JSON request body; ``today`` bounds the birthdate."""
    if not isinstance(payload, dict):
        raise InvalidStudentError({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    unknown = sorted(set(payload) - set(names.STUDENT_FIELDS))
    for field in unknown[:_UNKNOWN_FIELDS_SHOWN]:
        errors[echo(field)] = "unknown field"
    if len(unknown) > _UNKNOWN_FIELDS_SHOWN:
        errors["body"] = f"has {len(unknown)} unknown fields"
    values: dict[str, str] = {}
    for field in names.STUDENT_FIELDS:
        if field not in payload:
            errors[field] = "is required"
        elif not isinstance(payload[field], str):
            errors[field] = "must be a string"
        else:
            values[field] = unicodedata.normalize("NFC", payload[field]).strip()

    checks = {
        "studentid": student_id_problem,
        "name": _check_name,
        "class": _check_class,
        "birthdate": lambda value: _check_birthdate(value, today),
        "email": _check_email,
    }
    for field, value in values.items():
        reason = checks[field](value)
        if reason:
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


def student_id_problem(value: str) -> str | None:
    """Why ``value`` is no student id, or None: one wording for request bodies and query strings."""
    if not is_student_id(value):
        return f"must be 1 to {STUDENT_ID_MAX} letters, digits, '_' or '-'"
    return None


def _check_name(value: str) -> str | None:
    if not 1 <= len(value) <= NAME_MAX:
        return f"must be 1 to {NAME_MAX} characters"
    if not all(_is_name_character(character) for character in value):
        return "may contain only letters, spaces, apostrophes, periods and hyphens"
    if not any(unicodedata.category(character).startswith("L") for character in value):
        return "must contain a letter"
    return None


def _is_name_character(character: str) -> bool:
    # Letters (L*) and combining marks (M*) cover every script's names,
    # including Vietnamese tone marks left uncomposed by NFC.
    return character in _NAME_PUNCTUATION or unicodedata.category(character)[0] in "LM"


def _check_class(value: str) -> str | None:
    if _CLASS.fullmatch(value) is None:
        return f"must be 1 to {CLASS_MAX} letters, digits, spaces, '_' or '-'"
    return None


def _check_birthdate(value: str, today: date) -> str | None:
    if _DATE.fullmatch(value) is None:
        return "must be a date written YYYY-MM-DD"
    try:
        born = date.fromisoformat(value)
    except ValueError:
        return "is not a calendar date"
    if born < EARLIEST_BIRTHDATE:
        return f"must not be before {EARLIEST_BIRTHDATE.isoformat()}"
    if born > today:
        return "must not be in the future"
    return None


def _check_email(value: str) -> str | None:
    if not is_email_address(value):
        return f"must be an e-mail address of at most {EMAIL_MAX} characters"
    return None
