"""The chart of accounts: kinds, their balance-limit rules and their codes."""

from __future__ import annotations

from enum import StrEnum

from teller_tui.common.i18n import N_, _


class AccountKind(StrEnum):
    WALLET = "wallet"  # customer e-wallet: a liability of the bank
    POINTS = "points"  # customer reward points (commodity PTS): a liability
    DRAWER = "drawer"  # a teller's cash drawer: an asset
    VAULT = "vault"  # the branch vault: an asset
    SETTLEMENT = "settlement"  # clearing with linked bank accounts
    INCOME = "income"  # fees and other income
    EXPENSE = "expense"  # promotions and other expenses
    OVER_SHORT = "over_short"  # cash over/short (income/expense)
    POINTS_POOL = "points_pool"  # points issued by the bank (the other side of POINTS)
    EQUITY = "equity"  # opening balances (vault cash brought in)


#: (debits_must_not_exceed_credits, credits_must_not_exceed_debits) per kind.
BALANCE_RULES: dict[AccountKind, tuple[bool, bool]] = {
    AccountKind.WALLET: (True, False),
    AccountKind.POINTS: (True, False),
    AccountKind.DRAWER: (False, True),
    AccountKind.VAULT: (False, True),
    AccountKind.SETTLEMENT: (False, False),
    AccountKind.INCOME: (False, False),
    AccountKind.EXPENSE: (False, False),
    AccountKind.OVER_SHORT: (False, False),
    AccountKind.POINTS_POOL: (False, False),
    AccountKind.EQUITY: (False, False),
}

#: How a refusal names an account to the person at the counter: never its internal code
#: (``drawer:B001:T01``), which stays in the error's details for the log.
ACCOUNT_LABELS: dict[AccountKind, str] = {
    AccountKind.WALLET: N_("the wallet"),
    AccountKind.POINTS: N_("the points account"),
    AccountKind.DRAWER: N_("your drawer"),
    AccountKind.VAULT: N_("the branch vault"),
}


def account_label(kind: str) -> str:
    """``your drawer``, ``the wallet`` ... for a refusal message (translated); other kinds are a branch account."""
    try:
        label = ACCOUNT_LABELS.get(AccountKind(kind))
    except ValueError:
        label = None
    return _(label or N_("a branch account"))


#: Kinds whose normal balance is a credit (shown positive when credits exceed debits).
CREDIT_NORMAL = frozenset({AccountKind.WALLET, AccountKind.POINTS, AccountKind.INCOME, AccountKind.EQUITY,
                           AccountKind.POINTS_POOL})


def wallet_code(number: str) -> str:
    return f"wallet:{number}"


def points_code(number: str) -> str:
    return f"points:{number}"


def drawer_code(branch: str, drawer: str) -> str:
    return f"drawer:{branch}:{drawer}"


def vault_code(branch: str, currency: str = "CNY") -> str:
    return f"vault:{branch}:{currency}"


def settlement_code(branch: str, currency: str = "CNY") -> str:
    return f"settlement:{branch}:{currency}"


def over_short_code(branch: str, currency: str = "CNY") -> str:
    return f"over_short:{branch}:{currency}"


def income_code(branch: str, name: str = "fees", currency: str = "CNY") -> str:
    return f"income:{branch}:{name}:{currency}"


def expense_code(branch: str, name: str = "promotion", currency: str = "CNY") -> str:
    return f"expense:{branch}:{name}:{currency}"


def points_pool_code(branch: str) -> str:
    return f"points_pool:{branch}"


def equity_code(branch: str, currency: str = "CNY") -> str:
    return f"equity:{branch}:{currency}"


def interbranch_code(branch: str, currency: str = "CNY") -> str:
    """Inter-branch clearing account owned by ``branch`` (kind SETTLEMENT)."""
    return f"interbranch:{branch}:{currency}"
