"""Printing: the ESC/POS byte stream (GB18030, code pages, cut), and real printers on loopback.

The printers are real: a thread that accepts raw TCP on a loopback port and records every byte,
a fifo and a pty read by the test, a fake ``lp`` executable on PATH (a real process that records
its arguments and stdin), and a private CUPS scheduler (tests/cups_server.py) with raw, PDF and
failing queues where CUPS is installed (skipped with the reason where it is not).
"""

from __future__ import annotations

import http.server
import os
import re
import socket
import stat
import struct
import sys
import threading
import tty
import unicodedata
from datetime import UTC, date, datetime
from collections.abc import Iterator
from pathlib import Path

import pytest

from cups_server import Cupsd, start_cupsd
from teller_tui.common.money import Money
from teller_tui.common.printing.backends import PrintFailed, Sent, follow_job
from teller_tui.common.printing.config import ENCODINGS, PrinterSpec, Purpose
from teller_tui.common.printing.escpos import decode_escpos, printable_lines, render_escpos
from teller_tui.common.printing.ipp import IppError, job_state, printer_state
from teller_tui.common.printing.escpos_status import ANSWERS_OK, ANSWERS_PAPER_LOW, ANSWERS_PAPER_OUT, receive_job
from teller_tui.common.printing.service import PrintService
from teller_tui.common.settings import load_settings
from teller_tui.common.text import is_unsafe_char
from teller_tui.desk.receipts import ReceiptData, render_receipt

EVIL = "王\x1b@\x1dV\x00\x1c.\x10\x04\x01五\x9b2J\x1b[31m红"  # init, cut, leave Chinese mode, DLE EOT


def _receipt(name: str = "欧*建国", memo: str = "房租") -> ReceiptData:
    return ReceiptData(kind="cash_in", reference="R20261203-000000007",
                       posted_at=datetime(2026, 12, 3, 2, 5, tzinfo=UTC), business_date=date(2026, 12, 3),
                       branch_code="B001", terminal_id="T01", teller="teller1", customer_name=name,
                       wallet_number="8600****0015", amount=Money.of("1000.00"), new_balance=Money.of("1500.00"),
                       memo=memo)


class Listener:
    """A raw-TCP printer on loopback: answers status queries (DLE EOT) with ``answers`` (None: mute),
    accepts jobs and keeps each job's bytes (without the queries) and the queries asked."""

    def __init__(self, answers: dict[int, int] | None = ANSWERS_OK) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.answers = answers
        self.jobs: list[bytes] = []
        self.asked: list[list[int]] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                job, asked = receive_job(conn, self.answers)
                self.asked.append(asked)
                if job:
                    self.jobs.append(job)
                self.done.set()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener():  # type: ignore[no-untyped-def]
    srv = Listener()
    yield srv
    srv.close()


def _service(tmp_path: Path, **printers: dict[str, object]) -> PrintService:
    settings = load_settings(home=tmp_path, printers=printers, default_printer=next(iter(printers)) if printers else "")
    return PrintService(settings)


# -- the byte stream -----------------------------------------------------------------------

def test_exact_bytes_of_a_chinese_job() -> None:
    job = render_escpos("柜台 A\n金额 ¥1.00", encoding="gb18030", columns=32, cut="partial", feed_lines=3)
    assert job == (b"\x1b@" + b"\x1c&" + "柜台 A".encode("gb18030") + b"\n" + "金额 ¥1.00".encode("gb18030")
                   + b"\n" + b"\x1bd\x03" + b"\x1dV\x01")
    assert "柜台".encode("gb18030") == b"\xb9\xf1\xcc\xa8"  # GB2312 range, two bytes each


def test_exact_bytes_of_a_code_page_job() -> None:
    job = render_escpos("Caf\u00e9 \u00a31\n", encoding="cp858", columns=48, cut="full", feed_lines=0)
    assert job == b"\x1b@\x1c.\x1bt\x13Caf\x82 \x9c1\n\x1dV\x00"
    assert decode_escpos(job).text == "Café £1\n"


