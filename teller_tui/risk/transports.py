"""How a notification leaves the bank: SMTP (e-mail) and an HTTP webhook (the SMS gateway).

Both carry the outbox row's ``message_id`` so the receiver can drop a repeat: e-mail as the
``Message-ID`` header (``<id@domain>``) and ``X-Teller-Message-Id``; the webhook as the
``Idempotency-Key`` header and the ``message_id`` field of its JSON body. A transport raises
:class:`DeliveryError` (``retry`` says whether trying again can help) and nothing else on failure.
"""

from __future__ import annotations

import json
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

from teller_tui.common.masks import mask_url

__all__ = ["DeliveryError", "Outgoing", "SmtpTransport", "Transport", "WebhookTransport"]


class DeliveryError(Exception):
    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True, slots=True)
class Outgoing:
    message_id: str
    event: str
    locale: str
    address: str
    subject: str
    body: str


class Transport(Protocol):
    def send(self, message: Outgoing) -> None: ...


@dataclass(frozen=True, slots=True)
class SmtpTransport:
    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0

    def send(self, message: Outgoing) -> None:
        mail = EmailMessage()
        domain = self.sender.rpartition("@")[2] or "teller.invalid"
        mail["Message-ID"] = f"<{message.message_id}@{domain}>"
        mail["X-Teller-Message-Id"] = message.message_id
        mail["From"], mail["To"], mail["Subject"] = self.sender, message.address, message.subject
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail.set_content(message.body, charset="utf-8")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"SMTP refused the recipient: {_first_code(exc.recipients)}", retry=False) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP {exc.smtp_code}", retry=exc.smtp_code < 500) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {type(exc).__name__}") from None


def _first_code(recipients: dict[str, tuple[int, bytes]]) -> str:
    for code, _text in recipients.values():
        return str(code)
    return "?"


@dataclass(frozen=True, slots=True)
class WebhookTransport:
    url: str
    token: str = ""
    timeout: float = 10.0

    def send(self, message: Outgoing) -> None:
        body = json.dumps({"message_id": message.message_id, "to": message.address, "text": message.body,
                           "event": message.event, "locale": message.locale}, ensure_ascii=False).encode()
        req = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "Idempotency-Key": message.message_id})
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - URL from settings
                resp.read(4096)
        except urllib.error.HTTPError as exc:
            if exc.code == 409:  # the gateway already has this message id: delivered before
                return
            raise DeliveryError(f"HTTP {exc.code} from {mask_url(self.url)}",
                                retry=exc.code >= 500 or exc.code == 429) from None
        except (urllib.error.URLError, socket.timeout, OSError) as exc:
            raise DeliveryError(f"{mask_url(self.url)}: {type(exc).__name__}") from None
