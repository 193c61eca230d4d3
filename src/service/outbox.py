"""Mail delivery for password resets: `log` (development), `file:PATH` or `smtp://host:port`."""

from __future__ import annotations

import json
import logging
import smtplib
import threading
from dataclasses import dataclass
from email.message import EmailMessage
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
    """Logs that a mail was sent, never its body (a reset secret) nor its recipient (personal
    data that must be erasable, CONTRACTS §6)."""

    def send(self, mail: Mail) -> None:
        log.info("mail: %s (recipient and body withheld from the log)", mail.subject)


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


class SmtpOutbox:
    """Plain SMTP to a relay (e.g. a local MTA that handles TLS and delivery)."""

    def __init__(self, host: str, port: int, sender: str = "credledger@localhost") -> None:
        self.host, self.port, self.sender = host, port, sender

    def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, mail.to, mail.subject
        message.set_content(mail.body)
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            smtp.send_message(message)
        log.info("mail sent via smtp://%s:%s: %s", self.host, self.port, mail.subject)


def outbox_from_setting(setting: str) -> Outbox:
    if setting == "log":
        return LogOutbox()
    if setting.startswith("file:"):
        return FileOutbox(Path(setting.removeprefix("file:")))
    if setting.startswith("smtp://"):
        host, _, port = setting.removeprefix("smtp://").rstrip("/").partition(":")
        return SmtpOutbox(host or "127.0.0.1", int(port or 25))
    raise ValueError(
        f"unsupported mail outbox {setting!r}: use 'log', 'file:PATH' or 'smtp://host:port'"
    )
