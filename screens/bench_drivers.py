"""Child-process drivers for ``teller bench`` figures that run a Textual app.

They live in the UI package so that the core never imports Textual; the core's benchmark
modules spawn ``python -m screens.bench_drivers startup MODE`` and
``python -m screens.bench_drivers keystroke MODE TEXTS`` and read what they print. Both wrap
Textual's frame output to time the frame that matters, identically for the teller app and
its reference app.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from teller_tui.bench.startup import MARKER


# -- cold start (teller_tui.bench.startup) ---------------------------------------------------------
#: Modes: ``minimal`` / ``teller`` stop at the first frame; ``reference`` / ``teller-usable`` /
#: ``kiosk-usable`` stop at the first frame in which the person can act (the reference app's input,
#: the sign-in button, the kiosk's language buttons enabled) — or at a startup error screen.
STARTUP_MODES = ("minimal", "teller", "reference", "teller-usable", "teller-core", "teller-desk", "teller-echo",
                 "kiosk-usable")
#: ``teller-desk``: the keys typed at the first frame (``user<TAB>password<TAB>code<ENTER>``, tab-separated).
BURST_ENV = "TELLER_BENCH_BURST"
#: When set: the file the driver writes ``sorted(sys.modules)`` to (JSON) as the frame fires.
MODULES_ENV = "TELLER_BENCH_MODULES_FILE"
#: When set (``teller-echo``): keys typed from another thread every this many ms until the core is ready;
#: the marker line then carries the worst key-to-frame delay.
ECHO_ENV = "TELLER_BENCH_ECHO_MS"
ECHO_KEYS = 60


def _usable(app: Any, mode: str) -> str | None:
    """The screen's name once the frame shows what ``mode`` waits for, else None."""
    screen = app.screen
    name = type(screen).__name__
    if mode in ("minimal", "teller"):
        return name
    if name in ("StartupErrorScreen",):
        return name
    try:
        if mode == "reference":
            return name if not screen.query_one("#user").disabled else None
        if mode == "teller-usable":  # the database open and checked, the button enabled (the core may be loading)
            ready = name == "SignInScreen" and bool(getattr(app, "database_ready", False))
            return name if ready and not screen.query_one("#submit").disabled else None
        if mode == "teller-core":  # the core loaded too (services built): a sign-in goes ahead at once
            ready = name == "SignInScreen" and bool(getattr(app, "services_ready", False))
            return name if ready and not screen.query_one("#submit").disabled else None
        if mode == "teller-desk":  # a sign-in typed in one burst at the first frame: the desk is shown
            return name if name == "HomeScreen" else None
        if mode == "kiosk-usable":
            if name == "WelcomeScreen" and "Out of service" in str(screen.query_one("#welcome-status").render()):
                return "WelcomeScreen(out of service)"
            ready = name == "WelcomeScreen" and bool(getattr(app, "usable", False))
            return name if ready and not screen.query_one("#lang-zh").disabled else None
    except Exception:  # noqa: BLE001 - not composed yet
        return None
    return None


def _database_url() -> str:
    url = os.environ.get("TELLER_DATABASE_URL", "")
    if url:
        return url
    home = os.environ.get("TELLER_HOME") or os.path.expanduser("~/.teller")
    return f"sqlite:///{os.path.join(home, 'teller.db')}"


