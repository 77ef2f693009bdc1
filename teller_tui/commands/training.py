"""``teller training setup|list|report``: the training database, its scenarios, and what training achieves.

* ``setup`` builds the training database (``$TELLER_HOME/training/teller.db``, or
  ``TELLER_TRAINING_DATABASE_URL``) from the demo generator, with the simulated supervisor and one
  customer per scenario; ``teller run --training`` then opens the desk on it.
* ``list`` shows every scenario in Chinese and English.
* ``report`` shows, per trainee, attempts, passes, scores over time per scenario and common
  mistakes (from the training audit trail), and the same person's live error signals (refusals,
  reversals, over/short, complaints) in the days before and after their first training result.
"""

from __future__ import annotations

import argparse

FORMATS = ("table", "csv", "json")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("training", help="training mode: build its database, list scenarios, report results")
    tsub = p.add_subparsers(dest="training_command", metavar="ACTION", required=True)
    st = tsub.add_parser("setup", help="build the training database (separate from the live one)")
    st.add_argument("--customers", type=int, default=200, help="demo customers besides the scenario ones")
    st.add_argument("--seed", type=int, default=7)
    st.add_argument("--force", action="store_true", help="replace an existing training database")
    st.add_argument("--quiet", action="store_true", help="no progress bars")
    st.set_defaults(func=cmd_setup)
    ls = tsub.add_parser("list", help="the training scenarios, in Chinese and English")
    ls.set_defaults(func=cmd_list)
    rp = tsub.add_parser("report", help="attempts, scores, passes, mistakes and live error signals")
    rp.add_argument("--trainee", default=None, help="only this person (user name)")
    rp.add_argument("--format", choices=FORMATS, default="table")
    rp.add_argument("--days", type=int, default=30, help="live signals this many days before/after training")
    rp.set_defaults(func=cmd_report)


def cmd_setup(args: argparse.Namespace) -> int:
    from teller_tui.common.settings import load_settings
    from teller_tui.demo.training import build_training

    summary = build_training(load_settings(), customers=args.customers, seed=args.seed, force=args.force,
                             progress=not args.quiet)
    print(f"Training database: {summary.demo.database} ({summary.scenarios} scenario customers, "
          f"{summary.demo.customers} demo customers). Start it with `teller run --training`.")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from teller_tui.common.formatting import pad
    from teller_tui.common.text import clean_text
    from teller_tui.training.scenarios import load_scenarios

    for sc in load_scenarios():
        print(f"{pad(sc.id, 22)} {pad(str(sc.pass_mark) + '%', 5)} {len(sc.steps)} steps  "
              f"{clean_text(sc.title.zh_CN)}")
        print(f"{'':22} {'':5}          {clean_text(sc.title.en)}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    import csv
    import json
    import sys

    from teller_tui.common.clock import SystemClock
    from teller_tui.common.settings import load_settings
    from teller_tui.common.text import clean_text
    from teller_tui.services import open_database
    from teller_tui.training.mode import training_settings
    from teller_tui.training.report import archive_path, archived, attempts, common_mistakes, effect, summarize

    live_settings = load_settings()
    tsettings = training_settings(live_settings)
    tdb = open_database(tsettings)
    try:
        with tdb.read() as s:
            found = archived(archive_path(tsettings.home), trainee=args.trainee) + attempts(s, trainee=args.trainee)
    finally:
        tdb.dispose()
    summaries = summarize(found)
    now = SystemClock().now()
    effects = {}
    if summaries:
        ldb = open_database(live_settings)
        try:
            with ldb.read() as s:
                for t in summaries:
                    effects[t.trainee] = effect(s, t, now, days=args.days)
        finally:
            ldb.dispose()

    rows = []
    for t in summaries:
        e = effects.get(t.trainee)
        live = {} if e is None else {
            "trained_at": e.trained_at.isoformat(),
            "before": {"refusals": e.before.refusals, "reversals": e.before.reversals,
                       "over_short": e.before.over_short, "complaints": e.before.complaints},
            "after": {"refusals": e.after.refusals, "reversals": e.after.reversals,
                      "over_short": e.after.over_short, "complaints": e.after.complaints},
            "per_30_days_before": e.per_30_days("before"), "per_30_days_after": e.per_30_days("after"),
            "days_after": round(e.days_after, 2)}
        rows.append({"trainee": t.trainee, "attempts": t.attempts, "passes": t.passes, "mean_score": t.mean_score,
                     "scores": t.scenarios, "mistakes": dict(t.mistakes.most_common()), "live": live})
    if args.format == "json":
        print(json.dumps({"trainees": rows, "common_mistakes": common_mistakes(summaries)}, ensure_ascii=False,
                         indent=2))
        return 0
    if args.format == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(["trainee", "scenario", "attempts", "passes", "scores_over_time", "last_score",
                    "signals_before", "signals_after", "per_30_days_before", "per_30_days_after"])
        for t in summaries:
            e = effects.get(t.trainee)
            for sc, scores in t.scenarios.items():
                passes = sum(1 for a in found if a.trainee == t.trainee and a.scenario == sc and a.passed)
                w.writerow([clean_text(t.trainee), sc, len(scores), passes, " ".join(map(str, scores)), scores[-1],
                            e.before.total if e else "", e.after.total if e else "",
                            _csv(e.per_30_days("before")) if e else "", _csv(e.per_30_days("after")) if e else ""])
        return 0
    if not summaries:
        print("No training results yet.")
        return 0
    for t in summaries:
        print(f"{clean_text(t.trainee)}: {t.attempts} attempts, {t.passes} passed, mean score {t.mean_score}")
        for sc, scores in t.scenarios.items():
            print(f"  {sc:22} scores over time: {' → '.join(map(str, scores))}")
        for m, n in t.mistakes.most_common(3):
            print(f"  missed {n}×: {m}")
        e = effects.get(t.trainee)
        if e is not None:
            print(f"  live errors (refusals/reversals/over-short/complaints) {args.days} days before training: "
                  f"{e.before.refusals}/{e.before.reversals}/{e.before.over_short}/{e.before.complaints} "
                  f"({_rate(e.per_30_days('before'))}); after ({e.days_after:.1f} days): "
                  f"{e.after.refusals}/{e.after.reversals}/{e.after.over_short}/{e.after.complaints} "
                  f"({_rate(e.per_30_days('after'))})")
    cm = common_mistakes(summaries)
    if cm:
        print("Common mistakes: " + ", ".join(f"{m} ({n}×)" for m, n in cm))
    return 0


def _rate(value: float | None) -> str:
    return "under a day: too soon to say" if value is None else f"{value} per 30 days"


def _csv(value: float | None) -> str:
    return "" if value is None else str(value)
