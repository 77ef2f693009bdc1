"""Customer notifications, written in the event's own transaction (the durable outbox).

Public API::

    outbox = Outbox(clock, templates=Templates.load(), locale="zh_CN", bank_name="...")   # services.outbox
    notify_entry(s, outbox, entry_result)              # a posting's notices: teller_tui.notify.postings
    outbox.enqueue(s, event="posting", event_key=f"entry:{entry_id}", customer_id=..., params={...})
    views = outbox.for_customer(s, customer_id)        # -> [NotificationView] (the customer view shows them)
    contacts.set_contact(...)                          # consent per channel: teller_tui.risk.notify_service

``enqueue`` runs inside the caller's write transaction: the row commits with the posting, freeze or
device change, or not at all. One row per channel (SMS to the customer's phone unless opted out;
e-mail only to an address recorded with consent); a channel without consent gets a ``skipped`` row,
so every event has exactly one recorded outcome per channel. The message goes out in the customer's
preferred language when one is recorded (:mod:`teller_tui.notify.preferences`), else the bank's. Queuing the same ``event_key`` twice
(a retried transaction) changes nothing. Delivery: :mod:`teller_tui.risk.sender`.
Events: postings, freeze/unfreeze, lost-phone block, new device, PIN locked/unlocked/reset/changed,
authenticator set up/removed.
"""

from __future__ import annotations

import json
import string
import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from teller_tui.common.clock import BRANCH_TZ, Clock
from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import N_, _
from teller_tui.common.masks import mask_wallet
from teller_tui.common.paths import data_file
from teller_tui.common.text import clean_text
from teller_tui.db import lean
from teller_tui.models import Customer, CustomerContact, OutboxMessage
from teller_tui.models.notify import Channel, OutboxStatus
from teller_tui.models.cases import CustomerNeeds
from teller_tui.notify.preferences import customer_prefs, remember_needs

def _table(model: Any) -> Any:
    return model.__table__


@cache
def _customer_stmt(c: Any, n: Any) -> Any:
    return (select(c.c.phone, n.c.customer_id.label("has_needs"), n.c.preferred_language, n.c.low_vision,
                   n.c.elderly)
            .select_from(c.outerjoin(n, n.c.customer_id == c.c.id)).where(c.c.id == bindparam("c")))


@cache
def _contacts_stmt() -> Any:
    cc = _table(CustomerContact)
    return select(cc.c.channel, cc.c.address, cc.c.consent).where(cc.c.customer_id == bindparam("c"))


@cache
def _insert_once_for(dialect: str) -> Any:
    table = _table(OutboxMessage)
    stmt = (pg_insert(table) if dialect == "postgresql" else sqlite_insert(table))
    return stmt.on_conflict_do_nothing(index_elements=["event_key", "channel"]).returning(table.c.id)


def _insert_once(s: Session) -> Any:
    return _insert_once_for(lean.dialect_name(s))


__all__ = ["EVENTS", "LOCALES", "NotificationView", "Outbox", "Rendered", "Templates", "status_label"]

#: Each event -> the placeholders its templates may use.
EVENTS: dict[str, frozenset[str]] = {
    "posting": frozenset({"bank", "wallet", "action", "amount", "balance", "reference", "at"}),
    "freeze": frozenset({"bank", "wallet", "at"}),
    "unfreeze": frozenset({"bank", "wallet", "at"}),
    "device": frozenset({"bank", "wallet", "at"}),
    "block": frozenset({"bank", "wallet", "at", "case"}),
    "pin_lock": frozenset({"bank", "at"}),
    "pin_unlock": frozenset({"bank", "at"}),
    "pin_reset": frozenset({"bank", "at"}),
    "pin_change": frozenset({"bank", "at"}),
    "pin_change_branch": frozenset({"bank", "at"}),
    "totp_enrol": frozenset({"bank", "at"}),
    "totp_remove": frozenset({"bank", "at"}),
}
LOCALES = ("zh_CN", "en")
#: The longest a value may be once cleaned (a customer-typed memo never reaches a template whole).
VALUE_LIMIT = 64

#: The ``action`` of a posting in each language (templates are data: no gettext at delivery time).
ACTIONS: dict[str, dict[str, str]] = {
    "cash_in": {"en": "cash in", "zh_CN": "现金存入"},
    "cash_out": {"en": "cash out", "zh_CN": "现金支取"},
    "transfer_out": {"en": "transfer out", "zh_CN": "转出"},
    "transfer_in": {"en": "transfer in", "zh_CN": "转入"},
    "linked_top_up": {"en": "top-up from your linked account", "zh_CN": "从绑定账户充值"},
    "linked_withdraw": {"en": "withdrawal to your linked account", "zh_CN": "提现至绑定账户"},
}

STATUS_LABELS = {OutboxStatus.PENDING: N_("waiting"), OutboxStatus.SENT: N_("sent"),
                 OutboxStatus.FAILED: N_("failed"), OutboxStatus.SKIPPED: N_("not sent (no consent)")}


