"""schemathesis hooks for bench/fuzz_api.py: every generated request runs as the instance
admin, so the fuzzer reaches past authentication into each operation.

A fuzzed `DELETE /v1/sessions/current` ends the session; schemathesis then sees a 401 and
asks `get` again (its default `retry_on`), so one such request does not blind the rest.
"""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

import schemathesis

BASE_URL = os.environ["FUZZ_BASE_URL"]
LOGIN = os.environ["FUZZ_LOGIN"]
PASSWORD = os.environ["FUZZ_PASSWORD"]
LOGINS_FILE = os.environ["FUZZ_LOGINS_FILE"]  # one line per login, for the request count


@schemathesis.auth()
class AdminSession:
    def get(self, case: Any, ctx: Any) -> str:
        body = json.dumps({"loginName": LOGIN, "password": PASSWORD}).encode()
        request = urllib.request.Request(
            f"{BASE_URL}/v1/sessions", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            token = json.load(reply)["token"]
        with open(LOGINS_FILE, "a") as logins:
            logins.write("login\n")
        return token

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
