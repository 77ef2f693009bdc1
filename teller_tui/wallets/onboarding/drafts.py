"""Onboarding drafts: what is kept of a half-finished wizard, and what never is.

Drafts never hold the PIN (only ``security.pin_set``), nor the card or account number (a
masked hint only; the teller types it again on resume), nor a TOTP secret in clear (the
service encrypts it with the SecretBox, bound to the draft id: :data:`DRAFT_TOTP_CONTEXT`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from teller_tui.common.masks import mask_card, mask_document_number, mask_name
from teller_tui.wallets.onboarding.steps import DOC_NONE, STEPS, section

__all__ = ["DRAFT_TOTP_CONTEXT", "DraftInfo", "DraftState", "draft_data", "draft_label"]

DRAFT_TOTP_CONTEXT = "onboarding_draft:{id}:totp"


@dataclass(frozen=True, slots=True)
class DraftInfo:
    draft_id: int
    branch: str
    step: str
    label: str
    created_by: str
    updated_by: str
    updated_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class DraftState:
    info: DraftInfo
    data: dict[str, dict[str, Any]]
    totp_secret: str | None


def draft_data(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A copy safe to store: no PIN (only whether it was set), no TOTP secret in clear."""
    out: dict[str, dict[str, Any]] = {}
    for step, sec in data.items():
        if step not in STEPS or not isinstance(sec, Mapping):
            continue
        clean = {k: v for k, v in sec.items() if isinstance(v, str | int | float | bool | type(None))}
        if step == "security":
            for k in list(clean):
                if k not in ("pin_set", "totp", "totp_confirmed"):
                    del clean[k]
        if step == "funding" and clean.get("number"):
            # Never the card/account number: a masked hint only; the teller types it again on resume.
            digits = "".join(ch for ch in str(clean.pop("number")) if ch.isdigit())
            clean["number"] = ""
            clean["number_hint"] = mask_card(digits) if digits else ""
        out[step] = clean
    return out


def draft_label(data: Mapping[str, Any]) -> str:
    name = str(section(data, "personal").get("full_name") or "")
    ident = section(data, "identity")
    parts = []
    if name:
        try:
            parts.append(mask_name(name))
        except Exception:  # noqa: BLE001 - a label never blocks saving
            parts.append("*")
    number = str(ident.get("number") or "")
    if number and ident.get("doc_type") not in (None, DOC_NONE):
        try:
            parts.append(mask_document_number(number, ident.get("doc_type") or "prc_id"))
        except ValueError:
            parts.append("*" * len(number))
    return " · ".join(parts)[:120]