def status_label(status: str) -> str:
    return _(STATUS_LABELS[OutboxStatus(status)]) if status in set(OutboxStatus) else status


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class Templates:
    table: Mapping[tuple[str, str], tuple[str, str]]  # (event, locale) -> (subject, body)

    @classmethod
    def load(cls, path: Path | None = None) -> Templates:
        path = path or data_file("notify_templates.toml")
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValidationError(_("{file}: cannot read the notification templates ({error})").format(
                file=path, error=exc), code="notify_templates") from None
        return cls.from_dict(data, origin=str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, object], *, origin: str = "notify_templates.toml") -> Templates:
        table: dict[tuple[str, str], tuple[str, str]] = {}
        for event, allowed in EVENTS.items():
            per_locale = data.get(event)
            for locale in LOCALES:
                entry = per_locale.get(locale) if isinstance(per_locale, dict) else None
                if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("subject", "body")):
                    raise ValidationError(_("{file}: {event}.{locale} needs a subject and a body").format(
                        file=origin, event=event, locale=locale), code="notify_templates")
                for text in (entry["subject"], entry["body"]):
                    try:
                        used = {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}
                    except ValueError as exc:
                        raise ValidationError(f"{origin}: {event}.{locale}: {exc}", code="notify_templates") from None
                    unknown = used - allowed
                    if unknown or any(not n for n in used):
                        raise ValidationError(_("{file}: {event}.{locale} uses unknown placeholders: {names}").format(
                            file=origin, event=event, locale=locale, names=", ".join(sorted(unknown)) or "{}"),
                            code="notify_templates")
                table[(event, locale)] = (entry["subject"], entry["body"])
        return cls(table)

    def render(self, event: str, locale: str, params: Mapping[str, object]) -> Rendered:
        """The message in ``locale`` (English when unknown); every value cleaned to one short line."""
        locale = locale if locale in LOCALES else "en"
        subject, body = self.table[(event, locale)]
        values = {k: clean_text(str(params.get(k, "")), limit=VALUE_LIMIT) for k in EVENTS[event]}
        if values.get("action") in ACTIONS:
            values["action"] = ACTIONS[values["action"]][locale]
        return Rendered(clean_text(subject.format_map(values), limit=200), clean_text(body.format_map(values),
                                                                                     limit=480))


@dataclass(frozen=True, slots=True)
class NotificationView:
    id: int
    message_id: str
    event: str
    channel: str
    address: str  # masked
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str


class Outbox:
    def __init__(self, clock: Clock, *, templates: Templates, locale: str, bank_name: str) -> None:
        self.clock, self.templates, self.locale, self.bank_name = clock, templates, locale, bank_name

    def tell(self, s: Session, event: str, *, key: str, customer_id: int, wallet_number: str = "") -> list[int]:
        """Queue a non-posting event (freeze, block, device, PIN locked/unlocked/reset) stamped now;
        ``key`` makes the event's de-duplication key ``<event>:<key>``."""
        at = self.clock.now().astimezone(BRANCH_TZ).strftime("%Y-%m-%d %H:%M")
        params = {"at": at, **({"wallet": mask_wallet(wallet_number)} if wallet_number else {})}
        return self.enqueue(s, event=event, event_key=f"{event}:{key}", customer_id=customer_id, params=params)

    def enqueue(self, s: Session, *, event: str, event_key: str, customer_id: int,
                params: Mapping[str, object]) -> list[int]:
        """Queue ``event`` for the customer on every channel (inside the caller's transaction); the ids."""
        if event not in EVENTS:
            raise ValueError(f"unknown notification event {event!r}")
        c, n = _table(Customer), _table(CustomerNeeds)
        # The phone and the needs, in one read.
        cust = lean.first(s, _customer_stmt(c, n), {"c": customer_id})
        if cust is None:
            return []
        remember_needs(s, customer_id, None if cust.has_needs is None else (cust.preferred_language or ""),
                       cust.low_vision, cust.elderly)
        contacts = {c.channel: c for c in lean.all_rows(s, _contacts_stmt(), {"c": customer_id})}
        now = self.clock.now()
        locale = customer_prefs(s, customer_id, self.locale).locale  # the customer's language, if recorded
        clean = {k: clean_text(str(v), limit=VALUE_LIMIT) for k, v in {"bank": self.bank_name, **params}.items()
                 if k in EVENTS[event]}
        ids: list[int] = []
        for channel in (Channel.SMS, Channel.EMAIL):
            contact = contacts.get(channel)
            if channel == Channel.SMS:
                address = (contact.address if contact and contact.address else cust.phone) or ""
                consent = contact.consent if contact else True
            else:
                address = contact.address if contact else ""
                consent = bool(contact and contact.consent and contact.address)
                if contact is None:
                    continue  # no e-mail on file: nothing to record
            # Queued once per (event key, channel): a second queuing of the same key inserts nothing.
            row_id = lean.scalar(s, _insert_once(s), dict(
                message_id=uuid.uuid4().hex, event=event, event_key=event_key[:96], customer_id=customer_id,
                channel=channel, address=address[:254], locale=locale,
                params_json=json.dumps(clean, sort_keys=True, ensure_ascii=False),
                status=OutboxStatus.PENDING if consent and address else OutboxStatus.SKIPPED, attempts=0,
                next_attempt_at=now, claim="", claimed_until=None, last_error="", created_at=now,
                sent_at=None), insert=True)
            if row_id is not None:
                ids.append(int(row_id))
        return ids
