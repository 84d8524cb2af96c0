"""Generated bad requests to the API: each must get a 4xx JSON answer and change nothing.

One seeded list drives two suites: ``tests/lambdas/test_bad_input.py`` hands
each request to the handlers in-process, as API Gateway's proxy event, and
``tests/system/test_make_up.py`` sends each over HTTP to the local edge, where API
Gateway's own checks (routes, the model) answer some before a function runs.
The list is the same on every run, so a failure names a case (its ``label``)
that can be replayed.

Every request is bad by construction, never by asking the code under test:
a generator that filtered with ``validation`` would hide exactly the requests
the function wrongly admits. Bodies that would be valid if admitted (a
student sent as ``text/plain``, say) carry an id of their own, so one that got
through would be saved and show in the table.

Nothing here touches ``POST /backup`` or the other engineer's backup routes:
a request there may legitimately start a backup.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import quote

from lambdas.common import names
from lambdas.get_students.handler import MAX_TOKEN_LENGTH

SEED: Final = 20250706
JSON: Final = "application/json"
STUDENTS_PATH: Final = "/students"
#: A valid student: the cases break one thing of it at a time (or a few).
VALID: Final = {
    "studentid": "SV001",
    "name": "Nguyễn Thị Ánh",
    "class": "CNTT1",
    "birthdate": "2003-04-05",
    "email": "anh.nguyen@example.com",
}
FIELDS: Final = names.STUDENT_FIELDS
#: The answers to a body that may be past the function's 16 KiB limit (413), or not (400).
SOME_TOO_LARGE: Final = frozenset({400, 413})


@dataclass(frozen=True)
class BadRequest:
    """One request as a client sends it: method, resource path, query, Content-Type and body bytes."""

    label: str
    method: str
    path: str
    #: Query parameters in order; a name may repeat.
    query: tuple[tuple[str, str], ...] = ()
    #: None: no Content-Type header at all.
    content_type: str | None = JSON
    body: bytes = b""
    #: What the handler answers when the request reaches it (the gateway may answer first).
    statuses: frozenset[int] = frozenset({400})
    #: False for what only the gateway sees (an unknown path): no handler gets such a request.
    reaches_a_handler: bool = True

    def target(self) -> str:
        """The path and query as sent over HTTP, percent-encoded as UTF-8 (lone surrogates kept as their bytes)."""
        if not self.query:
            return self.path
        pairs = "&".join(f"{_quoted(name)}={_quoted(value)}" for name, value in self.query)
        return f"{self.path}?{pairs}"


def _quoted(text: str) -> str:
    return quote(text, safe="", errors="surrogatepass")


def generate(seed: int = SEED) -> list[BadRequest]:
    """Every bad request, in a fixed order for ``seed``."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    ids = _ids()
    cases: list[BadRequest] = []
    for make in (
        _malformed_json,
        _not_objects,
        _wrong_types,
        _missing_fields,
        _extra_fields,
        _lone_surrogates,
        _huge,
        _duplicate_keys,
        _nested_junk,
        _bad_values,
        _content_types,
        _methods,
        _bad_queries,
        _paths,
    ):
        cases.extend(make(rng, ids))
    return cases


# --- building blocks ------------------------------------------------------------------------------


def _ids() -> Iterator[str]:
    """Fresh valid ids: a body that slipped through would be saved, never refused as taken."""
    number = 0
    while True:
        number += 1
        yield f"BAD{number:05d}"


def _student(ids: Iterator[str], **changes: object) -> dict[str, object]:
    return {**VALID, "studentid": next(ids), **changes}


