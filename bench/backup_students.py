"""The students ``bench.backup`` fills its tables with, and how it fills them.

Every student is one the insert function accepts, as a Vietnamese university
would have them: names with their diacritics, classes such as ``CNTT-K67-03``,
birthdates from 2001 to 2006, addresses folded to ASCII; the same number gives
the same student in any process. A table is filled by parallel
``BatchWriteItem`` with a progress line every few seconds: a 300k table takes
minutes. Separate from the measurement (``bench.backup_measurement``), which
reads the tables and never needs to know what is in them.
"""

from __future__ import annotations

import concurrent.futures
import random
import time
import unicodedata
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any, Final

from bench.local_system import BenchError
from lambdas.common import encoding, names

#: BatchWriteItem's limit, and the requests in flight while seeding.
BATCH: Final = 25
SEED_THREADS: Final = 6
#: Seconds between two progress lines while seeding.
PROGRESS_EVERY_S: Final = 5.0

FAMILY: Final = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
    "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trương", "Lương", "Mai",
)  # fmt: skip
MIDDLE: Final = (
    "Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu", "Quốc", "Hải", "Thanh", "Hữu",
    "Quang", "Hoài", "Xuân", "Bảo", "Gia", "Khánh", "Thùy", "Phương", "Anh", "Tuấn",
)  # fmt: skip
GIVEN: Final = (
    "An", "Anh", "Bảo", "Bình", "Châu", "Chi", "Cường", "Dũng", "Duy", "Giang",
    "Hà", "Hải", "Hạnh", "Hiếu", "Hòa", "Hùng", "Hương", "Huyền", "Khánh", "Khoa",
    "Lan", "Linh", "Lộc", "Long", "Mai", "Minh", "My", "Nam", "Nga", "Ngân",
    "Nhung", "Phúc", "Phương", "Quân", "Quỳnh", "Sơn", "Tâm", "Thảo", "Thắng", "Trang",
    "Trung", "Tú", "Tuấn", "Uyên", "Việt", "Vy", "Xuân", "Yến", "Đạt", "Ánh",
)  # fmt: skip
#: Programmes as Vietnamese universities abbreviate them.
MAJORS: Final = ("CNTT", "KTPM", "HTTT", "KHMT", "ATTT", "MMT", "DTVT", "CKCT", "QTKD", "KTTC", "NNA", "TKDH")


def ascii_fold(text: str) -> str:
    """``Nguyễn Đức`` → ``Nguyen Duc``: what an e-mail address can hold."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def student(number: int) -> dict[str, dict[str, str]]:
    """Student ``number`` as a low-level item: the same student for the same number, in any process."""
    pick = random.Random(number)  # noqa: S311 - test data, not secrets
    family, middle, given = pick.choice(FAMILY), pick.sample(MIDDLE, pick.choice((1, 1, 2))), pick.choice(GIVEN)
    name = " ".join((family, *middle, given))
    born = date(2001, 1, 1) + timedelta(days=pick.randrange(6 * 365))
    cohort = born.year + 18 - 1955  # K67 entered in 2022: born in 2004
    surname = ascii_fold("".join((family, *middle))).lower()
    return {
        names.STUDENT_KEY: {"S": f"SV{born.year + 18}{number:07d}"},
        "name": {"S": name},
        "class": {"S": f"{pick.choice(MAJORS)}-K{cohort}-{pick.randint(1, 12):02d}"},
        "birthdate": {"S": born.isoformat()},
        "email": {"S": f"{ascii_fold(given).lower()}.{surname}.{born.year + 18}{number:07d}@sv.example.edu.vn"},
    }


def item_size(item: dict[str, dict[str, str]]) -> int:
    """DynamoDB's item size: attribute names plus string values, UTF-8."""
    return sum(len(key.encode()) + len(value["S"].encode()) for key, value in item.items())


def json_size(item: dict[str, dict[str, str]]) -> int:
    """Bytes of the item as DynamoDB JSON (what a Scan returns and the backup writes), UTF-8."""
    return len(encoding.dumps(item).encode())


def create_table(dynamodb: Any, table: str) -> None:
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": names.STUDENT_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": names.STUDENT_KEY, "AttributeType": names.STUDENT_KEY_TYPE}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.get_waiter("table_exists").wait(TableName=table)


def batches(count: int) -> Iterator[range]:
    for start in range(0, count, BATCH):
        yield range(start, min(start + BATCH, count))


def write_batch(dynamodb: Any, table: str, numbers: range) -> int:
    """One BatchWriteItem of ``numbers``, unprocessed items sent again until none is left."""
    requests: list[Any] = [{"PutRequest": {"Item": student(number)}} for number in numbers]
    for attempt in range(10):
        left = dynamodb.batch_write_item(RequestItems={table: requests}).get("UnprocessedItems", {})
        requests = left.get(table, [])
        if not requests:
            return len(numbers)
        time.sleep(0.05 * 2**attempt)
    raise BenchError(f"{len(requests)} items still unprocessed after 10 BatchWriteItem attempts")


def seed(dynamodb: Any, table: str, count: int) -> float:
    """``count`` students in ``table`` by parallel BatchWriteItem, with a progress line every few seconds."""
    started = time.monotonic()
    written = 0
    shown = started
    with concurrent.futures.ThreadPoolExecutor(SEED_THREADS) as pool:
        # Submitted in windows, so a 300k table does not queue 12,000 futures at once.
        pending: set[concurrent.futures.Future[int]] = set()
        work = batches(count)
        for numbers in work:
            pending.add(pool.submit(write_batch, dynamodb, table, numbers))
            if len(pending) < 4 * SEED_THREADS:
                continue
            done, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            written += sum(future.result() for future in done)
            now = time.monotonic()
            if now - shown >= PROGRESS_EVERY_S:
                shown = now
                rate = written / (now - started)
                left = (count - written) / rate if rate else 0
                print(
                    f"  seeded {written:>9,} of {count:,} ({written / count:4.0%}), {rate:,.0f} items/s, "
                    f"about {left:.0f} s left",
                    flush=True,
                )
        for future in pending:
            written += future.result()
    if written != count:
        raise BenchError(f"seeded {written} items, not {count}")
    return time.monotonic() - started
