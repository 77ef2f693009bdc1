"""Printing from the real app (Pilot): a cash-in receipt and a reprint go to a raw-TCP ESC/POS
printer on loopback (a thread recording the bytes); a dead printer is one sentence and the
receipt file stays. The bytes are decoded back to text and checked, Chinese included."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from textual.widgets import Input, Static

from desk_harness import Desk, fill_amount, make_desk, from_customer
from pilot_helpers import settle
from teller_tui.common.formatting import display_width
from teller_tui.common.i18n import set_locale
from teller_tui.common.printing.escpos import decode_escpos
from test_printing import Listener

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


@pytest.fixture
def listener() -> Iterator[Listener]:
    srv = Listener()
    yield srv
    srv.close()


def _printer(port: int, **extra: Any) -> dict[str, Any]:
    return {"printers": {"counter": {"kind": "escpos-tcp", "host": "127.0.0.1", "port": port, "timeout_seconds": 3,
                                     **extra}},
            "default_printer": "counter"}


def status(app: Any) -> str:
    return str(app.screen.query_one("#receipt-status", Static).render())


async def cash_in_to_receipt(pilot: Any, desk: Desk, amount: str) -> Any:
    await desk.start(pilot)
    await from_customer(pilot, desk, "wang", "f5")
    await fill_amount(pilot, amount)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert type(screen).__name__ == "ReceiptScreen"
    return screen


async def wait_printed(pilot: Any) -> None:
    for _ in range(50):
        await settle(pilot)
        if not pilot.app.screen.printing:
            return
    raise AssertionError("print did not finish")


async def test_receipt_and_reprint_print_in_chinese(tmp_path: Any, db_path: Any, db: Any, clock: Any,
                                                    listener: Listener) -> None:
    desk = make_desk(tmp_path, db_path, db, clock, locale="zh_CN", **_printer(listener.port, columns=32))
    try:
        async with desk.app.run_test(size=(80, 24)) as pilot:
            receipt = await cash_in_to_receipt(pilot, desk, "1000")
            reference = receipt.reference
            await pilot.press("p")
            await wait_printed(pilot)
            assert listener.done.wait(5)
            job = decode_escpos(listener.jobs[0])
            assert job.commands == ["init", "chinese on", "feed 4", "cut partial"]
            assert "钱包现金存入" in job.text and reference in job.text and "壹仟元整" in job.text
            assert "重印" not in job.text  # the first paper copy is the original
            assert all(display_width(line) <= 32 for line in job.text.splitlines())  # 58 mm roll
            assert status(pilot.app) == f"已在 counter (127.0.0.1:{listener.port}) 打印。"
            # Reprint from home: Esc back, F8, the reference, Enter, p.
            for _ in range(4):
                if type(pilot.app.screen).__name__ == "HomeScreen":
                    break
                await pilot.press("escape")
                await settle(pilot)
            assert type(pilot.app.screen).__name__ == "HomeScreen"
            await pilot.press("f8")
            await settle(pilot)
            pilot.app.screen.query_one("#reprint-reference", Input).value = reference
            await pilot.press("enter")
            await settle(pilot)
            assert type(pilot.app.screen).__name__ == "ReceiptScreen"
            listener.done.clear()
            await pilot.press("f8")
            await wait_printed(pilot)
            assert listener.done.wait(5)
            again = decode_escpos(listener.jobs[1])
            assert "重印" in again.text and reference in again.text
    finally:
        set_locale("en")


async def test_dead_printer_keeps_the_file_and_says_so(tmp_path: Any, db_path: Any, db: Any, clock: Any) -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]  # closed again: nothing listens there
    desk = make_desk(tmp_path, db_path, db, clock, **_printer(port))
    try:
        async with desk.app.run_test(size=(80, 24)) as pilot:
            receipt = await cash_in_to_receipt(pilot, desk, "20")
            await pilot.press("p")
            await wait_printed(pilot)
            kept = desk.services.settings.receipts_dir / f"{receipt.reference}.txt"
            assert kept.exists()
            assert status(pilot.app) == (f"Not printed: printer counter (127.0.0.1:{port}): connection refused; "
                                         f"the file is kept at {kept}.")
            assert pilot.app.screen.query_one("#receipt-status").has_class("-error")
    finally:
        set_locale("en")


async def test_printer_out_of_paper_is_said_and_the_file_kept(tmp_path: Any, db_path: Any, db: Any,
                                                             clock: Any) -> None:
    """The printer answers the status query (DLE EOT) "paper out": nothing is sent, the teller reads
    "printer out of paper" (in Chinese), the receipt file stays; with paper back, p prints it."""
    from teller_tui.common.printing.escpos_status import ANSWERS_OK, ANSWERS_PAPER_OUT

    printer = Listener(ANSWERS_PAPER_OUT)
    desk = make_desk(tmp_path, db_path, db, clock, locale="zh_CN", **_printer(printer.port))
    try:
        async with desk.app.run_test(size=(80, 24)) as pilot:
            receipt = await cash_in_to_receipt(pilot, desk, "20")
            await pilot.press("p")
            await wait_printed(pilot)
            kept = desk.services.settings.receipts_dir / f"{receipt.reference}.txt"
            assert kept.exists() and printer.jobs == [] and printer.asked[0][:1] == [4]
            said = status(pilot.app)
            assert "打印机缺纸" in said and str(kept) in said and said.startswith("未打印")
            assert pilot.app.screen.query_one("#receipt-status").has_class("-error")
            printer.answers = ANSWERS_OK  # paper loaded
            printer.done.clear()
            await pilot.press("p")
            await wait_printed(pilot)
            assert printer.done.wait(5) and receipt.reference in decode_escpos(printer.jobs[0]).text
            assert status(pilot.app).startswith("已在 counter")
    finally:
        printer.close()
        set_locale("en")


async def test_eod_report_prints_to_the_document_printer(tmp_path: Any, db_path: Any, db: Any, clock: Any,
                                                         listener: Listener) -> None:
    from screens.eod_report import EodReportScreen

    desk = make_desk(tmp_path, db_path, db, clock, printers={
        "counter": {"kind": "escpos-tcp", "host": "127.0.0.1", "port": 9, "timeout_seconds": 1},
        "office": {"kind": "escpos-tcp", "host": "127.0.0.1", "port": listener.port, "columns": 48}},
        default_printer="counter", terminal_printers={"T01": {"document": "office"}})
    try:
        async with desk.signed_in(size=(80, 24)) as pilot:
            pilot.app.push_screen(EodReportScreen("B001", username="wang"))
            await settle(pilot)
            for _ in range(20):
                if pilot.app.screen.report is not None:
                    break
                await settle(pilot)
            await pilot.press("p")
            for _ in range(20):
                await settle(pilot)
                if listener.jobs:
                    break
            assert listener.done.wait(5)
            job = decode_escpos(listener.jobs[0])
            assert pilot.app.screen.report.text().splitlines()[0].strip() in job.text
            assert f"Printed on office (127.0.0.1:{listener.port})." in str(
                pilot.app.screen.query_one("#eod-path", Static).render())
    finally:
        set_locale("en")


async def test_eod_report_that_does_not_print_says_so(tmp_path: Any, db_path: Any, db: Any, clock: Any) -> None:
    """A dead document printer: the report's status line says "Not printed" (never left at "Printing…")."""
    from screens.eod_report import EodReportScreen

    dead = socket.create_server(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()  # nothing listens there
    desk = make_desk(tmp_path, db_path, db, clock, printers={
        "office": {"kind": "escpos-tcp", "host": "127.0.0.1", "port": port, "timeout_seconds": 1}},
        default_printer="office")
    try:
        async with desk.signed_in(size=(80, 24)) as pilot:
            pilot.app.push_screen(EodReportScreen("B001", username="wang"))
            await settle(pilot)
            for _ in range(20):
                if pilot.app.screen.report is not None:
                    break
                await settle(pilot)
            await pilot.press("p")
            shown = ""
            for _ in range(40):
                await settle(pilot)
                shown = str(pilot.app.screen.query_one("#eod-path", Static).render())
                if shown != "Printing…":
                    break
            assert shown.startswith(f"Not printed: printer office (127.0.0.1:{port})"), shown
    finally:
        set_locale("en")


async def test_a_print_that_fails_before_the_printer_still_keeps_the_copy(tmp_path: Any, db_path: Any, db: Any,
                                                                          clock: Any, listener: Listener,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A roll printer needs the receipt laid out again from the ledger; with the database gone by
    then, nothing reaches the printer — and the copy the screen shows is saved all the same (a
    posting writes no file of its own), the status naming it."""
    from teller_tui.common.errors import DatabaseUnavailable

    desk = make_desk(tmp_path, db_path, db, clock, **_printer(listener.port, columns=48))
    try:
        async with desk.app.run_test(size=(80, 24)) as pilot:
            receipt = await cash_in_to_receipt(pilot, desk, "20")
            kept = desk.services.settings.receipts_dir / f"{receipt.reference}.txt"
            assert not kept.exists()

            def database_gone(*_args: Any, **_kwargs: Any) -> str:
                raise DatabaseUnavailable("The database cannot be reached.")

            monkeypatch.setattr(desk.services.cash, "receipt_for", database_gone)
            await pilot.press("p")
            await wait_printed(pilot)
            assert listener.jobs == []
            assert kept.read_text(encoding="utf-8") == receipt.text
            said = status(pilot.app)
            assert said.startswith("Not printed: ") and said.endswith(f"the file is kept at {kept}.")
    finally:
        set_locale("en")