def test_receipt_with_chinese_decodes_back_to_its_text() -> None:
    text = render_receipt(_receipt(), width=48, locale="zh_CN")
    job = render_escpos(text, columns=48)
    decoded = decode_escpos(job)
    assert decoded.commands == ["init", "chinese on", "feed 4", "cut partial"]
    assert decoded.text == "\n".join(printable_lines(text, 48)) + "\n"
    assert decoded.text.rstrip("\n") == text.rstrip("\n")  # nothing lost or re-wrapped at 48 columns
    assert "数字钱包柜台" in decoded.text and "壹仟元整" in decoded.text and "欧*建国" in decoded.text


def test_user_text_cannot_inject_commands() -> None:
    text = render_receipt(_receipt(name=EVIL, memo="memo\x1bd\xff" + EVIL), width=48, locale="zh_CN")
    job = render_escpos(text, columns=48)
    body = job[len(b"\x1b@\x1c&"):-len(b"\x1bd\x04\x1dV\x01")]
    assert not any(b < 0x20 and b != 0x0A for b in body), [hex(b) for b in body if b < 0x20 and b != 0x0A]
    assert b"\x7f" not in body
    decoded = decode_escpos(job)  # raises on any control byte it does not know
    assert decoded.cuts == 1 and decoded.commands.count("init") == 1
    assert "王" in decoded.text and "五" in decoded.text and "红" in decoded.text
    # Raw text given straight to the renderer (no receipt layout) is cleaned the same way.
    raw = render_escpos(EVIL + "\n\x1b[2J tail", columns=48)
    assert decode_escpos(raw).commands == ["init", "chinese on", "feed 4", "cut partial"]


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_no_printable_character_encodes_to_a_control_byte(encoding: str) -> None:
    bad = []
    for cp in range(0x20, 0x10000):
        ch = chr(cp)
        if is_unsafe_char(ch) or unicodedata.category(ch) == "Cn":
            continue
        data = ch.encode(encoding, errors="replace")
        if any(b < 0x20 or b == 0x7F for b in data):
            bad.append(ch)
    assert bad == []


def test_lines_are_cut_to_the_roll_by_cells() -> None:
    lines = printable_lines("数字" * 20 + "\n" + "x" * 50, 32)
    assert lines == ["数字" * 8, "数字" * 8, "数字" * 4, "x" * 32, "x" * 18]


# -- printers on loopback -------------------------------------------------------------------

def test_receipt_printed_to_a_raw_tcp_printer(tmp_path: Path, listener: Listener) -> None:
    svc = _service(tmp_path, counter={"kind": "escpos-tcp", "host": "127.0.0.1", "port": listener.port})
    text = render_receipt(_receipt(), width=svc.columns_for(Purpose.RECEIPT), locale="zh_CN")
    outcome = svc.print_text(text, purpose=Purpose.RECEIPT, title="R20261203-000000007")
    assert outcome.printed, outcome.message
    assert listener.done.wait(5)
    assert listener.jobs == [render_escpos(text, columns=48)]
    assert "钱包现金存入" in decode_escpos(listener.jobs[0]).text
    assert outcome.message == f"Printed on counter (127.0.0.1:{listener.port})."


