"""DynamoDB items to JSON and CSV text.

The low-level client returns items as attribute-value maps (``{"N": "1.5"}``);
``TypeDeserializer`` turns them into Python values, of which ``Decimal``,
``set`` and ``Binary`` are not JSON. The tutorial's ``json.dumps(items)``
failed on exactly these.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from boto3.dynamodb.types import Binary, TypeDeserializer

from lambdas.common import names

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

#: Characters that make a spreadsheet read a cell as a formula (CSV injection).
FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")
#: Characters after which a spreadsheet may start a new cell inside one of
#: ours: the field separators of the common dialects and the line breaks.
CELL_BREAKS: Final = (",", ";", "\t", "\r", "\n")
# Where a cell may start (the text's start or after a break) and a formula
# character follows, perhaps behind the double quotes that open a quoted field.
_FORMULA_START: Final = re.compile(
    f'(?:^|(?<=[{re.escape("".join(CELL_BREAKS))}]))(?="*[{re.escape("".join(FORMULA_PREFIXES))}])'
)
#: Separator of set members inside one CSV cell.
CSV_SET_SEPARATOR: Final = ";"
#: The media type of the JSON text ``dumps`` writes (UTF-8, non-ASCII kept), for
#: the API's responses and the backup's JSON object alike.
JSON_CONTENT_TYPE: Final = "application/json; charset=utf-8"

_deserializer = TypeDeserializer()

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"


def from_dynamodb(item: Mapping[str, AttributeValueTypeDef]) -> dict[str, Any]:
    """Python values of a low-level item: ``Decimal``, ``set``, ``Binary`` and plain types."""
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def to_json_value(value: object) -> JsonValue:
    """``value`` with numbers as int/float, sets as sorted lists and binary as base64 text.

    Non-integral numbers become floats: exact for every decimal of up to 15
    significant digits, which covers anything a student record holds.
    """
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (Binary, bytes, bytearray)):
        return _base64(value)
    if isinstance(value, (set, frozenset)):
        return [to_json_value(member) for member in sorted(value, key=_sort_key)]
    if isinstance(value, Mapping):
        return {str(key): to_json_value(member) for key, member in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(member) for member in value]
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")


def ordered_item(item: Mapping[str, Any]) -> dict[str, JsonValue]:
    """The item as JSON values: student fields first, in page order, then any other attribute by name."""
    keys = [field for field in names.STUDENT_FIELDS if field in item]
    keys += sorted(set(item) - set(names.STUDENT_FIELDS))
    return {key: to_json_value(item[key]) for key in keys}


def dumps(value: object) -> str:
    """JSON text that keeps non-ASCII characters (Vietnamese names) as they are."""
    return json.dumps(value, ensure_ascii=False)


def csv_cell(value: object) -> str:
    """One CSV cell: sets joined with ';', nested values as JSON, formula prefixes neutralised."""
    return neutralise_formula(_cell_text(value))


def neutralise_formula(text: str) -> str:
    """``text`` with a quote before every formula character that could start a cell.

    OWASP ("CSV Injection") asks that no cell begin with ``= + - @``, tab or
    carriage return, and warns that checking the first character is not
    enough: a field separator or quote inside the value can start a new cell
    whose first character is one of them. Our ``,``-separated file is read
    with ``;`` or tab as the separator in many locales, and set members are
    joined with ``;``, so ``0;=1+1`` becomes the cells ``0`` and ``=1+1``.
    Hence the quote goes at the start of the text and after every break
    (``CELL_BREAKS``) that is followed, perhaps behind opening double
    quotes, by a formula character: whichever way a reader splits the
    text, each piece starts with a quote and is shown literally. Only quotes
    are added, and only there; the JSON backup keeps the value as it is.
    """
    return _FORMULA_START.sub("'", text)


def _cell_text(value: object) -> str:
    if isinstance(value, (set, frozenset)):
        return CSV_SET_SEPARATOR.join(_cell_text(member) for member in sorted(value, key=_sort_key))
    if isinstance(value, Decimal):
        # str() keeps every digit DynamoDB stored, where a float would round.
        return str(int(value)) if value == value.to_integral_value() else str(value)
    if isinstance(value, str):
        return value
    plain = to_json_value(value)
    if isinstance(plain, str):
        return plain
    return "" if plain is None else dumps(plain)


def _sort_key(member: object) -> Any:
    # A DynamoDB set holds one type only (SS, NS or BS); binary members compare as bytes.
    return _raw_bytes(member) if isinstance(member, Binary) else member


def _base64(value: Binary | bytes | bytearray) -> str:
    return base64.b64encode(_raw_bytes(value)).decode("ascii")


def _raw_bytes(value: Binary | bytes | bytearray) -> bytes:
    if isinstance(value, Binary):
        # boto3-stubs leave out Binary.value, where boto3 keeps the bytes.
        return bytes(value.value)  # type: ignore[attr-defined]
    return bytes(value)
