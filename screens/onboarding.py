"""The onboarding wizard: a new customer and their wallet, step by step.

Left: the step list (``✓`` done, ``▶`` current, ``!`` needs attention: marks, not colour alone)
and a progress bar. Right: one pane per step in a ``ContentSwitcher``. Keys: ctrl+n / Enter
next, ctrl+b / PgUp back, ctrl+s save as draft, Esc asks whether to keep a draft.

Every step change validates in a thread worker (the core rules: ``services.onboarding``; the
identity step also looks for a duplicate document and offers to open that customer) and then
saves the draft in another thread worker. Drafts never hold the PIN: after a resume the
customer types it again. Issuing runs in a worker too and shows the welcome sheet.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widgets import (
    Button,
    Checkbox,
    ContentSwitcher,
    Input,
    OptionList,
    ProgressBar,
    Select,
    Static,
)
from textual.widgets.option_list import Option

from teller_tui.common.i18n import N_, _

from .widgets.tickbox import TickBox
from .widgets.footer import KeyFooter
from .base import TellerModal, TellerScreen
from .commands import PaletteCommand, register_command
from .widgets.desk import DeskScreenMixin, error_text
from .widgets.safe import clean
from .refusal_text import refusal_text

if TYPE_CHECKING:
    from teller_tui.wallets.onboarding import DraftInfo, DraftState, IssueResult, TotpEnrolment

__all__ = ["LeaveOnboardingScreen", "OnboardingScreen", "open_onboarding"]

CSS_FILE = Path(__file__).resolve().parent / "onboarding.tcss"

DOC_TYPES = {
    "prc_id": N_("Resident identity card"),
    "passport": N_("Passport"),
    "hk_macau_permit": N_("Mainland travel permit for Hong Kong and Macao residents"),
    "taiwan_permit": N_("Mainland travel permit for Taiwan residents"),
    "none": N_("No document (anonymous class 4 wallet)"),
}
LINK_KINDS = {"none": N_("No funding source"), "card": N_("Bank card"), "account": N_("Bank account")}
SEX_CHOICES = {"": N_("(from the ID)"), "F": N_("Female"), "M": N_("Male")}

#: (step, field) -> widget kind; ids are "<step>-<field>".
FIELDS: dict[str, list[tuple[str, str, str]]] = {
    # (field, kind, label msgid); kinds: input, secret, check, select:<choices>, tier
    "identity": [("doc_type", "select:doc", N_("Document")), ("number", "input", N_("Document number")),
                 ("expiry", "input", N_("Valid until (YYYY-MM-DD; empty for long-term ID cards)")),
                 ("country", "input", N_("Issuing country (passports, e.g. CHN)")),
                 ("in_person", "check", N_("I checked the original document with the customer in person"))],
    "personal": [("full_name", "input", N_("Full name (Chinese or latin)")),
                 ("name_latin", "input", N_("Latin spelling / pinyin (optional)")),
                 ("birth_date", "input", N_("Birth date (YYYY-MM-DD; taken from a resident ID)")),
                 ("sex", "select:sex", N_("Sex")), ("nationality", "input", N_("Nationality (e.g. CHN)")),
                 ("address", "input", N_("Address")), ("occupation", "input", N_("Occupation"))],
    "contact": [("phone", "input", N_("Mobile number (mainland by default; +852... for others)")),
                ("phone_confirmed", "check", N_("The customer confirmed the number (read back or test code)"))],
    "risk": [("purpose", "select:purpose", N_("What the wallet is for")),
             ("monthly", "select:monthly", N_("Expected amount per month")),
             ("pep", "check", N_("Politically exposed person, or a close relative of one"))],
    "tier": [("tier", "tier", N_("Wallet class"))],
    "funding": [("kind", "select:link", N_("Funding source")), ("number", "input", N_("Card or account number")),
                ("bank_name", "input", N_("Bank (accounts only; cards are looked up)")),
                ("holder_name", "input", N_("Holder name (empty: the customer)"))],
    "security": [("pin", "secret", N_("Wallet PIN (6 digits, typed by the customer)")),
                 ("pin_again", "secret", N_("PIN again")),
                 ("totp", "check", N_("Also use an authenticator app (optional)")),
                 ("totp_code", "input", N_("Code shown in the customer's app"))],
    "explanations": [],  # built from teller_tui.wallets.onboarding.EXPLANATIONS
    "review": [("consent", "check", N_("The customer agreed to the terms and to the use of their data"))],
}
#: What F10 confirms on each step (the box it ticks), shown under the step's fields.
CONFIRM_NOTES = {
    "identity": N_("F10: you checked the original document in person, and go on"),
    "contact": N_("F10: the customer confirmed the number, and go on"),
    "review": N_("F10: the customer agrees, and the wallet is issued"),
}
CONFIRM_BOXES = {"identity": ("in_person",), "contact": ("phone_confirmed",), "review": ("consent",)}
#: Fields the core fills in when left empty (written back after the step is checked).
DERIVED_FIELDS = {"personal": ("name_latin", "birth_date", "sex", "nationality")}
#: Fields never put into ``data`` (kept only in widgets).
SECRET_FIELDS = {("security", "pin"), ("security", "pin_again"), ("security", "totp_code")}



def _offers(action: str) -> Any:
    """Offered when the screen the palette was opened over has ``action_<action>``."""

    def available(app: Any) -> bool:
        from textual.command import CommandPalette

        below = next((sc for sc in reversed(app.screen_stack) if not isinstance(sc, CommandPalette)), None)
        return hasattr(below, f"action_{action}")

    return available


register_command(PaletteCommand("onboarding_new", N_("New customer and wallet"), "screen.new_customer",
                                N_("Open a wallet for a new customer, step by step"), available=_offers("new_customer")))
register_command(PaletteCommand("onboarding_drafts", N_("Resume an onboarding draft"), "screen.onboarding_drafts",
                                N_("Interrupted onboardings of this branch"), available=_offers("onboarding_drafts")))
register_command(PaletteCommand("wallet_actions", N_("Wallet actions…"), "screen.wallet_actions",
                                N_("Freeze, unfreeze, change class, replace device, close"),
                                available=_offers("wallet_actions")))


def open_onboarding(app: Any, draft: DraftState | None = None) -> None:
    """Push the wizard (fresh, or resuming ``draft``)."""
    app.push_screen(OnboardingScreen(draft=draft))


class StepValidator(Validator):
    """A textual Validator wrapping the core rule of one step: fails when the core names this field."""

    def __init__(self, screen: OnboardingScreen, step: str, field: str) -> None:
        super().__init__()
        self.screen, self.step, self.field = screen, step, field

    def validate(self, value: str) -> ValidationResult:
        from teller_tui.common.errors import ValidationError
        from teller_tui.wallets.onboarding import validate_section

        if not value.strip():
            return self.success()  # "required" is reported on Next, not while typing
        data = self.screen.collect()
        data[self.step][self.field] = value
        try:
            kw: dict[str, Any] = {}
            if self.step == "security":
                kw = {"pin": value if self.field == "pin" else self.screen.value("security", "pin")}
            validate_section(self.step, data, today=self.screen.today, tiers=self.screen.tier_table, **kw)
        except ValidationError as exc:
            if exc.details.get("field") == self.field:
                return self.failure(refusal_text(exc))
        except Exception:  # noqa: BLE001 - other fields' state is not this field's problem
            return self.success()
        return self.success()


class OnboardingScreen(DeskScreenMixin, TellerScreen[int | None]):
    """Dismisses with the new customer's id (or None when left)."""

    CSS_PATH = CSS_FILE
    BINDINGS = [
        Binding("ctrl+n", "next", N_("Next"), id="onboarding.next", priority=True),
        Binding("ctrl+b", "back", N_("Back"), id="onboarding.back", priority=True),
        Binding("pageup", "back", N_("Back"), id="onboarding.back_pgup", show=False, priority=True),
        Binding("ctrl+s", "save_draft", N_("Save draft"), id="onboarding.save", priority=True),
        Binding("escape", "leave", N_("Leave"), id="onboarding.leave"),
        Binding("f10", "confirm", N_("Confirm, go on"), id="onboarding.confirm"),
        Binding("f8", "print_sheet", N_("Print sheet"), id="onboarding.print"),
        *(Binding(str(n), f"pick_tier({n})", show=False, id=f"onboarding.tier{n}") for n in range(1, 5)),
    ]
    HELP = N_(
        "## New customer\n\n"
        "- **ctrl+n** or **Enter** next step (checks this step first)\n"
        "- **F10** confirm and go on: the document was seen in person, the number read back, "
        "everything explained, the customer consents (then the wallet is issued)\n"
        "- **1**-**4** on the class list: choose that class\n"
        "- **ctrl+b** or **PgUp** back (nothing typed is lost)\n"
        "- **ctrl+s** save as a draft; any teller of the branch can resume it from the drafts list\n"
        "- **Esc** leave (asks whether to keep a draft)\n\n"
        "The PIN is typed by the customer and is never saved in a draft."
    )

    class Validated(Message):
        def __init__(self, step: str, section: dict[str, Any] | None, error: BaseException | None,
                     forward: bool) -> None:
            super().__init__()
            self.step, self.section, self.error, self.forward = step, section, error, forward

    class Saved(Message):
        def __init__(self, info: DraftInfo | None, error: BaseException | None, announce: bool) -> None:
            super().__init__()
            self.info, self.error, self.announce = info, error, announce

    class Issued(Message):
        def __init__(self, result: IssueResult | None, error: BaseException | None, step: str | None,
                     sheet: str = "") -> None:
            super().__init__()
            self.result, self.error, self.step, self.sheet = result, error, step, sheet

    class Enrolled(Message):
        def __init__(self, enrolment: TotpEnrolment | None, error: BaseException | None) -> None:
            super().__init__()
            self.enrolment, self.error = enrolment, error

    def __init__(self, draft: DraftState | None = None) -> None:
        super().__init__()
        from teller_tui.wallets.onboarding import STEPS, blank_data

        self.steps = STEPS
        self.data: dict[str, dict[str, Any]] = blank_data()
        self.draft_id: int | None = None
        self.totp_secret: str | None = None
        self.index = 0
        self.done: set[str] = set()
        self.attention: set[str] = set()
        self.result: IssueResult | None = None
        self.idempotency_key = uuid.uuid4().hex
        self._save_lock = threading.Lock()
        self._busy = False
        self._resume = draft
        if draft is not None:
            for step, sec in draft.data.items():
                if step in self.data and isinstance(sec, dict):
                    self.data[step].update(sec)
            self.draft_id = draft.info.draft_id
            self.totp_secret = draft.totp_secret
            self.index = STEPS.index(draft.info.step) if draft.info.step in STEPS[:-2] else 0
            self.done = set(STEPS[: self.index]) - {"security"}
            if self.data["security"].get("pin_set"):
                self.attention.add("security")  # the PIN must be typed again

    # -- wiring -----------------------------------------------------------------------------
    @property
    def today(self) -> Any:
        return self.services.onboarding.today()

    @property
    def tier_table(self) -> Any:
        return self.services.onboarding.tiers

    @property
    def step(self) -> str:
        return self.steps[self.index]

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        from teller_tui.wallets.onboarding import EXPLANATIONS, MONTHLY_BANDS, PURPOSES

        choices = {"doc": DOC_TYPES, "sex": SEX_CHOICES, "purpose": PURPOSES, "monthly": MONTHLY_BANDS,
                   "link": LINK_KINDS}
        with Horizontal(id="onb-body"):
            with Vertical(id="onb-side"):
                yield Static(Content(_("New customer")), id="onb-title")
                yield ProgressBar(total=len(self.steps), show_eta=False, show_percentage=False, id="onb-progress")
                yield Static("", id="onb-progress-text")
                yield OptionList(id="onb-steps")
            with Vertical(id="onb-main"):
                yield Static("", id="onb-step-title")
                with ContentSwitcher(initial=f"pane-{self.step}", id="onb-panes"):
                    for step in self.steps:
                        with VerticalScroll(id=f"pane-{step}", classes="onb-pane"):
                            yield from self._pane(step, choices, EXPLANATIONS)
                yield Static("", id="onb-status")
        yield KeyFooter()

    def _pane(self, step: str, choices: dict[str, dict[str, str]], explanations: dict[str, str]) -> ComposeResult:
        if step == "explanations":
            yield Static(Content(_("Explain each item to the customer, then F10 marks them all explained "
                                   "(or tick them one by one):")), classes="onb-note")
            for key, label in explanations.items():
                yield TickBox(_(label), bool(self.data["explanations"].get(key)), id=f"explanations-{key}")
            return
        if step == "review":
            yield Static("", id="review-summary", classes="onb-summary")
        if step == "tier":
            yield Static("", id="tier-intro", classes="onb-note")
            yield OptionList(id="tier-tier")
            yield Static("", id="tier-limits", classes="onb-summary")
            return
        if step == "issue":
            yield Static(Content(_("Everything is checked. Issue the wallet now? (ctrl+n or the button)")),
                         classes="onb-note", id="issue-note")
            yield Button(_("Issue wallet"), id="issue-go", variant="primary")
            return
        if step == "welcome":
            yield Static("", id="welcome-sheet", classes="onb-sheet")
            with Horizontal(classes="onb-buttons"):
                yield Button(_("Print / save sheet (F8)"), id="welcome-print")
                yield Button(_("Open customer"), id="welcome-customer", variant="primary")
            return
        for field, kind, label in FIELDS.get(step, []):
            wid = f"{step}-{field}"
            value = self.data.get(step, {}).get(field)
            if kind == "check":
                yield TickBox(_(label), bool(value), id=wid)
            elif kind.startswith("select:"):
                options = [(_(text), key) for key, text in choices[kind.split(":", 1)[1]].items()]
                keys = [k for _t, k in options]
                yield Static(Content(_(label)), classes="onb-label", id=f"label-{wid}")
                yield Select(options, value=value if value in keys else keys[0], allow_blank=False, id=wid)
            else:
                yield Static(Content(_(label)), classes="onb-label", id=f"label-{wid}")
                secret = kind == "secret"
                validators = [] if field == "totp_code" else [StepValidator(self, step, field)]
                yield Input(value="" if secret or value is None else str(value), password=secret, id=wid,
                            max_length=6 if secret else 0, validators=validators, valid_empty=True,
                            restrict=r"[0-9]*" if secret else None)
            if (step, field) == ("funding", "number"):
                hint = self.data["funding"].get("number_hint")
                yield Static(Content(_("Saved draft had {card}: type the number again").format(card=hint))
                             if hint else "", id="funding-bank", classes="onb-note")
            if (step, field) == ("security", "totp"):
                yield Static("", id="security-qr", classes="onb-qr")
        if step in CONFIRM_NOTES:
            yield Static(Content(_(CONFIRM_NOTES[step])), classes="onb-note")
        if step == "security":
            note = _("The PIN was set before this draft was saved: ask the customer to type it again.") \
                if self.data["security"].get("pin_set") else ""
            yield Static(Content(note), id="security-note", classes="onb-note")

    def on_mount(self) -> None:
        self._show_country(self.data["identity"].get("doc_type") == "passport")
        self._refresh_steps()
        self._enter_step()
        if self.totp_secret:
            self._show_qr_for_secret(self.totp_secret)

    # -- reading and writing the widgets -------------------------------------------------------
    def value(self, step: str, field: str) -> Any:
        try:
            w = self.query_one(f"#{step}-{field}")
        except Exception:  # noqa: BLE001
            return None
        if isinstance(w, Checkbox):
            return w.value
        if isinstance(w, Select):
            return None if w.value is Select.BLANK else w.value
        if isinstance(w, Input):
            return w.value
        if isinstance(w, OptionList):
            if w.highlighted is None:
                return None
            return w.get_option_at_index(w.highlighted).id
        return None

    def collect(self) -> dict[str, dict[str, Any]]:
        """The data as typed (no PIN), merged over what was loaded."""
        from teller_tui.wallets.onboarding import EXPLANATIONS

        data = {step: dict(sec) for step, sec in self.data.items()}
        for step, fields in FIELDS.items():
            for field, _kind, _label in fields:
                if (step, field) in SECRET_FIELDS:
                    continue
                v = self.value(step, field)
                if v is not None:
                    data[step][field] = int(v) if (step, field) == ("tier", "tier") and str(v).isdigit() else v
        for key in EXPLANATIONS:
            data["explanations"][key] = bool(self.value("explanations", key))
        return data

    # -- the step list -----------------------------------------------------------------------------
    def _refresh_steps(self) -> None:
        from teller_tui.wallets.onboarding import STEP_TITLES

        ol = self.query_one("#onb-steps", OptionList)
        ol.clear_options()
        for i, step in enumerate(self.steps):
            if i == self.index:
                mark = "▶"
            elif step in self.attention:
                mark = "!"
            elif step in self.done:
                mark = "✓"
            else:
                mark = " "
            ol.add_option(Option(Content(f"{mark} {i + 1:>2}. {_(STEP_TITLES[step])}"), id=step,
                                 disabled=not self._reachable(i)))
        ol.highlighted = self.index
        done = len([s for s in self.steps if s in self.done])
        self.query_one("#onb-progress", ProgressBar).update(progress=done)
        self.query_one("#onb-progress-text", Static).update(
            Content(_("Step {n} of {total} · {done} done").format(n=self.index + 1, total=len(self.steps), done=done)))
        self.query_one("#onb-step-title", Static).update(Content(_(STEP_TITLES[self.step])))

    def _reachable(self, i: int) -> bool:
        if self.result is not None:
            return self.steps[i] == "welcome"
        if self.steps[i] in ("issue", "welcome"):
            return i <= self.index
        return all(s in self.done or s in self.attention for s in self.steps[:i]) or i <= self.index

    @on(OptionList.OptionSelected, "#onb-steps")
    def _jump(self, event: OptionList.OptionSelected) -> None:
        target = self.steps.index(str(event.option.id))
        if target != self.index and self._reachable(target) and not self._busy:
            self.data = self.collect()
            self._go(target)

    def _go(self, index: int) -> None:
        self.index = index
        self.refresh_bindings()
        self.query_one("#onb-panes", ContentSwitcher).current = f"pane-{self.step}"
        self._refresh_steps()
        self._enter_step()
        if self.result is None and self.step not in ("issue", "welcome"):
            self._autosave(announce=False)

    @on(Select.Changed, "#identity-doc_type")
    def _doc_type_changed(self, event: Select.Changed) -> None:
        """The issuing country matters for passports only: hidden otherwise, so the in-person box
        stays in view at 80x24."""
        self._show_country(event.value == "passport")

    def _show_country(self, show: bool) -> None:
        for wid in ("#label-identity-country", "#identity-country"):
            for widget in self.query(wid):
                widget.display = show

    def _enter_step(self) -> None:
        self._status("")
        if self.step == "tier":
            self._fill_tiers()
        elif self.step == "review":
            self._fill_review()
        elif self.step == "funding":
            self._default_link()
            self._show_bank()
        self.call_after_refresh(self._focus_first)

    def _focus_first(self) -> None:
        pane = self.query_one(f"#pane-{self.step}")
        if self.step == "welcome":
            self.query_one("#welcome-customer", Button).focus()
            return
        for w in pane.query(Input):  # where typing starts: the first empty field
            if not w.value and w.focusable and w.display and not w.disabled:
                w.focus()
                return
        for w in pane.query("Input, Select, Checkbox, OptionList, Button"):
            if w.focusable and not w.disabled:
                w.focus()
                return

    def _status(self, text: str, *, error: bool = False) -> None:
        st = self.query_one("#onb-status", Static)
        st.update(Content(clean(text)))
        st.set_class(error, "-error")

    # -- tier and review panes ----------------------------------------------------------------------
    def _fill_tiers(self) -> None:
        from teller_tui.common.formatting import format_money
        from teller_tui.common.i18n import get_locale

        data = self.collect()
        offers = self.services.onboarding.offered_tiers(data)
        ol = self.query_one("#tier-tier", OptionList)
        ol.clear_options()
        chosen = data["tier"].get("tier")
        for offer in offers:
            t = offer.tier
            text = _("{name}: balance up to {cap}, {per} a payment, {day} a day").format(
                name=t.name(get_locale()), cap=format_money(t.balance_cap), per=format_money(t.per_txn),
                day=format_money(t.daily))
            if offer.needs_link:
                text += " " + _("(needs a card or account in the customer's own name)")
            ol.add_option(Option(Content(text), id=str(t.number)))
        if offers:
            numbers = [o.tier.number for o in offers]
            ol.highlighted = numbers.index(chosen) if chosen in numbers else 0
        intro = _("Classes the evidence collected allows. Explain the limits to the customer, then choose.") \
            if offers else _("No class is possible yet: the mobile number must be confirmed (contact step).")
        self.query_one("#tier-intro", Static).update(Content(intro))
        self._show_tier_limits()

    @on(OptionList.OptionHighlighted, "#tier-tier")
    def _show_tier_limits(self, _event: Any = None) -> None:
        from teller_tui.common.formatting import format_money

        n = self.value("tier", "tier")
        if n is None:
            self.query_one("#tier-limits", Static).update("")
            return
        t = self.tier_table.tier(int(n), on=self.today)
        rows = [(_("Balance limit"), format_money(t.balance_cap)), (_("Per payment"), format_money(t.per_txn)),
                (_("Per day"), format_money(t.daily)), (_("Per year"), format_money(t.yearly)),
                (_("Limits in force since"), t.effective_from.isoformat())]
        self.query_one("#tier-limits", Static).update(Content("\n".join(f"{a}: {b}" for a, b in rows)))

    @on(OptionList.OptionSelected, "#tier-tier")
    def _tier_chosen(self, _event: OptionList.OptionSelected) -> None:
        self.action_next()

    def _fill_review(self) -> None:
        """Everything the wallet will be opened with, on one page (a long address wraps; nothing is cut)."""
        from teller_tui.common.i18n import get_locale
        from teller_tui.common.masks import mask_card, mask_document_number, mask_phone
        from teller_tui.wallets.onboarding import EXPLANATIONS, MONTHLY_BANDS, PURPOSES

        d = self.collect()
        ident, pers, fund, risk = d["identity"], d["personal"], d["funding"], d["risk"]
        doc = _(DOC_TYPES.get(ident.get("doc_type") or "", "")) if ident.get("doc_type") else ""
        number = ident.get("number") or ""
        try:
            masked_doc = mask_document_number(number, ident.get("doc_type") or "prc_id") if number else ""
        except ValueError:
            masked_doc = ""
        digits = "".join(ch for ch in str(fund.get("number") or "") if ch.isdigit())
        tier = d["tier"].get("tier")
        try:
            tier_name = self.tier_table.tier(int(tier), on=self.today).name(get_locale()) if tier else ""
        except Exception:  # noqa: BLE001 - shown as the bare number
            tier_name = str(tier or "")
        sex = _(SEX_CHOICES.get(str(pers.get("sex") or ""), "")) if pers.get("sex") else ""
        explained = sum(1 for k in EXPLANATIONS if d["explanations"].get(k))
        phone = d["contact"].get("phone") or ""
        rows: list[list[tuple[str, str]]] = [
            [(_("Document"), f"{doc} {masked_doc}".strip())],
            [(_("Name"), pers.get("full_name", "")), (_("Latin spelling"), pers.get("name_latin", ""))],
            [(_("Birth date"), pers.get("birth_date", "")), (_("Sex"), sex),
             (_("Nationality"), pers.get("nationality", ""))],
            [(_("Address"), pers.get("address", ""))],
            [(_("Occupation"), pers.get("occupation", ""))],
            [(_("Mobile"), mask_phone(phone) if phone else "")],
            [(_("Purpose"), _(PURPOSES.get(risk.get("purpose", ""), "-"))),
             (_("Monthly"), _(MONTHLY_BANDS.get(risk.get("monthly", ""), "-")))],
            [(_("Politically exposed"), _("yes") if risk.get("pep") else _("no"))],
            [(_("Wallet class"), tier_name)],
            [(_("Funding source"), _(LINK_KINDS.get(fund.get("kind", "none"), "")) + (
                " " + mask_card(digits) if digits else ""))],
            [(_("Wallet PIN"), _("set") if self.value("security", "pin") else _("not set")),
             (_("Authenticator app"), _("yes") if d["security"].get("totp") else _("no"))],
            [(_("Explained"), _("{n} of {total}").format(n=explained, total=len(EXPLANATIONS)))],
        ]
        text = "\n".join(" · ".join(f"{clean(a)}: {clean(str(b)) or '-'}" for a, b in row) for row in rows)
        self.query_one("#review-summary", Static).update(Content(text))

    def _default_link(self) -> None:
        """A class that needs the customer's own card or account starts the funding step on "card"."""
        kind = self.query_one("#funding-kind", Select)
        tier = self.data["tier"].get("tier")
        if kind.value != "none" or tier is None:
            return
        offers = {o.tier.number: o for o in self.services.onboarding.offered_tiers(self.collect())}
        offer = offers.get(int(tier))
        if offer is not None and offer.needs_link:
            kind.value = "card"

    # -- funding: show the bank as the number is typed ---------------------------------------------
    @on(Input.Changed, "#funding-number")
    def _show_bank(self, _event: Any = None) -> None:
        from teller_tui.common.errors import ValidationError
        from teller_tui.common.i18n import get_locale
        from teller_tui.wallets.identity import validate_bank_card

        if self.value("funding", "kind") != "card":
            return
        raw = self.value("funding", "number") or ""
        label = self.query_one("#funding-bank", Static)
        if not raw:
            return
        try:
            card = validate_bank_card(raw)
        except ValidationError:
            label.update("")
            return
        label.update(Content(_("Issuing bank: {bank} · {masked}").format(
            bank=card.bank.name(get_locale()), masked=card.masked)))

    # -- TOTP ------------------------------------------------------------------------------------------
    @on(Checkbox.Changed, "#security-totp")
    def _totp_toggled(self, event: Checkbox.Changed) -> None:
        if event.value and self.totp_secret is None:
            self._enrol_worker(self.collect())
        elif not event.value:
            self.totp_secret = None
            self.data["security"]["totp_confirmed"] = False
            self.query_one("#security-qr", Static).update("")

    @work(thread=True, exclusive=True, exit_on_error=False, group="totp")
    def _enrol_worker(self, data: dict[str, Any]) -> None:
        try:
            self.post_message(self.Enrolled(self.services.onboarding.new_totp(data), None))
        except Exception as exc:  # noqa: BLE001
            self.post_message(self.Enrolled(None, exc))

    @on(Enrolled)
    def _enrolled(self, message: Enrolled) -> None:
        if message.error is not None or message.enrolment is None:
            self._status(error_text(message.error or RuntimeError()), error=True)
            return
        self.totp_secret = message.enrolment.secret
        self.data["security"]["totp_confirmed"] = False
        self._show_qr(message.enrolment.qr)

    def _show_qr_for_secret(self, secret: str) -> None:
        from teller_tui.auth.qr import qr_text
        from teller_tui.auth.totp import provisioning_uri
        from teller_tui.common.masks import mask_phone

        phone = self.data["contact"].get("phone") or "wallet"
        try:
            self._show_qr(qr_text(provisioning_uri(secret, mask_phone(phone), _("Digital wallet"))))
        except Exception:  # noqa: BLE001 - the customer can enrol again
            self.totp_secret = None

    def _show_qr(self, qr: str) -> None:
        text = _("Ask the customer to scan this with their authenticator app, then type the code it shows.")
        self.query_one("#security-qr", Static).update(Content(qr + "\n" + text))

    # -- navigation ---------------------------------------------------------------------------------
    def action_confirm(self) -> None:
        """F10: tick what this step asks the teller to confirm (every explanation on that step), then go on."""
        from teller_tui.wallets.onboarding import EXPLANATIONS

        if self._busy or self.step not in (*CONFIRM_BOXES, "explanations"):
            return
        fields = tuple(EXPLANATIONS) if self.step == "explanations" else CONFIRM_BOXES[self.step]
        for field in fields:
            self.query_one(f"#{self.step}-{field}", Checkbox).value = True
        self.action_next()

    def action_pick_tier(self, number: int) -> None:
        """1-4 on the class step: choose that class (when offered) and go on."""
        ol = self.query_one("#tier-tier", OptionList)
        for i in range(ol.option_count):
            if ol.get_option_at_index(i).id == str(number):
                ol.highlighted = i
                self.action_next()
                return
        self._status(_("Class {tier} is not offered for this customer").format(tier=number), error=True)

    def action_next(self) -> None:
        if self._busy:
            return
        if self.step == "welcome":
            self._welcome_customer()
            return
        if self.step == "issue":
            self._issue()
            return
        self.data = self.collect()
        pin = pin_again = code = None
        if self.step == "security":
            pin, pin_again, code = (self.value("security", "pin"), self.value("security", "pin_again"),
                                    self.value("security", "totp_code"))
        self._busy = True
        self._status(_("Checking…"))
        self._validate_worker(self.step, self.data, pin or None, pin_again, code, self.totp_secret)

    @work(thread=True, exclusive=True, exit_on_error=False, group="validate")
    def _validate_worker(self, step: str, data: dict[str, Any], pin: str | None, pin_again: str | None,
                         code: str | None, secret: str | None) -> None:
        svc = self.services.onboarding
        try:
            if step == "security" and data["security"].get("totp") and secret and code \
                    and not data["security"].get("totp_confirmed"):
                if svc.check_totp(secret, code):
                    data["security"]["totp_confirmed"] = True
                else:
                    from teller_tui.common.errors import ValidationError

                    raise ValidationError(_("That code does not match: check the app's clock and try the next code"),
                                          code="totp_code", field="totp_code")
            section = svc.validate_step(step, data, pin=pin, pin_again=pin_again)
            if step == "security":
                section["totp_confirmed"] = bool(data["security"].get("totp_confirmed"))
            self.post_message(self.Validated(step, section, None, True))
        except Exception as exc:  # noqa: BLE001 - shown to the teller
            self.post_message(self.Validated(step, None, exc, True))

    @on(Validated)
    def _validated(self, message: Validated) -> None:
        from teller_tui.wallets.onboarding import DuplicateCustomer

        self._busy = False
        if message.step != self.step:
            return
        if message.error is not None:
            if isinstance(message.error, DuplicateCustomer):
                self._duplicate(message.error)
                return
            self._status(error_text(message.error), error=True)
            field = getattr(message.error, "details", {}).get("field")
            if field:
                try:
                    self.query_one(f"#{self.step}-{field}").focus()
                except Exception:  # noqa: BLE001
                    pass
            return
        section = dict(message.section or {})
        if self.step == "security":
            section.pop("pin", None)
        self.data[self.step].update({k: v for k, v in section.items() if k != "needs_link"})
        self._show_derived(self.step, section)
        self.done.add(self.step)
        self.attention.discard(self.step)
        self._go(self.index + 1)
        if self.step == "issue":  # the review and the customer's consent were the last check
            self._issue()

    def _show_derived(self, step: str, section: dict[str, Any]) -> None:
        """Put what the core derived (birth date and sex from the ID, the pinyin) into the fields, so
        the review and a step revisited show it and the teller can correct it."""
        for field in DERIVED_FIELDS.get(step, ()):
            value = section.get(field)
            if not value:
                continue
            w = self.query_one(f"#{step}-{field}")
            if isinstance(w, Input) and not w.value:
                w.value = str(value)
            elif isinstance(w, Select) and w.value in ("", Select.BLANK):
                w.value = value

    def _duplicate(self, error: Any) -> None:
        from .confirm import ConfirmScreen

        def answer(go: bool | None) -> None:
            if go:
                self._open_customer(error.customer_id)

        self.app.push_screen(ConfirmScreen(_("Existing customer"), [(_("Customer no."), error.customer_no)],
                                           warning=refusal_text(error), confirm_label=_("Open customer")), answer)

    def _open_customer(self, customer_id: int) -> None:
        from .customer import CustomerScreen

        self.dismiss(customer_id)
        self.app.push_screen(CustomerScreen(customer_id))

    def action_back(self) -> None:
        if self._busy or self.index == 0 or self.step in ("welcome",):
            return
        self.data = self.collect()
        self._go(self.index - 1)

    # -- drafts ------------------------------------------------------------------------------------
    def action_save_draft(self) -> None:
        if self.result is not None:
            return
        self.data = self.collect()
        self._autosave(announce=True)

    def _autosave(self, *, announce: bool) -> None:
        self.data = self.collect()
        if self.step == "security" and self.value("security", "pin"):
            self.data["security"]["pin_set"] = True
        self._save_worker(self.data, self.step, self.totp_secret, announce)

    @work(thread=True, exit_on_error=False, group="autosave")
    def _save_worker(self, data: dict[str, Any], step: str, secret: str | None, announce: bool) -> None:
        with self._save_lock:  # one save at a time, so a new draft is created once
            if self.result is not None:
                return
            try:
                info = self.services.onboarding.save_draft(self.actor, data, step, draft_id=self.draft_id,
                                                           totp_secret=secret)
                self.draft_id = info.draft_id
                self.post_message(self.Saved(info, None, announce))
            except Exception as exc:  # noqa: BLE001
                self.post_message(self.Saved(None, exc, True))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        if message.error is not None:
            self.show_error(message.error, title=_("Draft not saved"))
        elif message.announce and message.info is not None:
            self.show_info(_("Draft saved; it can be resumed until {when}.").format(
                when=_format_time(message.info.expires_at)))

    def action_leave(self) -> None:
        if self.result is not None:
            self._welcome_customer()
            return

        def answer(choice: str | None) -> None:
            if choice == "save":
                self.data = self.collect()
                self._save_worker(self.data, self.step, self.totp_secret, True)
                self.dismiss(None)
            elif choice == "discard":
                if self.draft_id is not None:
                    self._discard_worker(self.draft_id)
                self.dismiss(None)

        self.app.push_screen(LeaveOnboardingScreen(), answer)

    @work(thread=True, exit_on_error=False, group="autosave")
    def _discard_worker(self, draft_id: int) -> None:
        with self._save_lock:
            try:
                self.services.onboarding.discard_draft(self.actor, draft_id)
            except Exception:  # noqa: BLE001 - an unsaved or already purged draft: nothing to discard
                pass

    # -- issue ---------------------------------------------------------------------------------------
    @on(Button.Pressed, "#issue-go")
    def _issue_pressed(self) -> None:
        self._issue()

    def _issue(self) -> None:
        if self._busy or self.result is not None:
            return
        pin = self.value("security", "pin") or ""
        self.data = self.collect()
        self._busy = True
        self._status(_("Issuing the wallet…"))
        width = max(32, self.query_one("#onb-panes").size.width - 2)  # the sheet as shown in the pane
        self._issue_worker(self.data, pin, self.totp_secret, self.draft_id, width)

    @work(thread=True, exclusive=True, exit_on_error=False, group="issue")
    def _issue_worker(self, data: dict[str, Any], pin: str, secret: str | None, draft_id: int | None,
                      width: int) -> None:
        from teller_tui.common.errors import ValidationError
        from teller_tui.wallets.onboarding import INPUT_STEPS

        svc = self.services.onboarding
        for step in INPUT_STEPS:  # find the step to send the teller back to
            try:
                svc.validate_step(step, data, pin=pin if step == "security" else None)
            except ValidationError as exc:
                self.post_message(self.Issued(None, exc, step))
                return
            except Exception as exc:  # noqa: BLE001 - DuplicateCustomer and storage errors
                self.post_message(self.Issued(None, exc, None))
                return
        with self._save_lock:
            try:
                result = svc.issue(self.actor, data, pin=pin, totp_secret=secret, draft_id=draft_id,
                                   idempotency_key=self.idempotency_key)
                self.result = result
            except Exception as exc:  # noqa: BLE001
                self.post_message(self.Issued(None, exc, getattr(exc, "details", {}).get("step")))
                return
        try:  # the printed sheet is 80 columns; the pane shows it at its own width, nothing cut
            sheet = svc.welcome_text(result.wallet.wallet_id, width=width)
        except Exception:  # noqa: BLE001 - the 80-column text still shows
            sheet = result.welcome_text
        self.post_message(self.Issued(result, None, None, sheet))

    @on(Issued)
    def _issued(self, message: Issued) -> None:
        from teller_tui.wallets.onboarding import DuplicateCustomer

        self._busy = False
        if message.error is not None:
            if isinstance(message.error, DuplicateCustomer):
                self._duplicate(message.error)
                return
            if message.step and message.step in self.steps:
                self.attention.add(message.step)
                self.done.discard(message.step)
                self._go(self.steps.index(message.step))
            self._status(error_text(message.error), error=True)
            return
        result = message.result
        assert result is not None
        for w in self.query("#pane-security Input"):
            if isinstance(w, Input):
                w.value = ""
        self.done.update(self.steps[:-1])
        self.attention.clear()
        self.query_one("#welcome-sheet", Static).update(
            Content(clean(message.sheet or result.welcome_text, multiline=True)))
        self.query_one("#issue-note", Static).update(Content(_("Wallet issued.")))
        self._go(self.steps.index("welcome"))
        self.done.add("welcome")
        self._refresh_steps()
        self.show_info(_("Wallet {number} issued.").format(number=result.wallet.number))

    # -- welcome ---------------------------------------------------------------------------------------
    @on(Button.Pressed, "#welcome-print")
    def action_print_sheet(self) -> None:
        if self.result is None:
            return
        from .receipt import ReceiptScreen

        self.app.push_screen(ReceiptScreen(f"welcome-{self.result.wallet.number}", self.result.welcome_text,
                                           path=self.result.welcome_path, document=True))

    @on(Button.Pressed, "#welcome-customer")
    def _welcome_customer(self) -> None:
        """After issuing, the wizard always ends on the new customer's view (Enter, ctrl+n or Esc)."""
        if self.result is not None:
            self._open_customer(self.result.customer_id)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_next()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "print_sheet":
            return self.result is not None
        if action == "confirm":
            return self.result is None and self.step in (*CONFIRM_BOXES, "explanations")
        if action == "pick_tier":
            return self.step == "tier"
        if action in ("back", "save_draft") and self.result is not None:
            return False
        return True


