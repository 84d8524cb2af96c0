"""``make seed``: adds sample students through the local invoke URL (the tutorial's SV001 first).

    .venv/bin/python -m ops.seed [--count N]

Each student is inserted as a user would: through the local edge, with the
API key and the local staff member's ID token (``ops.staff_token``).
"""

from __future__ import annotations

import argparse
import sys
import time

from config.settings import AppConfig
from ops.api_key import api_key
from ops.local_system import OpsError, call, invoke_url, run_operation
from ops.staff_token import staff_id_token

#: The tutorial's first student, then generated ones.
FIRST = {"studentid": "SV001", "name": "Nguyễn Văn A", "class": "CNTT1", "birthdate": "2000-01-01"}
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ")
MIDDLE = ("Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu", "Quốc", "Hải")
GIVEN = ("An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Khánh", "Linh", "Nam", "Phúc", "Quân", "Thảo", "Yến")
CLASSES = ("CNTT1", "CNTT2", "CNTT3", "KTPM1", "HTTT1")
#: Times a throttled insert is retried, a second apart (a daily quota's 429 is not retried).
THROTTLE_RETRIES = 10


def sample_students(count: int) -> list[dict[str, str]]:
    students = []
    for number in range(1, count + 1):
        if number == 1:
            student = dict(FIRST)
        else:
            name = " ".join((FAMILY[number % len(FAMILY)], MIDDLE[number % len(MIDDLE)], GIVEN[number % len(GIVEN)]))
            student = {
                "studentid": f"SV{number:03d}",
                "name": name,
                "class": CLASSES[number % len(CLASSES)],
                "birthdate": f"{1998 + number % 6}-{1 + number % 12:02d}-{1 + number % 28:02d}",
            }
        student["email"] = f"{student['studentid'].lower()}@example.com"
        students.append(student)
    return students


def seed(config: AppConfig, count: int) -> None:
    key, url = api_key(config), f"{invoke_url(config)}/students"
    # One sign-in: 999 students take well under the tokens' lifetime (staff_token_validity_minutes).
    token = staff_id_token(config)
    added = existing = unsent = 0
    for student in sample_students(count):
        status, body = call(url, method="POST", body=student, key=key, token=token)
        for _ in range(THROTTLE_RETRIES):
            if status != 429 or body != {"message": "Too Many Requests"}:
                break
            time.sleep(1)  # the usage plan's rate: its bucket refills every second
            status, body = call(url, method="POST", body=student, key=key, token=token)
        if status == 201:
            added += 1
            unsent += not body.get("emailSent")
            print(f"  added {student['studentid']} {student['name']}")
        elif status == 409:
            existing += 1
        else:
            raise OpsError(f"{student['studentid']}: {status} {body}")
    print(f"==> seed: {added} added, {existing} already there ({url})")
    if unsent:
        print(
            f"    {unsent} confirmation e-mail(s) not sent: the sample addresses are not verified, and SES's sandbox"
            " sends only to verified ones (make verify-email EMAIL=... verifies one)"
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="how many (default 20)")
    args = parser.parse_args(argv)

    def operation(config: AppConfig) -> None:
        if not 1 <= args.count <= 999:
            raise OpsError("--count (N) must be from 1 to 999")
        seed(config, args.count)

    return run_operation(operation)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
