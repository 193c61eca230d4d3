"""Mail delivery for password resets: `log` (development) or `file:PATH`."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger("credledger.outbox")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class Outbox(Protocol):
    def send(self, mail: Mail) -> None: ...


class LogOutbox:
    """Logs that a mail was sent, never its body: the body carries a reset secret."""

    def send(self, mail: Mail) -> None:
        log.info("mail to %s: %s (body withheld from the log)", mail.to, mail.subject)


class FileOutbox:
    """Appends each mail as one JSON line; the operator chose this file as the channel."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, mail: Mail) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"to": mail.to, "subject": mail.subject, "body": mail.body})
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def outbox_from_setting(setting: str) -> Outbox:
    if setting == "log":
        return LogOutbox()
    if setting.startswith("file:"):
        return FileOutbox(Path(setting.removeprefix("file:")))
    raise ValueError(f"unsupported mail outbox {setting!r}: use 'log' or 'file:PATH'")
