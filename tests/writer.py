"""A separate process that records trials through the app's own form.

Run as ``python tests/writer.py DATABASE_URL CODE COUNT GO_FILE PASSWORD``: it
logs in as the ``therapist`` user and waits for GO_FILE to appear, so several
writers start together.
"""

import sys
import time
from datetime import date
from pathlib import Path

from tracker import create_app


def main(database_url: str, code: str, count: int, go_file: str, password: str):
    app = create_app(
        {
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
        }
    )
    client = app.test_client()
    response = client.post(
        "/auth/login", data={"username": "therapist", "password": password}
    )
    assert response.status_code == 302, response.text
    response = client.post("/patients/new", data={"code": code})
    assert response.status_code == 302, response.text
    patient_url = response.headers["Location"]
    while not Path(go_file).exists():
        time.sleep(0.01)
    for number in range(count):
        # As a browser does: the form first, so reads and writes interleave.
        assert client.get(f"{patient_url}/trials/new").status_code == 200
        response = client.post(
            f"{patient_url}/trials/new",
            data={
                "trial_date": date.today().isoformat(),
                "activity": "stairs_down",
                "intervention": "taping",
                "pain_without": str(number % 11),
                "pain_with": "2",
            },
        )
        if response.status_code != 302:
            sys.exit(f"trial {number} was not saved: {response.status_code}")
        print(number, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