def test_a_printer_that_refuses_says_so_in_one_sentence(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    svc = _service(tmp_path, counter={"kind": "escpos-tcp", "host": "127.0.0.1", "port": port,
                                      "timeout_seconds": 2})
    kept = tmp_path / "R1.txt"
    outcome = svc.print_text("x", purpose=Purpose.RECEIPT, title="R1", kept_at=kept)
    assert not outcome.printed
    assert outcome.message == (f"Not printed: printer counter (127.0.0.1:{port}): connection refused; "
                               f"the file is kept at {kept}.")


def test_no_printer_set_up(tmp_path: Path) -> None:
    outcome = _service(tmp_path).print_text("x", purpose=Purpose.RECEIPT, title="R1", kept_at=tmp_path / "R1.txt")
    assert not outcome.printed and outcome.printer == ""
    assert outcome.message == f"No printer is set up for terminal T01; the file is kept at {tmp_path / 'R1.txt'}."


def test_fifo_device(tmp_path: Path) -> None:
    fifo = tmp_path / "lp0"
    os.mkfifo(fifo)
    svc = _service(tmp_path, usb={"kind": "escpos-device", "device": str(fifo), "timeout_seconds": 2})
    # Nobody reading: refused at once, not hung.
    outcome = svc.print_text("无人", purpose=Purpose.RECEIPT, title="R1")
    assert not outcome.printed and "no reader on the device" in outcome.message
    got: list[bytes] = []
    ready = threading.Event()

    def read() -> None:
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        ready.set()
        os.set_blocking(fd, True)
        chunks = []
        while True:
            data = os.read(fd, 4096)
            if not data:
                if chunks:
                    break
                continue
            chunks.append(data)
        got.append(b"".join(chunks))
        os.close(fd)

    t = threading.Thread(target=read, daemon=True)
    t.start()
    assert ready.wait(5)
    outcome = svc.print_text("钱包 ok", purpose=Purpose.RECEIPT, title="R1")
    assert outcome.printed, outcome.message
    t.join(5)
    assert got == [render_escpos("钱包 ok", columns=48)]


def test_pty_device_gets_the_exact_bytes(tmp_path: Path) -> None:
    master, slave = os.openpty()
    try:
        tty.setraw(slave)  # a serial printer port: no newline translation
        svc = _service(tmp_path, serial={"kind": "escpos-device", "device": os.ttyname(slave)})
        outcome = svc.print_text("数字钱包\n" + EVIL, purpose=Purpose.RECEIPT, title="R1")
        assert outcome.printed, outcome.message
        expected = render_escpos("数字钱包\n" + EVIL, columns=48)
        data = b""
        while len(data) < len(expected):
            data += os.read(master, 4096)
        assert data == expected
        assert decode_escpos(data).text.startswith("数字钱包\n")
    finally:
        os.close(master)
        os.close(slave)


FAKE_LP = """#!{python}
import json, os, sys
data = sys.stdin.buffer.read()
if os.environ.get("FAKE_LP_FAIL"):
    sys.stderr.write("lp: The printer or class does not exist.\\n")
    sys.exit(1)
with open(os.environ["FAKE_LP_LOG"], "a") as fh:
    fh.write(json.dumps({{"args": sys.argv[1:], "stdin": data.hex()}}) + "\\n")
print("request id is Office_A4-17 (0 file(s))")
"""


@pytest.fixture
def fake_lp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    lp = bindir / "lp"
    lp.write_text(FAKE_LP.format(python=sys.executable))
    lp.chmod(lp.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "lp.log"
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LP_LOG", str(log))
    return log


def _lp_calls(log: Path) -> list[dict[str, object]]:
    import json
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_cups_text_document_goes_to_lp(tmp_path: Path, fake_lp: Path) -> None:
    svc = _service(tmp_path, office={"kind": "cups", "queue": "Office_A4", "follow_seconds": 0})
    outcome = svc.print_text("对账单 Statement\n\x1b[2Jline", purpose=Purpose.DOCUMENT, title="statement\x1b]0;x\x07 8600")
    assert outcome.printed, outcome.message
    assert outcome.job == "request id is Office_A4-17 (0 file(s))"
    [call] = _lp_calls(fake_lp)
    assert call["args"] == ["-t", "statement 8600", "-d", "Office_A4", "-o", "document-format=text/plain"]
    assert bytes.fromhex(str(call["stdin"])) == "对账单 Statement\nline\n\f".encode()


def test_cups_raw_queue_gets_escpos(tmp_path: Path, fake_lp: Path) -> None:
    svc = _service(tmp_path, raw={"kind": "cups", "queue": "TM_T88", "raw": True, "columns": 32, "follow_seconds": 0})
    outcome = svc.print_text("柜台", purpose=Purpose.RECEIPT, title="R1")
    assert outcome.printed
    [call] = _lp_calls(fake_lp)
    assert call["args"] == ["-t", "R1", "-d", "TM_T88", "-o", "raw"]
    assert bytes.fromhex(str(call["stdin"])) == render_escpos("柜台", columns=32)


def test_cups_failure_is_one_sentence(tmp_path: Path, fake_lp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_LP_FAIL", "1")
    svc = _service(tmp_path, office={"kind": "cups", "queue": "Nope"})
    outcome = svc.print_text("x", purpose=Purpose.DOCUMENT, title="t", kept_at=tmp_path / "s.txt")
    assert not outcome.printed
    assert outcome.message == (f"Not printed: printer office (lp -d Nope): lp: The printer or class does not "
                               f"exist.; the file is kept at {tmp_path / 's.txt'}.")


def test_without_lp_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    outcome = _service(tmp_path, office={"kind": "cups"}).print_text("x", purpose=Purpose.DOCUMENT, title="t")
    assert not outcome.printed and "lp command is not installed" in outcome.message


# -- configuration ----------------------------------------------------------------------------

def test_terminal_choices_and_defaults(tmp_path: Path) -> None:
    printers = {"a": {"kind": "escpos-tcp", "host": "10.0.0.1"}, "b": {"kind": "escpos-tcp", "host": "10.0.0.2"},
                "office": {"kind": "cups"}}
    s = load_settings(home=tmp_path, printers=printers, default_printer="a", document_printer="office",
                      terminal_printers={"T02": {"receipt": "b"}}, terminal_id="T02")
    svc = PrintService(s)
    assert svc.printer_name(Purpose.RECEIPT) == "b" and svc.printer_name(Purpose.DOCUMENT) == "office"
    other = PrintService(s.model_copy(update={"terminal_id": "T01"}))
    assert other.printer_name(Purpose.RECEIPT) == "a" and other.columns_for(Purpose.DOCUMENT) == 80


def test_unknown_printer_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown printer"):
        load_settings(home=tmp_path, default_printer="nope")
    with pytest.raises(ValueError, match="needs a host"):
        PrinterSpec(kind="escpos-tcp")  # type: ignore[arg-type]


def test_printers_from_the_environment_and_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "settings.toml").write_text(
        'default_printer = "counter"\n[printers.counter]\nkind = "escpos-tcp"\nhost = "10.1.2.21"\ncolumns = 32\n'
        '[terminal_printers.T09]\nreceipt = "counter"\n')
    monkeypatch.setenv("TELLER_HOME", str(tmp_path))
    s = load_settings()
    assert s.printers["counter"].columns == 32 and s.terminal_printers["T09"].receipt == "counter"


@pytest.mark.slow
def test_cli_listen_and_test_page_as_processes(tmp_path: Path) -> None:
    """``teller printer listen`` (a stand-in printer) and ``teller printer test`` / ``send``, as real processes."""
    import json
    import subprocess

    env = {**os.environ, "TELLER_HOME": str(tmp_path), "PYTHONPATH": os.getcwd()}
    cli = [sys.executable, "-m", "teller_tui.cli", "printer"]
    listener = subprocess.Popen([*cli, "listen", "--port", "0", "--count", "2"], stdout=subprocess.PIPE, text=True,
                                env=env)
    try:
        assert listener.stdout is not None
        first = listener.stdout.readline()
        port = int(first.split(":")[1].split()[0])
        env["TELLER_PRINTERS"] = json.dumps({"counter": {"kind": "escpos-tcp", "host": "127.0.0.1", "port": port}})
        env["TELLER_DEFAULT_PRINTER"] = "counter"
        done = subprocess.run([*cli, "test"], capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"Printed on counter (127.0.0.1:{port})."
        report = tmp_path / "eod.txt"
        report.write_text("日终报表 EOD\n")
        done = subprocess.run([*cli, "send", str(report), "--document"], capture_output=True, text=True, env=env,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        out, _ = listener.communicate(timeout=30)
    finally:
        listener.kill()
    assert "数字钱包柜台 打印测试" in out and "init, chinese on, feed 4, cut partial" in out
    assert "日终报表 EOD" in out


@pytest.fixture
def cupsd() -> Iterator[Cupsd]:
    """A private CUPS scheduler on a loopback port (tests/cups_server.py); skipped without CUPS."""
    server = start_cupsd()
    yield server
    server.stop()


@pytest.mark.slow
def test_real_cups_queue_prints_the_receipt(tmp_path: Path, cupsd: Cupsd) -> None:
    """Through a real CUPS scheduler to a raw queue whose device is a printer on loopback (the
    AppSocket backend, socket://): the receipt arrives, Chinese included, as ESC/POS and as text; the
    job is followed until CUPS says it completed."""
    printer = Listener()
    try:
        cupsd.add_queue("Counter_Raw", f"socket://127.0.0.1:{printer.port}")
        receipt = render_receipt(_receipt(), width=48, locale="zh_CN")
        svc = _service(tmp_path, roll={"kind": "cups", "queue": "Counter_Raw", "server": cupsd.server, "raw": True})
        outcome = svc.print_text(receipt, purpose=Purpose.RECEIPT, title="R20261203-000000007")
        assert outcome.printed, outcome.message + cupsd.log()[-800:]
        assert outcome.job.startswith("Counter_Raw-") and outcome.message.startswith("Printed on roll")
        job = decode_escpos(printer.jobs[0])
        assert "欧*建国" in job.text and "R20261203-000000007" in job.text and "1,000.00" in job.text
        assert job.commands[-1] == "cut partial"
        printer.done.clear()
        office = _service(tmp_path, office={"kind": "cups", "queue": "Counter_Raw", "server": cupsd.server})
        plain = office.print_text("钱包对账单 Statement\n期末余额 ¥1,000.00\n", purpose=Purpose.DOCUMENT,
                               title="statement")
        assert plain.printed, plain.message
        assert printer.done.wait(10)
        assert printer.jobs[1].decode("utf-8").startswith("钱包对账单 Statement\n期末余额 ¥1,000.00\n")
    finally:
        printer.close()


@pytest.mark.slow
def test_real_cups_pdf_queue(tmp_path: Path, cupsd: Cupsd) -> None:
    """A PDF printer queue (cups-filters' generic PDF driver): the text statement is filtered to PDF
    by CUPS and the job completes. (texttopdf subsets its font without a text map, so pdftotext cannot
    read the words back: the page count is what is checked.)"""
    import shutil
    import subprocess

    ppd = Path("/usr/share/ppd/cupsfilters/Generic-PDF_Printer-PDF.ppd")
    if not ppd.exists():
        pytest.skip("no generic PDF printer driver here (apt-get install cups-filters)")
    printer = Listener(answers=None)
    try:
        cupsd.add_queue("Office_PDF", f"socket://127.0.0.1:{printer.port}", "-P", str(ppd))
        svc = _service(tmp_path, office={"kind": "cups", "queue": "Office_PDF", "server": cupsd.server,
                                         "follow_seconds": 60})
        outcome = svc.print_text("钱包对账单 Statement\n期末余额 ¥1,000.00\n", purpose=Purpose.DOCUMENT,
                                 title="statement")
        assert outcome.printed, outcome.message + cupsd.log()[-800:]
        job = printer.jobs[0]  # the driver wraps the PDF in PJL
        assert b"%PDF-" in job and b"%%EOF" in job
        pdf = job[job.index(b"%PDF-"):job.rindex(b"%%EOF") + 5]
        if shutil.which("pdfinfo"):
            (tmp_path / "job.pdf").write_bytes(pdf)
            info = subprocess.run(["pdfinfo", str(tmp_path / "job.pdf")], capture_output=True, text=True).stdout
            assert re.search(r"^Pages: +1$", info, re.M), info
    finally:
        printer.close()


@pytest.mark.slow
def test_real_cups_failures_reach_the_teller(tmp_path: Path, cupsd: Cupsd) -> None:
    """Read back from the spooler: a printer that runs out of paper (its backend reports
    media-empty-error and stops), a job the spooler aborts, and a queue stopped by an operator are
    each "Not printed" with the reason, the file kept."""
    import subprocess

    cupsd.add_queue("Paper", "fail-paper:/")
    cupsd.add_queue("Broken", "fail-abort:/", "-o", "printer-error-policy=abort-job")
    cupsd.add_queue("Stopped", "fail-abort:/")
    subprocess.run(["cupsdisable", "-h", cupsd.server, "-r", "Paper jam at the cutter", "Stopped"], check=True,
                   capture_output=True)
    kept = tmp_path / "R1.txt"
    svc = _service(tmp_path, **{q.lower(): {"kind": "cups", "queue": q, "server": cupsd.server, "raw": True}
                                for q in ("Paper", "Broken", "Stopped")})
    messages = {}
    for name in ("paper", "broken", "stopped"):
        svc = PrintService(svc.settings.model_copy(update={"default_printer": name}))
        outcome = svc.print_text("收据 receipt", purpose=Purpose.RECEIPT, title="R1", kept_at=kept)
        assert not outcome.printed, outcome.message
        assert outcome.message.endswith(f"the file is kept at {kept}.")
        messages[name] = outcome.message
    assert "printer out of paper (job Paper-" in messages["paper"]
    assert "the spooler gave up on job Broken-" in messages["broken"] and "device error" in messages["broken"]
    assert "printer stopped: Paper jam at the cutter (job Stopped-" in messages["stopped"]


def test_cups_spooler_that_cannot_be_asked(tmp_path: Path, fake_lp: Path) -> None:
    """lp took the job but no scheduler answers the status question: printed, with a note."""
    svc = _service(tmp_path, office={"kind": "cups", "queue": "Office_A4", "server": "127.0.0.1:1"})
    outcome = svc.print_text("x", purpose=Purpose.DOCUMENT, title="t")
    assert outcome.printed and outcome.job == "Office_A4-17"
    assert outcome.message == "Printed on office (lp -d Office_A4 -h 127.0.0.1:1); the spooler did not say whether it printed."
    assert _lp_calls(fake_lp)[0]["args"][:2] == ["-h", "127.0.0.1:1"]


class _BadIpp(http.server.BaseHTTPRequestHandler):
    """A scheduler that answers status OK and then a cut-off attribute (security review, wave 4)."""

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"\x02\x00\x00\x00\x00\x00\x00\x01" + b"\x04\x21\x00"  # status ok, then a cut-off attribute
        self.send_response(200)
        self.send_header("Content-Type", "application/ipp")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_malformed_ipp_answer_is_a_print_outcome_not_a_crash() -> None:
    """Security review (wave 4) finding 9: ipp._parse trusted lengths from the network; a truncated
    answer raised struct.error, which escaped PrintService.print (only PrintFailed is caught)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _BadIpp)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        try:
            out = follow_job(f"127.0.0.1:{server.server_address[1]}", "q", 1, "q-1", seconds=1)
        except PrintFailed:
            return
        assert isinstance(out, Sent)
    finally:
        server.shutdown()
        server.server_close()


def _ipp_head(status: int = 0) -> bytes:
    return struct.pack(">bbHI", 2, 0, status, 1)


_GARBAGE_ANSWERS = {
    # an attribute whose name length runs past the end
    "name-cut": _ipp_head() + b"\x01\x21\xff\xffjob-state",
    # the value length runs past the end
    "value-cut": _ipp_head() + b"\x01\x21\x00\x09job-state\x00\x04\x00",
    # no end-of-attributes tag
    "no-end": _ipp_head() + b"\x01\x21\x00\x09job-state\x00\x04\x00\x00\x00\x09",
    # not IPP at all
    "html": b"<html><body>It works!</body></html>",
    # a tag and nothing after it
    "tag-only": _ipp_head() + b"\x01\x21",
}


class _RawIpp:
    """A loopback TCP server speaking just enough HTTP to hand back ``body`` (real sockets)."""

    def __init__(self, body: bytes, *, length: int | None = None) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.body = body
        self.length = len(body) if length is None else length
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    got = b""
                    while b"\r\n\r\n" not in got:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        got += chunk
                    head, _, rest = got.partition(b"\r\n\r\n")
                    want = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
                    while len(rest) < want:
                        rest += conn.recv(4096)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\nConnection: close\r\n"
                                 + f"Content-Length: {self.length}\r\n\r\n".encode() + self.body)
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("answer", sorted(_GARBAGE_ANSWERS))
def test_garbage_ipp_answers_are_ipp_errors(answer: str) -> None:
    srv = _RawIpp(_GARBAGE_ANSWERS[answer])
    try:
        with pytest.raises(IppError):
            job_state(f"127.0.0.1:{srv.port}", 7, timeout=2)
        with pytest.raises(IppError):
            printer_state(f"127.0.0.1:{srv.port}", "q", timeout=2)
        # lp took the job; the spooler's answer cannot be read: printed, with the note (no reprint)
        out = follow_job(f"127.0.0.1:{srv.port}", "q", 7, "q-7", seconds=1)
        assert out == Sent("q-7", "the spooler did not say whether it printed")
    finally:
        srv.close()


def test_an_answer_cut_short_on_the_wire_is_an_ipp_error() -> None:
    srv = _RawIpp(_ipp_head() + b"\x01\x03", length=500)  # says 500 bytes, sends 10, closes
    try:
        with pytest.raises(IppError):
            job_state(f"127.0.0.1:{srv.port}", 7, timeout=2)
    finally:
        srv.close()


def test_a_garbage_answer_after_lp_took_the_job_reads_printed_with_a_note(tmp_path: Path, fake_lp: Path) -> None:
    srv = _RawIpp(_GARBAGE_ANSWERS["value-cut"])
    try:
        svc = _service(tmp_path, office={"kind": "cups", "queue": "Office_A4", "server": f"127.0.0.1:{srv.port}"})
        outcome = svc.print_text("x", purpose=Purpose.DOCUMENT, title="t")
    finally:
        srv.close()
    assert outcome.printed and outcome.job == "Office_A4-17"
    assert outcome.message.endswith("; the spooler did not say whether it printed.")


@pytest.mark.parametrize("server", ["host:99999", "host:abc", "-x", "a b", "printhost:631 -o x", "host:0"])
def test_a_bad_cups_server_setting_is_a_configuration_error_naming_the_printer(tmp_path: Path, server: str) -> None:
    with pytest.raises(ValueError, match=r"printers\.office\.server[\s\S]*is not a CUPS scheduler"):
        load_settings(home=tmp_path, printers={"office": {"kind": "cups", "server": server}})


@pytest.mark.parametrize("server", ["printhost", "printhost:631", "10.0.0.5:8631", "[::1]:631", "[::1]",
                                    "/run/cups/cups.sock"])
def test_good_cups_server_settings_load(tmp_path: Path, server: str) -> None:
    s = load_settings(home=tmp_path, printers={"office": {"kind": "cups", "server": server}})
    assert s.printers["office"].server == server


def test_an_unusable_cups_server_from_the_environment_is_an_ipp_error() -> None:
    """$CUPS_SERVER is not checked by the settings: what it names cannot be asked (IppError), never a crash."""
    for server in ("host:99999", "host:abc", "[::1"):
        with pytest.raises(IppError):
            job_state(server, 7, timeout=1)


# -- ESC/POS status read back (DLE EOT) ---------------------------------------------------------------

@pytest.mark.parametrize(("answers", "printed", "said"), [
    (ANSWERS_OK, True, "Printed on roll (127.0.0.1:{port})."),
    (ANSWERS_PAPER_LOW, True, "Printed on roll (127.0.0.1:{port}); the paper is running low."),
    (ANSWERS_PAPER_OUT, False, "Not printed: printer roll (127.0.0.1:{port}): printer out of paper; the file is "
                               "kept at {kept}."),
    (None, True, "Printed on roll (127.0.0.1:{port})."),
])
def test_escpos_status_before_printing(tmp_path: Path, answers: dict[int, int] | None, printed: bool,
                                       said: str) -> None:
    """The printer is asked its paper status first; out of paper prints nothing and keeps the file;
    a printer that does not answer (mute) is printed to after the short wait."""
    printer = Listener(answers)
    kept = tmp_path / "R1.txt"
    try:
        svc = _service(tmp_path, roll={"kind": "escpos-tcp", "host": "127.0.0.1", "port": printer.port,
                                       "status_ms": 300})
        outcome = svc.print_text("收据 receipt", purpose=Purpose.RECEIPT, title="R1", kept_at=kept)
        assert printer.done.wait(5)
        assert (outcome.printed, outcome.message) == (printed, said.format(port=printer.port, kept=kept))
        assert printer.asked[0][0] == 4  # the paper sensor first
        if printed:
            assert decode_escpos(printer.jobs[0]).text == "收据 receipt\n"
        else:
            assert printer.jobs == []
    finally:
        printer.close()


def test_status_not_asked_when_turned_off(tmp_path: Path) -> None:
    printer = Listener(ANSWERS_PAPER_OUT)
    try:
        svc = _service(tmp_path, roll={"kind": "escpos-tcp", "host": "127.0.0.1", "port": printer.port,
                                       "status_ms": 0})
        assert svc.print_text("x", purpose=Purpose.RECEIPT, title="R1").printed
        assert printer.done.wait(5) and printer.asked == [[]]
    finally:
        printer.close()


def test_a_receipt_copy_is_saved_only_when_the_print_does_not_happen(tmp_path: Path, listener: Listener) -> None:
    """``keep``: a posting writes no receipt file; a failed print (or no printer) saves the copy the
    screen shows (0600, the directory 0700) and says where; a print that goes out saves nothing."""
    from teller_tui.common.printing.service import KeepCopy

    receipts = tmp_path / "receipts"
    shown = "收据 R20261204-000000007\nCASH IN 20.00"
    keep = KeepCopy(receipts, "R20261204-000000007", shown)
    printed = _service(tmp_path, counter={"kind": "escpos-tcp", "host": "127.0.0.1", "port": listener.port}
                       ).print_text("laid out for the roll", purpose=Purpose.RECEIPT, title="R1", keep=keep)
    assert printed.printed and not receipts.exists()
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]  # closed again: nothing listens there
    failed = _service(tmp_path, counter={"kind": "escpos-tcp", "host": "127.0.0.1", "port": port,
                                         "timeout_seconds": 2}).print_text("roll", purpose=Purpose.RECEIPT,
                                                                            title="R1", keep=keep)
    kept = receipts / "R20261204-000000007.txt"
    assert not failed.printed and failed.message.endswith(f"the file is kept at {kept}.")
    assert kept.read_text(encoding="utf-8") == shown  # what the screen showed, not the roll's layout
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and stat.S_IMODE(receipts.stat().st_mode) == 0o700
    kept.unlink()
    none = _service(tmp_path).print_text("roll", purpose=Purpose.RECEIPT, title="R1", keep=keep)
    assert none.message == f"No printer is set up for terminal T01; the file is kept at {kept}." and kept.exists()
    unsafe = _service(tmp_path).print_text("roll", purpose=Purpose.RECEIPT, title="R1",
                                           keep=KeepCopy(receipts, "../escape", shown))
    assert unsafe.message == "No printer is set up for terminal T01." and not (tmp_path / "escape.txt").exists()
