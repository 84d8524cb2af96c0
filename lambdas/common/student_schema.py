"""What a new student is: one JSON Schema (draft 4), the rules every reader applies.

Three readers, one set of rules:

- API Gateway checks ``POST /students`` bodies sent as ``application/json``
  against it (the ``Student`` model, ``modules/api/routes.py``);
- ``insertStudentData`` interprets the same data (``lambdas/common/validation.py``),
  so a body the gateway let through unchecked meets the same rules, and the
  function never admits what the model refuses;
- the page checks its form against it (``config.json``, ``modules/site/assets.py``).

The function adds only what a schema cannot say; ``validation.py`` lists those checks.

Every pattern runs in three regex engines: API Gateway's (undocumented; Java's
is assumed), Python's ``re`` (the function, and ``jsonschema`` in the local
edge) and JavaScript's with the ``u`` flag (the page). They are written in what
the three read alike:

- ASCII character classes and ``\\xHH`` escapes only: ``\\d``, ``\\w`` and ``\\s``
  each mean something else outside ASCII in each engine;
- no lookbehind (a lookahead at most);
- JSON Schema searches for a pattern anywhere in the value, so each starts with
  ``^`` and ends with ``END``, "no character follows". ``$`` would not do: in
  Java and Python it also matches before a final line break, so
  ``^[A-Za-z0-9_-]{1,32}$`` admits ``"SV001\\n"``.

This module imports only the standard library: it is packaged with the functions.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from lambdas.common import names

STUDENT_ID_MAX: Final = 32
NAME_MAX: Final = 100
CLASS_MAX: Final = 32
EMAIL_MAX: Final = 254
#: RFC 5321's limit on the part of an address before the "@".
EMAIL_LOCAL_MAX: Final = 64

#: The end of the value: no character, not even a line break, follows.
END: Final = r"(?![\s\S])"

# Every ASCII character but letters, space, apostrophe, hyphen and period: what no
# name holds. Other characters pass the pattern; the function lets only letters
# and combining marks through (Unicode categories, which no ASCII class can name).
_NOT_IN_NAMES: Final = r"\x00-\x1f\x21-\x26\x28-\x2c\x2f-\x40\x5b-\x60\x7b-\x7f"
# Names and classes begin with no space (the lookahead) and end with none (the last class holds no space).
_NAME: Final = rf"^(?!\x20)[^{_NOT_IN_NAMES}]*[^\x20{_NOT_IN_NAMES}]"
_CLASS: Final = r"^(?!\x20)[A-Za-z0-9_ -]*[A-Za-z0-9_-]"
# Deliberately simple: SES is the real judge of deliverability. ASCII only,
# because SES (v1 SendEmail) cannot address a UTF-8 local part.
_EMAIL_ATOM: Final = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_EMAIL_LABEL: Final = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"

_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "Student",
    "type": "object",
    "additionalProperties": False,
    "required": list(names.STUDENT_FIELDS),
    "properties": {
        "studentid": {
            "type": "string",
            "maxLength": STUDENT_ID_MAX,
            "pattern": f"^[A-Za-z0-9_-]{{1,{STUDENT_ID_MAX}}}{END}",
        },
        "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": NAME_MAX,
            "pattern": f"{_NAME}{END}",
        },
        "class": {
            "type": "string",
            "minLength": 1,
            "maxLength": CLASS_MAX,
            "pattern": f"{_CLASS}{END}",
        },
        "birthdate": {"type": "string", "pattern": f"^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}{END}"},
        "email": {
            "type": "string",
            "maxLength": EMAIL_MAX,
            "pattern": (
                f"^(?=[^@]{{1,{EMAIL_LOCAL_MAX}}}@){_EMAIL_ATOM}(?:[.]{_EMAIL_ATOM})*"
                f"@(?:{_EMAIL_LABEL}[.])+[A-Za-z]{{2,63}}{END}"
            ),
        },
    },
}


def student_schema() -> dict[str, Any]:
    """The schema, as a copy a caller may change without changing anyone else's."""
    return copy.deepcopy(_SCHEMA)
