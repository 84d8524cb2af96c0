"""DynamoDB items to JSON and CSV text.

The low-level client returns items as attribute-value maps (``{"N": "1.5"}``);
``TypeDeserializer`` turns them into Python values, of which ``Decimal``,
``set`` and ``Binary`` are not JSON. The tutorial's ``json.dumps(items)``
failed on exactly these.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from boto3.dynamodb.types import Binary, TypeDeserializer

from lambdas.common import names

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

#: Characters that make a spreadsheet read a cell as a formula (CSV injection).
FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")
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
    # A leading quote makes spreadsheets show the text literally instead of
    # evaluating it (OWASP "CSV injection"). The JSON backup keeps the value as is.
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


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
