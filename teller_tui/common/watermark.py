"""The training watermark: on every screen and every receipt printed in training mode.

Both languages whatever the interface language, so nobody can take a training receipt for a real
one. (Here, in ``common``, because the receipts of the desk and of onboarding print it too.)"""

from __future__ import annotations

__all__ = ["TRAINING_WATERMARK", "training_mark"]

TRAINING_WATERMARK = "培训 · TRAINING — 非真实交易 · not a real transaction"


def training_mark(text: str, training: bool) -> str:
    """``text`` (a printout) with the watermark as its first and last line when ``training``."""
    if not training:
        return text
    mark = f"*** {TRAINING_WATERMARK} ***"
    return f"{mark}\n{text.rstrip()}\n{mark}\n"
