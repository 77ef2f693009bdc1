"""``run`` is the default command: ``teller --terminal T02`` starts the app as ``teller run --terminal T02``.

The options are checked through the real parser (``run``'s own, registered as the console script does),
stopping short of starting the app."""

from __future__ import annotations

import argparse

import pytest

from screens import cli
from teller_tui import cli as core_cli


def parsed(argv: list[str]) -> argparse.Namespace:
    parser = core_cli.build_parser([cli.register_run], command_modules=())
    return parser.parse_args(cli.with_default_command(argv))


@pytest.mark.parametrize(("argv", "terminal", "locale", "training"), [
    ([], None, None, False),
    (["--terminal", "T02"], "T02", None, False),
    (["--terminal=T03", "--locale", "en"], "T03", "en", False),
    (["--locale=zh_CN", "--training"], None, "zh_CN", True),
    (["--training"], None, None, True),
])
def test_run_options_first_start_the_app(argv: list[str], terminal: str | None, locale: str | None,
                                         training: bool) -> None:
    args = parsed(argv)
    assert args.func is cli.cmd_run
    assert (args.terminal, args.locale, args.training) == (terminal, locale, training)


def test_commands_and_help_are_left_to_the_parser() -> None:
    assert cli.with_default_command(["ledger", "verify"]) == ["ledger", "verify"]
    assert cli.with_default_command(["-h"]) == ["-h"]
    assert cli.with_default_command(["--terminals"]) == ["--terminals"]  # not run's option: a usage error
    with pytest.raises(SystemExit):
        parsed(["--terminals", "T02"])