def startup_driver(mode: str) -> None:  # pragma: no cover - exercised through spawn()
    from textual.app import App

    if mode not in STARTUP_MODES:
        raise SystemExit(f"unknown mode {mode!r}")
    original_display = App._display
    original_run = App.run
    fired = False
    first = True
    echo: dict[str, Any] = {"sent": [], "shown": 0, "delays": []}

    def start_typing(app: Any) -> None:
        """At the first frame: the burst (``teller-desk``) or the echo typist (``teller-echo``)."""
        from textual import events
        from textual.keys import _character_to_key

        def key(token: str) -> Any:
            if token == "\t":
                return events.Key("tab", "\t")
            if token == "\r":
                return events.Key("enter", "\r")
            return events.Key(_character_to_key(token), token)

        burst = os.environ.get(BURST_ENV, "")
        if mode == "teller-desk" and burst:
            for ch in burst + "\r":
                app.post_message(key(ch).set_sender(app))
        if mode == "teller-echo":
            import threading
            import time

            interval = float(os.environ.get(ECHO_ENV) or 50) / 1000

            def typist() -> None:  # a terminal's input thread: keys arrive whatever the app is doing
                # The user-name field holds 64 characters: at most ECHO_KEYS keys (3 s at the default pace).
                while not fired and not getattr(app, "services_ready", False) and len(echo["sent"]) < ECHO_KEYS:
                    time.sleep(interval)
                    echo["sent"].append(time.perf_counter())
                    app._driver.send_message(key("x").set_sender(app))

            threading.Thread(target=typist, daemon=True).start()

    def display(self: Any, screen: Any, renderable: Any) -> None:
        nonlocal fired, first
        original_display(self, screen, renderable)
        if renderable is None or fired:
            return
        if first:
            first = False
            start_typing(self)
        if mode == "teller-echo":
            import time

            try:
                shown = len(self.screen.query_one("#username").value)
            except Exception:  # noqa: BLE001 - not composed yet
                shown = echo["shown"]
            now = time.perf_counter()
            for i in range(echo["shown"], min(shown, len(echo["sent"]))):
                echo["delays"].append(now - echo["sent"][i])
            echo["shown"] = max(echo["shown"], shown)
            name = type(self.screen).__name__
            if name == "StartupErrorScreen":
                pass
            elif not (getattr(self, "services_ready", False) and echo["shown"] >= len(echo["sent"]) > 0):
                return
        shown_name = _usable(self, "teller-core" if mode == "teller-echo" else mode)
        if shown_name is None:
            return
        fired = True
        try:  # what a terminal driver would do with the frame (the headless driver skips it)
            renderable.render_segments(self.console)
        except Exception:  # noqa: BLE001
            pass
        hwm = rss_now = ""
        try:
            with open("/proc/self/status") as fh:
                status = {ln.split(":")[0]: ln.split()[1] for ln in fh if ln.startswith(("VmHWM:", "VmRSS:"))}
            hwm, rss_now = status.get("VmHWM", ""), status.get("VmRSS", "")
        except OSError:
            pass
        modules_file = os.environ.get(MODULES_ENV)
        if modules_file:
            with open(modules_file, "w", encoding="utf-8") as fh:
                json.dump(sorted(sys.modules), fh)
        delays = sorted(echo["delays"]) or [0.0]
        p95 = delays[max(0, -(-len(delays) * 95 // 100) - 1)]
        extra = f" {delays[-1] * 1000:.1f}/{p95 * 1000:.1f}" if mode == "teller-echo" else f" {rss_now}"
        sys.stdout.write(f"{MARKER} {shown_name.replace(' ', '_')} {hwm}{extra}\n")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs["headless"] = True
        return original_run(self, *args, **kwargs)

    App._display = display  # type: ignore[method-assign]
    App.run = run  # type: ignore[method-assign]
    if mode in ("minimal", "reference"):
        reference_app(with_database=mode == "reference").run()
    elif mode.startswith("teller"):
        from screens.cli import main

        main(["run"])
    else:
        from screens.cli import main

        main(["kiosk"])
    sys.stdout.write("no frame\n")


def reference_app(*, with_database: bool) -> Any:  # pragma: no cover - exercised through spawn()
    """The reference apps: a header, an input and a footer. ``with_database``: the input starts
    disabled; after the first frame a thread imports SQLAlchemy, opens the same database, runs
    ``SELECT 1`` and then enables the input (what the teller app must do at the least)."""
    from textual import work
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header, Input

    class MinimalApp(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Input(placeholder="user name", id="user", disabled=with_database)
            yield Footer()

        def on_mount(self) -> None:
            if with_database:
                self.call_after_refresh(self.open_database)

        @work(thread=True)
        def open_database(self) -> None:
            import sqlalchemy

            engine = sqlalchemy.create_engine(_database_url())
            with engine.connect() as conn:
                conn.execute(sqlalchemy.text("SELECT 1")).scalar()
            self.call_from_thread(self.enable)

        def enable(self) -> None:
            self.query_one("#user", Input).disabled = False

    return MinimalApp()


# -- keystroke to results (teller_tui.bench.keystroke) ---------------------------------------------
async def keystroke_driver(mode: str, texts: list[str]) -> dict[str, Any]:  # pragma: no cover - via drive()
    import time

    from textual import events
    from textual.app import App
    from textual.widgets import Input

    state: dict[str, Any] = {"t_key": None, "inapp": []}
    original_display = App._display
    original_on_event = App.on_event

    async def on_event(self: Any, event: Any) -> None:
        if isinstance(event, events.Key) and state["t_key"] is None:
            state["t_key"] = time.perf_counter()
        await original_on_event(self, event)

    def display(self: Any, screen: Any, renderable: Any) -> None:
        original_display(self, screen, renderable)
        t_key = state["t_key"]
        if renderable is None or t_key is None or not state["done"]():
            return
        try:
            renderable.render_segments(self.console)
        except Exception:  # noqa: BLE001
            pass
        state["inapp"].append((time.perf_counter() - t_key) * 1000)
        state["t_key"] = None

    App.on_event = on_event  # type: ignore[method-assign]
    App._display = display  # type: ignore[method-assign]

    typed = {"text": ""}
    if mode == "input":
        from textual.app import ComposeResult

        class InputApp(App[None]):
            def compose(self) -> ComposeResult:
                yield Input(id="q")

        app: Any = InputApp()

        def field() -> Any:
            return app.screen.query_one("#q", Input)

        def done() -> bool:
            return bool(field().value == typed["text"])
    else:
        from teller_tui.desk.search import clean_query
        from teller_tui.common.settings import load_settings
        from teller_tui.services import make_services

        from screens.app import make_app
        from screens.lookup import LookupScreen

        settings = load_settings()
        services = make_services(settings)
        app = make_app(settings, services=services)

        def field() -> Any:
            return app.screen.query_one("#lookup-query", Input)

        def done() -> bool:
            screen = app.screen
            page = getattr(screen, "page", None)
            want = clean_query(typed["text"])
            if not want:
                return page is None or page.query == ""
            return page is not None and page.query == want
    state["done"] = done

    press_ms: list[float] = []
    extra = 0
    async with app.run_test(size=(120, 40)) as pilot:
        if mode == "lookup":
            await app.workers.wait_for_complete()
            await pilot.pause()
            await app.push_screen(LookupScreen())
            await pilot.pause()
        field().focus()
        await pilot.pause()
        for text in texts:
            typed["text"] = ""
            field().value = ""
            for _ in range(200):
                await pilot.pause()
                if done():
                    break
            for i, ch in enumerate(text):
                typed["text"] = text[: i + 1]
                t0 = time.perf_counter()
                await pilot.press(ch)
                await pilot.pause()
                for _ in range(400):
                    if done():
                        break
                    extra += 1
                    await pilot.pause()
                press_ms.append((time.perf_counter() - t0) * 1000)
                state["t_key"] = None
        if mode == "lookup":
            services.close()
    return {"press_ms": press_ms, "inapp_ms": state["inapp"], "extra_pauses": extra}


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1] == "startup":
        startup_driver(sys.argv[2])
    else:
        import asyncio

        result = asyncio.run(keystroke_driver(sys.argv[2], json.loads(sys.argv[3])))
        print(json.dumps(result))
        sys.stdout.flush()
        os._exit(0)
