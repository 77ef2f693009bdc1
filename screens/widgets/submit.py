"""The sign-in form's button, without the 7 KB of Button styles the sign-in does not use.

Textual parses a widget class's ``DEFAULT_CSS`` when the first widget of that class mounts;
``Button``'s holds every variant (success, warning, error) in three styles (default, flat, ANSI)
and is the largest stylesheet before the sign-in's first frame — about 40% of the CSS the
frame parses and applies (issue 25: the first frame within 1.25× a minimal Textual app).
:class:`SubmitButton` is a ``Button`` (type selectors and queries for ``Button`` still match it)
whose own rules are Textual's, copied for the primary variant only. Once any screen shows a
plain ``Button``, Textual's full rules load and apply to this one too: the same rules.
"""

from __future__ import annotations

from textual.widgets import Button

__all__ = ["SubmitButton"]


class SubmitButton(Button, inherit_css=False):
    """A primary ``Button`` styled by Textual's own rules for that variant (default and ANSI styles)."""

    DEFAULT_CSS = """
    SubmitButton:ansi.-style-default {
        border: tall $border-blurred;
        background: ansi_default;
        &:disabled {
            text-opacity: 1;
            text-style: bold dim;
            border: tall $border-blurred !important;
            background: ansi_default !important;
            pointer: not-allowed;
            &:hover {
                background: ansi_default;
            }
        }
        &:hover {
            background: $ansi-background;
            border: tall $border;
        }
        &.-active {
            background: $ansi-background !important;
            border: blank $background !important;
            tint: transparent;
        }
        &.-primary {
            color: $primary;
            border: tall $primary;
            background: ansi_default;
            &:hover {
                background: $ansi-background;
            }
        }
    }
    SubmitButton {
        width: auto;
        min-width: 16;
        height: auto;
        line-pad: 1;
        text-align: center;
        content-align: center middle;
        pointer: pointer;
        &.-style-default {
            text-style: bold;
            color: $button-foreground;
            background: $surface;
            border: none;
            border-top: tall $surface-lighten-1;
            border-bottom: tall $surface-darken-1;
            &.-textual-compact {
                border: none !important;
            }
            &:disabled {
                text-opacity: 0.6;
                pointer: not-allowed;
            }
            &:focus {
                text-style: $button-focus-text-style;
                background-tint: $foreground 5%;
            }
            &:hover {
                border-top: tall $surface;
                background: $surface-darken-1;
            }
            &.-active {
                background: $surface;
                border-bottom: tall $surface-lighten-1;
                border-top: tall $surface-darken-1;
                tint: $background 30%;
            }
            &.-primary {
                color: $button-color-foreground;
                background: $primary;
                border-top: tall $primary-lighten-3;
                border-bottom: tall $primary-darken-3;
                &:hover {
                    background: $primary-darken-2;
                    border-top: tall $primary;
                }
                &.-active {
                    background: $primary;
                    border-bottom: tall $primary-lighten-3;
                    border-top: tall $primary-darken-3;
                }
            }
        }
    }
    """
