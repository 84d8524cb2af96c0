"""Turning the table's items into the backup's two formats: DynamoDB JSON lines and CSV.

The writers take their outputs as callables (``MultipartUpload.write`` in the
function, a list's ``append`` in the tests), so the formats are checked without S3.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

from lambdas.common import dynamodb_json, encoding, names

#: The CSV starts with a UTF-8 byte-order mark: without it Excel reads the file
#: as the local code page and garbles every Vietnamese name.
CSV_BOM: Final = "\ufeff".encode()
CSV_CONTENT_TYPE: Final = "text/csv; charset=utf-8; header=present"
#: One JSON document per line (``dynamodb_json.item_line``).
ITEMS_CONTENT_TYPE: Final = "application/x-ndjson; charset=utf-8"


def write_backup(
    items: Iterable[Mapping[str, Any]], *, items_out: Callable[[bytes], None], csv_out: Callable[[bytes], None]
) -> int:
    """Write low-level ``items`` as DynamoDB JSON lines to ``items_out`` and CSV rows to ``csv_out``.

    Returns how many items were written.
    """
    csv_line = _CsvLine()
    csv_out(CSV_BOM + csv_line(names.STUDENT_FIELDS))
    count = 0
    for item in items:
        items_out(dynamodb_json.item_line(item))
        plain = encoding.from_dynamodb(item)
        csv_out(csv_line([encoding.csv_cell(plain.get(field)) for field in names.STUDENT_FIELDS]))
        count += 1
    return count


class _CsvLine:
    """Formats one CSV record at a time with the csv module's RFC 4180 quoting."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def __call__(self, cells: Sequence[str]) -> bytes:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(cells)
        return self._buffer.getvalue().encode("utf-8")