def _text(value: object) -> bytes:
    """JSON text as a client writes it: non-ASCII as is, lone surrogates as ``\\uXXXX`` escapes."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8", errors="backslashreplace")


def _escaped(value: object) -> bytes:
    """JSON text with every non-ASCII character escaped (how a lone surrogate travels in JSON)."""
    return json.dumps(value).encode("ascii")


def _post(
    label: str, body: bytes, *, statuses: frozenset[int] = frozenset({400}), content_type: str | None = JSON
) -> BadRequest:
    return BadRequest(label, "POST", STUDENTS_PATH, content_type=content_type, body=body, statuses=statuses)


def _get(label: str, query: tuple[tuple[str, str], ...]) -> BadRequest:
    return BadRequest(label, "GET", STUDENTS_PATH, query=query, content_type=None)


def _members(pairs: list[tuple[str, object]], dump: Callable[[object], bytes] = _escaped) -> bytes:
    """An object written member by member, so keys may repeat."""
    return b"{" + b", ".join(dump(key) + b": " + dump(value) for key, value in pairs) + b"}"


_JSON_VALUES: Final[tuple[object, ...]] = (
    0,
    1,
    -1,
    1.5,
    1e308,
    10**30,
    True,
    False,
    None,
    [],
    {},
    ["SV001"],
    {"S": "SV001"},
    [[[]]],
)
_PRINTABLE: Final = string.ascii_letters + string.digits + string.punctuation + " "


def _random_json(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(6 if depth < 3 else 4)
    if kind == 0:
        return rng.choice(_JSON_VALUES)
    if kind == 1:
        return "".join(rng.choice(_PRINTABLE) for _ in range(rng.randrange(12)))
    if kind == 2:
        return rng.randint(-(10**6), 10**6)
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {f"k{i}": _random_json(rng, depth + 1) for i in range(rng.randrange(4))}


# --- POST /students bodies ------------------------------------------------------------------------


def _malformed_json(rng: random.Random, ids: Iterator[str]) -> list[BadRequest]:
    cases = []
    for number in range(40):
        whole = _text(_student(ids))
        cases.append(_post(f"truncated JSON #{number}", whole[: rng.randrange(len(whole))]))
    for number in range(20):
        garbage = "".join(rng.choice(_PRINTABLE) for _ in range(rng.randint(1, 200)))
        cases.append(_post(f"random text #{number}", ("{" + garbage).encode()))
    fixed = [
        b"{'studentid': 'SV1'}",
        b'{"studentid": "SV1",}',
        b'{"studentid": "SV1" "name": "An"}',
        b'{studentid: "SV1"}',
        b'{"studentid" "SV1"}',
        b'{"studentid": "SV1"}}',
        b'{"studentid": "SV1"}{"name": "An"}',
        b'{"studentid": "SV1" /* comment */}',
        b'{"studentid": 0x1F}',
        b'{"studentid": "\\x41"}',
        b'{"studentid": "unterminated}',
        b'{"studentid": "tab\there"}',
        b'{"studentid": "SV1"',
        b"{",
        b"}",
        b"[",
        b"nul",
        b"\x00",
        b'{"studentid": "SV1"}\x00',
        b'{"a": 1e99999999999999999999}',
        b'{"a": ' + b"1" * 5000 + b"}",
        b"\xef\xbb\xbf" + _text(VALID),
    ]
    cases += [_post(f"malformed JSON #{number}", body) for number, body in enumerate(fixed)]
    for number in range(10):
        latin1 = json.dumps(_student(ids), ensure_ascii=False).encode("latin-1", errors="replace")
        cases.append(_post(f"latin-1 body #{number}", latin1.replace(b"?", b"\xe1")))
    for number in range(10):
        cases.append(_post(f"UTF-16 body #{number}", json.dumps(_student(ids)).encode("utf-16")))
    for number in range(20):
        cases.append(_post(f"random bytes #{number}", bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))))
    return cases


def _not_objects(rng: random.Random, ids: Iterator[str]) -> list[BadRequest]:
    values: list[object] = [*_JSON_VALUES, "SV001", "", [VALID], [VALID, VALID], json.dumps(VALID)]
    values += [_random_json(rng) for _ in range(20)]
    cases = [_post(f"not an object #{number}", _text(value)) for number, value in enumerate(values)]
    cases += [_post("empty body", b""), _post("blank body", b"   \n\t "), _post("null body", b"null")]
    return [case for case in cases if not case.body.startswith(b"{")]


def _wrong_types(rng: random.Random, ids: Iterator[str]) -> list[BadRequest]:
    cases = []
    for field_name in FIELDS:
        for number in range(24):
            value = rng.choice(_JSON_VALUES) if number % 2 else _random_json(rng)
            if isinstance(value, str):
                value = [value]
            cases.append(_post(f"{field_name} of a wrong type #{number}", _text(_student(ids, **{field_name: value}))))
    return cases


def _missing_fields(rng: random.Random, ids: Iterator[str]) -> list[BadRequest]:
    cases = []
    for mask in range(1, 2 ** len(FIELDS)):
        gone = [name for bit, name in enumerate(FIELDS) if mask >> bit & 1]
        student = {key: value for key, value in _student(ids).items() if key not in gone}
        cases.append(_post(f"without {', '.join(gone)}", _text(student)))
    return cases


_EXTRA_KEYS: Final = (
    "StudentID",
    "Class",
    "EMAIL",
    "name ",
    " name",
    "tên",
    "lớp",
    "",
    "__proto__",
    "constructor",
    "$schema",
    "studentid\u0000",
    "class\u200b",
    "grade",
    "id",
    "student_id",
)


def _extra_fields(rng: random.Random, ids: Iterator[str]) -> list[BadRequest]:
    cases = []
    for number in range(60):
        key = _EXTRA_KEYS[number % len(_EXTRA_KEYS)] if number < 32 else "x" + str(rng.randrange(10**6))
        student = {**_student(ids), key: _random_json(rng)}
        cases.append(_post(f"extra field {key!r} #{number}", _text(student)))
    return cases


_SURROGATES: Final = ("\ud800", "\udfff", "\udc00\ud800", "a\ud83d", "\ud83db", "\udbff\udbff")


def _lone_surrogates(rng: random.Random, ids: Iterator[str]) -> list[BadRequest]:
    cases = []
    for number in range(30):
        surrogate = _SURROGATES[number % len(_SURROGATES)]
        name = FIELDS[number % len(FIELDS)]
        value = rng.choice(["", "SV", VALID[name]])
        position = rng.randrange(len(value) + 1)
        student = _student(ids, **{name: value[:position] + surrogate + value[position:]})
        cases.append(_post(f"lone surrogate in {name} #{number}", _escaped(student)))
    for number in range(30):
        surrogate = _SURROGATES[number % len(_SURROGATES)]
        key = rng.choice(["", "x", "studentid", "\u202e"]) + surrogate
        student = {**_student(ids), key: _random_json(rng)}
        cases.append(_post(f"lone surrogate in a key #{number}", _escaped(student)))
    for number in range(10):
        key = _SURROGATES[number % len(_SURROGATES)] * rng.randint(1, 3000)
        cases.append(
            _post(f"repeated surrogate key #{number}", _members([(key, 1), (key, 2)]), statuses=SOME_TOO_LARGE)
        )
    for number in range(10):
        # A surrogate written as UTF-8 bytes: no UTF-8 decoder accepts them.
        name = FIELDS[number % len(FIELDS)]
        text = _text(_student(ids, **{name: "SV\u0000"})).replace(b"\\u0000", b"\xed\xa0\x80")
        cases.append(_post(f"encoded surrogate bytes in {name} #{number}", text))
    return cases


def _huge(rng: random.Random, ids: Iterator[str]) -> list[BadRequest]:
    cases = []
    for number in range(25):
        name = FIELDS[number % len(FIELDS)]
        size = rng.randint(255, 15_000)
        cases.append(_post(f"huge {name} ({size} characters)", _text(_student(ids, **{name: "A" * size}))))
    for number in range(10):
        name = FIELDS[number % len(FIELDS)]
        size = rng.randint(17_000, 60_000)
        cases.append(
            _post(
                f"{name} past 16 KiB #{number}", _text(_student(ids, **{name: "A" * size})), statuses=frozenset({413})
            )
        )
    for number in range(5):
        name = "ễ" * rng.randint(5_500, 8_000)  # under 16 Ki characters, over 16 KiB of UTF-8
        cases.append(
            _post(f"multi-byte name past 16 KiB #{number}", _text(_student(ids, name=name)), statuses=frozenset({413}))
        )
    for _ in range(10):
        key = rng.choice("kKé\u0007") * rng.randint(1_000, 15_000)
        cases.append(
            _post(f"huge key ({len(key)} characters)", _text({**_student(ids), key: 1}), statuses=SOME_TOO_LARGE)
        )
    for _ in range(10):
        many = {f"field{i}": i for i in range(rng.randint(50, 1_500))}
        cases.append(_post(f"{len(many)} unknown fields", _text({**_student(ids), **many}), statuses=SOME_TOO_LARGE))
    return cases


def _duplicate_keys(rng: random.Random, ids: Iterator[str]) -> list[BadRequest]:
    cases = []
    for number in range(40):
        student = _student(ids)
        name = FIELDS[number % len(FIELDS)]
        again = student[name] if number % 2 else _student(ids)[name]
        pairs = [*student.items(), (name, again)]
        rng.shuffle(pairs)
        cases.append(_post(f"{name} given twice #{number}", _members(pairs, _text)))
    for number in range(20):
        key = rng.choice(["grade", "", "x" * rng.randint(100, 8_000), "\u202e\u0000"])
        pairs = [*_student(ids).items(), (key, 1), (key, 2)]
        cases.append(_post(f"unknown field given twice #{number}", _members(pairs, _escaped), statuses=SOME_TOO_LARGE))
    return cases


def _nested_junk(rng: random.Random, ids: Iterator[str]) -> list[BadRequest]:
    cases = []
    for number in range(16):
        depth = rng.choice([100, 999, 1_000, 3_000, 8_000])
        cases.append(_post(f"arrays {depth} deep #{number}", b"[" * depth + b"]" * depth, statuses=SOME_TOO_LARGE))
        objects = b'{"a":' * depth + b"1" + b"}" * depth
        cases.append(_post(f"objects {depth} deep #{number}", objects, statuses=SOME_TOO_LARGE))
    for number in range(8):
        depth = rng.choice([50, 500, 900])
        nested = b"[" * depth + b'"x"' + b"]" * depth
        name = FIELDS[number % len(FIELDS)]
        body = _text(_student(ids, **{name: "@"})).replace(b'"@"', nested)
        cases.append(_post(f"{name} nested {depth} deep", body))
    wrapped: list[object] = [
        {"student": _student(ids)},
        {"body": json.dumps(_student(ids))},
        {"Item": {key: {"S": value} for key, value in _student(ids).items()}},
        {**_student(ids), "name": {"first": "Ánh", "last": "Nguyễn"}},
        {**_student(ids), "class": {"$ne": None}},
        {**_student(ids), "studentid": {"S": "SV001"}},
    ]
    cases += [_post(f"wrapped student #{number}", _text(body)) for number, body in enumerate(wrapped)]
    return cases


_TOMORROW: Final = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
#: Values no rule admits, by field: of the schema, or of the function's extra checks.
BAD_VALUES: Final = {
    "studentid": (
        "", " SV001", "SV001 ", "SV001\n", "SV001\r\n", "SV001\u2028", "\u00a0SV001", "SV\u00a0001", "SV 001",
        "SV-001/1", "x" * 33, "SV001;DROP", "SV\u0130", "ＳＶ００１", "SV٠٠١", "sv001\t", "<script>", "../etc",
        "SV001\u200b", "SV001\u0000", "%53V001",
    ),
    "name": (
        "", " ", "R2-D2", "Ánh\u0000", "<b>Ánh</b>", "a" * 101, "...", "--", "Ánh\nLộc", " Ánh", "Ánh ", "Ánh\u00a0",
        "Nguyễn ②", "Ánh😀", "\u202eÁnh", "Ánh\u200b", "123", "Ánh@home", "'", "Ánh\t", "Ánh\u2028", "Ánh;",
        "\u0301\u0301",
    ),
    "class": (
        "", " CNTT1", "CNTT1 ", "CNTT/1", "c" * 33, "CNTT\u0661", "CNTT１", "Lớp 10", "CNTT\n1", "CNTT\t1", "CNTT1\n",
        " ", "CNTT.1", "CNTT\u00a01",
    ),
    "birthdate": (
        "2004-02-30", "2004-2-3", "20040203", "1899-12-31", _TOMORROW, "2004-13-01", "0000-01-01", "2004-00-10",
        "２００４-０１-０１", "2004-01-01\n", " 2004-01-01", "2004-01-01T00:00", "9999-12-31", "", "2004/01/01",
        "2003-02-29", "01-01-2004",
    ),
    "email": (
        "no-at-sign", "two@@example.com", "nodomain@", "no-tld@example", "ánh@example.com", "a b@example.com",
        "x" * 65 + "@example.com", "a@" + "b" * 250 + ".com", "a@example.com\n", " a@example.com", "a@-example.com",
        "a@example..com", ".a@example.com", "a.@example.com", "a@example.c", "a@example.com.", "a@[127.0.0.1]",
        '"a"@example.com', "", "a@ex_ample.com", "a@example.com\u00a0", "a@" + "b" * 64 + ".com",
    ),
}  # fmt: skip


def _bad_values(rng: random.Random, ids: Iterator[str]) -> list[BadRequest]:
    cases = []
    for name, values in BAD_VALUES.items():
        for number, value in enumerate(values):
            body = _escaped(_student(ids, **{name: value})) if number % 2 else _text(_student(ids, **{name: value}))
            cases.append(_post(f"{name} {value[:40]!r}", body))
    for number in range(120):
        bad = rng.sample(FIELDS, rng.randint(1, 3))
        student = _student(ids, **{name: rng.choice(BAD_VALUES[name]) for name in bad})
        if names.STUDENT_KEY not in bad:
            student[names.STUDENT_KEY] = next(ids)
        cases.append(_post(f"bad {', '.join(bad)} #{number}", _text(student)))
    return cases


_CONTENT_TYPES: Final = (
    None, "", "text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "application/jsonp", "application/json-patch+json", "application/x-json",
    "text/json", "application/javascript", "application/xml", "*/*", "application/*", "json", "application/json+x",
    "application/problem+json", "application/vnd.api+json", "application /json", "application/json, text/plain",
)  # fmt: skip


def _content_types(rng: random.Random, ids: Iterator[str]) -> list[BadRequest]:
    cases = []
    for number in range(80):
        content_type = _CONTENT_TYPES[number % len(_CONTENT_TYPES)]
        body = _text(_student(ids)) if number % 4 else _text(_random_json(rng))
        cases.append(
            _post(
                f"Content-Type {content_type!r} #{number}", body, content_type=content_type, statuses=frozenset({415})
            )
        )
    return cases


def _methods(rng: random.Random, ids: Iterator[str]) -> list[BadRequest]:
    cases = []
    for number, method in enumerate(("PUT", "DELETE", "PATCH", "TRACE", "PROPFIND") * 4):
        body = _text(_student(ids)) if number % 2 else b""
        cases.append(
            BadRequest(f"{method} /students #{number}", method, STUDENTS_PATH, body=body, statuses=frozenset({405}))
        )
    return cases


# --- GET /students queries --------------------------------------------------------------------------------


_BAD_LIMITS: Final = (
    "0", "501", "-1", "2.5", "1e2", "", " 5", "5 ", "５", "٥", "0x10", "+5", "1_0", "1,0", "10000", "9" * 50,
    "null", "undefined", "５０", "5\n", "\u00a05", "0005", "1000", "true", "[5]",
)  # fmt: skip


def _bad_tokens(rng: random.Random) -> list[str]:
    def mark(data: bytes) -> str:
        return "1" + base64.urlsafe_b64encode(data).decode().rstrip("=")

    tokens = ["", "1", "2U1YwMDE", "1U1YwMDE=", "1U1YwMDF", "1U1YwMD", "eyJzdHVkZW50aWQiOiB7IlMiOiAiU1YwMDEifX0", "!!!"]
    tokens += ["1" + "A" * (MAX_TOKEN_LENGTH + rng.randint(0, 3_000)) for _ in range(5)]
    tokens += [mark(b"\xed\xa0\x80"), mark(b"\xff\xfe"), mark(b"x" * 2_049), "1U1YwMDE\n", " 1U1YwMDE", "1U1Y+wMDE"]
    # Random bytes with a byte UTF-8 never uses: never the token of a key.
    tokens += [mark(bytes(rng.randrange(256) for _ in range(rng.randint(0, 40))) + b"\xff") for _ in range(30)]
    tokens += ["".join(rng.choice(_PRINTABLE) for _ in range(rng.randint(1, 60))) + "!" for _ in range(20)]
    return tokens


def _bad_queries(rng: random.Random, ids: Iterator[str]) -> list[BadRequest]:
    cases = [_get(f"limit={value!r}", (("limit", value),)) for value in _BAD_LIMITS]
    cases += [
        _get(f"nextToken={token[:30]!r} #{n}", (("nextToken", token),)) for n, token in enumerate(_bad_tokens(rng))
    ]
    cases += [_get(f"studentid={value!r}", (("studentid", value),)) for value in BAD_VALUES["studentid"]]
    cases += [_get(f"studentid={value!r} (surrogate)", (("studentid", value),)) for value in _SURROGATES]
    cases += [_get(f"limit={value!r} (surrogate)", (("limit", "5" + value),)) for value in _SURROGATES]
    for number in range(20):
        other = rng.choice([("limit", str(rng.randint(1, 500))), ("nextToken", "1U1YwMDE")])
        cases.append(_get(f"studentid with {other[0]} #{number}", (("studentid", "SV001"), other)))
    for number in range(30):
        name = rng.choice(["foo", "Limit", "LIMIT", "student_id", "next_token", "nexttoken", "", "x" * 5_000, "\u202e"])
        cases.append(_get(f"unknown parameter {name[:20]!r} #{number}", (("limit", "5"), (name, str(number)))))
    cases.append(_get("twenty unknown parameters", tuple((f"p{i}", "1") for i in range(20))))
    for number in range(30):
        name = rng.choice(["limit", "nextToken", "studentid", "foo"])
        values = {"limit": ("5", "6"), "nextToken": ("1U1YwMDE", "1U1YwMDI"), "studentid": ("SV001", "SV002")}
        first, second = values.get(name, ("1", "2"))
        cases.append(_get(f"{name} given twice #{number}", ((name, first), (name, second if number % 2 else first))))
    for number in range(40):
        query = [
            (rng.choice(["limit", "nextToken", "studentid"]), rng.choice([*_BAD_LIMITS, *BAD_VALUES["studentid"]]))
        ]
        query.append(("limit", rng.choice(_BAD_LIMITS)))
        cases.append(_get(f"several bad parameters #{number}", tuple(query)))
    return cases


# --- What only the gateway sees -------------------------------------------------------------------


def _paths(rng: random.Random, ids: Iterator[str]) -> list[BadRequest]:
    paths = (
        "/teachers",
        "/students/SV001",
        "/student",
        "/Students",
        "/students/x/y",
        "/backupx",
        "/",
        "/students.json",
    )
    cases = []
    for number in range(30):
        path = paths[number % len(paths)]
        method = ("GET", "POST", "PUT", "DELETE")[number % 4]
        body = _text(_student(ids)) if method in ("POST", "PUT") else b""
        cases.append(BadRequest(f"{method} {path} #{number}", method, path, body=body, reaches_a_handler=False))
    return cases


# --- What every answer must be ----------------------------------------------------------------------------

#: An answer longer than this carries something of the request back whole.
MAX_ANSWER_BYTES: Final = 4096


def answer_problems(status: int, headers: Mapping[str, str], body: bytes, *, origin: str) -> list[str]:
    """What is wrong with the answer to a bad request (nothing, when it is a short 4xx JSON message with CORS)."""
    problems = []
    if not 400 <= status < 500:
        problems.append(f"status {status}, not 4xx")
    if {name.lower(): value for name, value in headers.items()}.get("access-control-allow-origin") != origin:
        problems.append("no CORS header for the site's origin: the page could not read the answer")
    if len(body) > MAX_ANSWER_BYTES:
        problems.append(f"an answer of {len(body)} bytes: something of the request came back whole")
    try:
        answer = json.loads(body.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError included
        return [*problems, f"the body is not UTF-8 JSON: {body[:80]!r}"]
    if not isinstance(answer, dict) or not isinstance(answer.get("message"), str) or not answer["message"]:
        problems.append(f"no message in {answer!r:.80}")
    return problems


# --- Values on either side of each field's rule ---------------------------------------------------------

#: Characters where regex engines, Unicode and the old rules part ways: line breaks (``$`` matches
#: before some), spaces that ``strip()`` removes, digits and letters outside ASCII, marks, surrogates.
TRICKY: Final = (
    "\n", "\r", "\u2028", "\u2029", "\u0085", "\u00a0", "\u3000", "\t", " ", "\x00", "\x7f", "\u0661", "\uff15", "²",
    "\U0001d4d0", "\ud800", "\udc00", "é", "\u0301", "İ", "ſ", "\u212a", "Ω", "ễ", "Đ", "李", "\u200b", "\u202e",
    "\ufeff", "😀", "@", ".", "-", "_", "'", "/",
)  # fmt: skip
#: Values every rule admits, by field (the base the mutations start from).
GOOD_VALUES: Final = {
    "studentid": ("SV001", "a", "A-b_9", "x" * 32),
    "name": ("Nguyễn Thị Ánh", "O'Brien-Smith Jr.", "Zoë", "李小龍", "A", "Đặng  Thuỳ Dương", "𝓐" * 100),
    "class": ("CNTT1", "K62-CNTT 2", "c" * 32, "1"),
    "birthdate": ("2003-04-05", "1900-01-01", "2024-02-29"),
    "email": ("anh.nguyen@example.com", "a+tag@sub.example.co.uk", "x" * 64 + "@example.io", "a@b.cd"),
}  # fmt: skip


def field_values(rng: random.Random, field_name: str, count: int) -> list[str]:
    """Values of ``field_name`` at either side of its rule: good ones, each mutated a little or a lot."""
    alphabet = [chr(code) for code in range(128)] + list(TRICKY)
    values = [*GOOD_VALUES[field_name], *BAD_VALUES[field_name]]
    while len(values) < count:
        value = rng.choice(GOOD_VALUES[field_name])
        change = rng.randrange(6)
        if change == 0:  # a character inserted
            at = rng.randrange(len(value) + 1)
            value = value[:at] + rng.choice(alphabet) + value[at:]
        elif change == 1:  # a character replaced
            at = rng.randrange(len(value))
            value = value[:at] + rng.choice(alphabet) + value[at + 1 :]
        elif change == 2:  # something before or after
            extra = rng.choice(TRICKY)
            value = extra + value if rng.random() < 0.5 else value + extra
        elif change == 3:  # anything
            value = "".join(rng.choice(alphabet) for _ in range(rng.randrange(40)))
        elif change == 4:  # around the length limit
            value = (value * 300)[: rng.choice([31, 32, 33, 63, 64, 65, 99, 100, 101, 253, 254, 255])]
        values.append(value)
    return values
