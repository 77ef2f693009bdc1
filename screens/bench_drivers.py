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
STARTUP_MODES = ("minimal", "teller", "reference", "teller-usable", "kiosk-usable")


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
        if mode == "teller-usable":
            ready = name == "SignInScreen" and bool(getattr(app, "services_ready", False))
            return name if ready and not screen.query_one("#submit").disabled else None
        if mode == "kiosk-usable":
            if name == "WelcomeScreen" and "Out of service" in str(screen.query_one("#welcome-status").render()):
                return "WelcomeScreen(out of service)"
            ready = name == "WelcomeScreen" and bool(getattr(app, "ready", False))
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

    def display(self: Any, screen: Any, renderable: Any) -> None:
        nonlocal fired
        original_display(self, screen, renderable)
        if renderable is None or fired:
            return
        shown = _usable(self, mode)
        if shown is None:
            return
        fired = True
        try:  # what a terminal driver would do with the frame (the headless driver skips it)
            renderable.render_segments(self.console)
        except Exception:  # noqa: BLE001
            pass
        hwm = ""
        try:
            with open("/proc/self/status") as fh:
                hwm = next((ln.split()[1] for ln in fh if ln.startswith("VmHWM:")), "")
        except OSError:
            pass
        sys.stdout.write(f"{MARKER} {shown.replace(' ', '_')} {hwm}\n")
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
    elif mode in ("teller", "teller-usable"):
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