def _format_time(when: Any) -> str:
    from teller_tui.common.formatting import format_datetime

    return format_datetime(when)


class LeaveOnboardingScreen(DeskScreenMixin, TellerModal[str | None]):
    """Esc in the wizard: keep a draft, discard, or go back. Dismisses "save" | "discard" | None."""

    CSS_PATH = CSS_FILE
    BINDINGS = [Binding("escape", "stay", N_("Keep working"), id="onboarding_leave.stay"),
                Binding("ctrl+s", "save", N_("Save draft"), id="onboarding_leave.save")]

    def compose(self) -> ComposeResult:
        with Vertical(id="leave-box"):
            yield Static(Content(_("Leave the onboarding?")), id="leave-title")
            yield Static(Content(_("A saved draft can be resumed by any teller of this branch. The PIN is not "
                                   "saved: the customer types it again.")))
            with Horizontal(classes="onb-buttons"):
                yield Button(_("Save draft and leave"), id="leave-save", variant="primary")
                yield Button(_("Discard"), id="leave-discard", variant="error")
                yield Button(_("Keep working"), id="leave-stay")

    def on_mount(self) -> None:
        self.query_one("#leave-save", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss({"leave-save": "save", "leave-discard": "discard"}.get(event.button.id or ""))

    def action_stay(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        self.dismiss("save")
