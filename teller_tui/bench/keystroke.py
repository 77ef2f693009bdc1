"""Keystroke to updated results in the lookup screen, over the whole customer base.

One harness, two apps, each in its own process (``python -m teller_tui.bench.keystroke``):

* ``lookup``: the real ``TellerApp`` on the built database with ``screens.lookup.LookupScreen``
  on top (its search runs in a thread worker on every keystroke);
* ``input``: a Textual app with one empty ``Input`` (the reference).

For each character the harness does Pilot ``press`` + ``pause`` and, if the screen does not yet
show the answer to what was typed (the lookup's worker may still be searching), further
``pause()`` until it does; that wall time is the sample (p95, ratio to the reference). Pilot
cannot go below Textual's idle wait (~83 ms), so the in-app measure is reported too: the time
from the key event reaching the app to the first frame rendered after the screen shows the
answer (``App._display`` wrapped, frame rendered to terminal segments). A key whose answer
changes nothing on screen (the same page) needs no frame: it gives no in-app sample.

The Pilot row is judged against issue 18's target, ``TARGET`` (1.5x the empty Input's p95).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from teller_tui.bench.data import DataSet
    from teller_tui.bench.runner import Context, Row

NAME = "keystroke"
#: Issue 18's target: keystroke to updated lookup results within 1.5x of an empty Input in the same run.
TARGET = 1.5
TITLE = "keystroke to updated results in the lookup screen (Pilot press + pause, and in-app)"


def texts_for(data: DataSet, rounds: int, seed: int = 9) -> list[str]:
    """What a teller types: a phone number's first digits, a name, a pinyin spelling, an ID fragment."""
    assert data.db_path is not None
    rng = random.Random(seed)
    con = sqlite3.connect(f"file:{data.db_path}?mode=ro", uri=True)
    try:
        max_id = con.execute("SELECT max(id) FROM customer").fetchone()[0] or 1
        out = []
        for _ in range(rounds):
            name, latin, phone, idn = con.execute(
                "SELECT full_name, name_latin, phone, id_number FROM customer WHERE id >= ? AND id_number IS NOT NULL "
                "ORDER BY id LIMIT 1", (rng.randint(1, max_id),)).fetchone() or ("王芳", "wang fang", "13800138000",
                                                                                    "110101199003071234")
            out += [phone[:7], name, latin.replace(" ", "")[:8], idn[6:14]]
    finally:
        con.close()
    return out


def drive(mode: str, texts: list[str], env: dict[str, str], timeout: float = 600.0) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "screens.bench_drivers", "keystroke", mode, json.dumps(texts)],
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            result: dict[str, Any] = json.loads(line)
            return result
    raise RuntimeError(f"{mode} keystroke driver failed (exit {proc.returncode}): "
                       f"{(proc.stderr.strip().splitlines() or [''])[-1][:300]}")


def run(ctx: Context) -> list[Row]:
    from teller_tui.bench.runner import Row, median, percentile, ratio_row

    data = ctx.customers()
    texts = texts_for(data, ctx.opts.keystroke_rounds)
    env = {**os.environ, **data.env}
    ref = drive("input", texts, env)
    got = drive("lookup", texts, env)
    n = data.info.get("customers", ctx.opts.customers)
    p_app, p_ref = percentile(got["press_ms"], 95), percentile(ref["press_ms"], 95)
    pilot = ratio_row(NAME, f"keystroke to updated results, lookup screen, {n:,} customers "
                            f"(Pilot press + pause, p95 of {len(got['press_ms'])}; issue 18: ≤ {TARGET:g}×)",
                      p_app, p_ref, TARGET, unit="ms",
                      fmt=lambda v: f"{v:,.0f} ms", p50_ms=median(got["press_ms"]),
                      reference_p50_ms=median(ref["press_ms"]), extra_pauses=got.get("extra_pauses", 0),
                      texts=texts)
    pilot.reference = f"{p_ref:,.0f} ms (empty Input)"
    rows = [pilot]
    if got["inapp_ms"] and ref["inapp_ms"]:
        a95, r95 = percentile(got["inapp_ms"], 95), percentile(ref["inapp_ms"], 95)
        rows.append(Row(NAME, "  in-app: key event to the frame showing the results (p50 / p95)",
                        f"{median(got['inapp_ms']):.1f} / {a95:.1f} ms",
                        f"{median(ref['inapp_ms']):.1f} / {r95:.1f} ms (empty Input)",
                        f"{a95 / r95:.2f}× at p95" if r95 else "—", "INFO", "informational",
                        {"p50_ms": median(got["inapp_ms"]), "p95_ms": a95, "reference_p50_ms": median(ref["inapp_ms"]),
                         "reference_p95_ms": r95, "samples": len(got["inapp_ms"])}))
    return rows
