"""``teller kb search|sync|list``: the knowledge base from the command line."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("kb", help="knowledge base: search the help articles, seed them from data/kb")
    ksub = p.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    se = ksub.add_parser("search", help="ranked search (Chinese or English), with the matching passage")
    se.add_argument("text", nargs="+", metavar="TEXT")
    se.add_argument("--locale", choices=("zh_CN", "en"), help="language (default: by the text, else settings)")
    se.add_argument("--limit", type=int, default=5, metavar="N")
    se.set_defaults(func=cmd_search)
    sy = ksub.add_parser("sync", help="add new shipped articles and shipped updates (never overwrites a local "
                                      "revision: a conflict is listed instead)")
    sy.set_defaults(func=cmd_sync)
    ls = ksub.add_parser("list", help="list the published articles of a language")
    ls.add_argument("--locale", choices=("zh_CN", "en"))
    ls.set_defaults(func=cmd_list)


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


def cmd_search(args: argparse.Namespace) -> int:
    from teller_tui.auth.staff import system_actor
    from teller_tui.common.formatting import truncate
    from teller_tui.common.settings import load_settings
    from teller_tui.common.text import clean_text
    from teller_tui.services import make_services

    settings = load_settings()
    text = " ".join(args.text)
    locale = args.locale or ("zh_CN" if _has_cjk(text) else "en" if text.isascii() else settings.locale)
    services = make_services(settings)
    try:
        hits = services.kb.search(system_actor(settings), text, locale, limit=args.limit)
    finally:
        services.close()
    if not hits:
        print(f"No article matches {clean_text(text)!r} ({locale}).")
        return 1
    for n, hit in enumerate(hits, 1):
        print(f"{n}. {clean_text(hit.article.title)}  [{hit.article.article_id}]  score {hit.score:.2f}")
        print(f"   {truncate(clean_text(hit.passage), 100)}")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from teller_tui.auth.staff import system_actor
    from teller_tui.common.settings import load_settings
    from teller_tui.services import make_services

    settings = load_settings()
    services = make_services(settings)
    try:
        report = services.kb.sync_shipped(system_actor(settings))
    finally:
        services.close()
    print(f"Knowledge base: {report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
          f"{report.conflicts} conflict(s) with local revisions (kept; review them in the app).")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from teller_tui.auth.staff import system_actor
    from teller_tui.common.formatting import pad
    from teller_tui.common.settings import load_settings
    from teller_tui.common.text import clean_text
    from teller_tui.services import make_services

    settings = load_settings()
    locale = args.locale or settings.locale
    services = make_services(settings)
    try:
        actor = system_actor(settings)
        ids = sorted({h.article.article_id for h in services.kb.revisions(actor) if h.article.locale == locale
                      and h.status == "published"})
        for article_id in ids:
            art = services.kb.article(actor, article_id, locale)
            print(f"{pad(article_id, 24, clip=True)} {clean_text(art.title)}")
    finally:
        services.close()
    return 0
