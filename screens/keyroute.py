"""Keys in order, each to the widget focused when it is processed (a mixin for the apps).

Why: Textual's app forwards every key it reads straight into the focused widget's message
queue. Keys that arrive in one read (a fast typist, ``tmux send-keys``, a password manager,
a paste) are all forwarded before the first of them is handled, so in
``teller1<Tab>secret<Tab>123456<Enter>`` the Tab moves the focus only after ``secret`` and the
code were already queued for the user-name field, and a priority binding (ctrl+n) ran before
the digits typed just before it had reached their field.

How: the app routes one key at a time. After forwarding a key, it sends a probe message
(:class:`KeyRouted`) to the same widget; the probe is queued behind the key, bubbles up the
same chain as the key and reaches the app once the key has been handled at every level
(including a non-priority binding such as Tab's ``focus_next`` that runs on the app). Keys that
arrive meanwhile wait in :attr:`held_keys`. When keys are waiting, the probe makes a second
trip (and more while any widget on the screen still has messages queued), so what the key set
off — ``Input.Submitted`` moving to the next field, a form's ``Changed`` handler, a focus change
a dialog's result callback asked for with ``focus()`` (queued on the app itself) — is done before
the next key is routed. A probe that never comes back (its widget was removed) releases
the queue after :data:`PROBE_TIMEOUT`.

Keys that arrive while the app is starting and nothing has focus yet (a browser page sends keys
as soon as it loads, before the sign-in screen has focused its first field) wait until a widget
takes the focus, at most :data:`FIRST_FOCUS_WAIT` seconds from the app's first event; they would
otherwise go to a screen with no field and be lost. Once anything has had focus, or a second
screen is up, keys are never held for it (a dialog without a field still gets its keys at once).

Work that will change the screen when it ends (a sign-in or an unlock checking the password in
a worker) holds the keys typed behind it with :meth:`OrderedKeys.hold_keys` until
:meth:`OrderedKeys.release_keys`: in ``teller1<Tab>secret<Tab>123456<Enter><F2>`` the F2 waits
for the desk (where it finds a customer) instead of reaching the sign-in screen (where it
switches the language). A hold nobody releases ends after :data:`HOLD_MAX` seconds.

A terminal sends Esc as the byte that also starts an Alt key, so Textual reads Esc followed
quickly by a letter or digit (one read, or within its escape delay) as ``alt+<key>``: with no
``alt+`` binding in force such a key is routed as the two keys typed, Esc then the letter
(:func:`split_alt`). Esc followed by a Ctrl key leaves no trace of the Esc (Textual reports the
Ctrl key alone), which is why the desk's Ctrl keys work on every screen.

A paste whose text holds a Tab or a line break is typed as keys (a password manager's
``user<Tab>password<Enter>``), so it lands field by field like typed keys. Only public Textual
API is used: ``post_message``, ``set_timer``, ``message_queue_size`` and the app's own
``on_event``.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from textual import events
from textual.message import Message
from textual.widgets import Input

__all__ = ["FIRST_FOCUS_WAIT", "HOLD_MAX", "KeyRouted", "OrderedKeys", "PROBE_TIMEOUT", "paste_as_keys",
           "split_alt"]

#: Seconds after which a probe that has not come back no longer holds the keys behind it.
PROBE_TIMEOUT = 0.25
#: Probe trips per key while keys are waiting: at least MIN, more while messages are pending.
MIN_TRIPS = 2
MAX_TRIPS = 8
#: Seconds keys wait for the app's first focused widget (then they go wherever they can).
FIRST_FOCUS_WAIT = 3.0
#: Seconds a hold (``hold_keys``) keeps keys back at most when nobody releases it.
HOLD_MAX = 15.0
#: How often waiting keys look for the first focused widget.
FIRST_FOCUS_POLL = 0.02


class KeyRouted(Message):
    """The probe sent after a key: reaching the app means the key has been handled."""

    def __init__(self, ticket: int) -> None:
        super().__init__()
        self.ticket = ticket


_PASTE_KEYS = {"\t": ("tab", "\t"), "\n": ("enter", "\r"), "\r": ("enter", "\r")}


def paste_as_keys(text: str) -> list[events.Key]:
    """The keys that type ``text``: Tab and line breaks as the keys themselves (CRLF is one Enter)."""
    keys: list[events.Key] = []
    previous = ""
    for ch in text:
        if ch == "\n" and previous == "\r":
            previous = ch
            continue
        previous = ch
        if ch in _PASTE_KEYS:
            key, char = _PASTE_KEYS[ch]
            keys.append(events.Key(key, char))
        elif ch.isprintable():
            keys.append(events.Key(ch, ch))
    return keys


def split_alt(event: events.Key) -> list[events.Key] | None:
    """``alt+j`` (Esc then j in one read) as the keys typed: ``[escape, j]``; None for any other key."""
    key, character = event.key, event.character
    if not key.startswith("alt+") or character is None or len(character) != 1 or not character.isalnum():
        return None
    return [events.Key("escape", "\x1b"), events.Key(character, character)]


class OrderedKeys:
    """Mixin for a Textual ``App`` (put it before ``App`` in the bases)."""

    held_keys: deque[events.Key | events.Paste]
    _key_ticket: int = 0
    _key_in_flight: bool = False
    _key_trips: int = 0
    _key_sent_at: float = 0.0
    #: Hold keys until something has focus for the first time (see the module's docstring).
    HOLD_KEYS_UNTIL_FOCUS: bool = True
    _focus_seen: bool = False
    _held_since: float | None = None
    _focus_poll_pending: bool = False
    _started_at: float | None = None

    _key_holds: dict[str, float] | None = None

    # The App methods this mixin relies on (typed loosely: the mixin is not an App).
    focused: Any
    screen: Any

    def _ordered_keys_queue(self) -> deque[events.Key | events.Paste]:
        try:
            return self.held_keys
        except AttributeError:
            self.held_keys = deque()
            return self.held_keys

    async def on_event(self, event: events.Event) -> None:
        if self._started_at is None:
            self._started_at = time.monotonic()
        if isinstance(event, events.Key | events.Paste) and not event.is_forwarded:
            held = self._ordered_keys_queue()
            if isinstance(event, events.Paste) and isinstance(self.focused, Input) \
                    and any(c in event.text for c in "\t\r\n"):
                held.extend(paste_as_keys(event.text))
            elif isinstance(event, events.Key) and (keys := split_alt(event)) is not None \
                    and not self._alt_bound(event.key):
                held.extend(keys)
            else:
                held.append(event)
            if self._key_in_flight and time.monotonic() - self._key_sent_at > PROBE_TIMEOUT:
                self._key_in_flight = False  # the probe was lost (its widget went away)
            await self._route_keys()
            return
        await super().on_event(event)  # type: ignore[misc]

    def _alt_bound(self, key: str) -> bool:
        """Whether the screen in front binds ``key`` (an ``alt+`` key then stays itself)."""
        try:
            return key in self.screen.active_bindings
        except Exception:  # noqa: BLE001 - no screen yet (Textual's ScreenStackError)
            return False

    def hold_keys(self, reason: str) -> None:
        """Keys from now on wait until ``release_keys(reason)`` (at most :data:`HOLD_MAX` seconds):
        work under way will change the screen, and the keys typed behind it belong to the next one."""
        if self._key_holds is None:
            self._key_holds = {}
        started = time.monotonic()
        self._key_holds[reason] = started
        self.set_timer(HOLD_MAX, lambda: self._hold_expired(reason, started))  # type: ignore[attr-defined]

    def release_keys(self, reason: str) -> None:
        """End the hold ``reason``: the waiting keys go on once the messages already queued on the
        app (a screen being pushed) are handled."""
        if self._key_holds and self._key_holds.pop(reason, None) is not None:
            self.call_later(self._route_keys)  # type: ignore[attr-defined]

    @property
    def keys_on_hold(self) -> bool:
        """True while a ``hold_keys`` hold is in force."""
        return bool(self._key_holds)

    async def _hold_expired(self, reason: str, started: float) -> None:
        if self._key_holds and self._key_holds.get(reason) == started:
            del self._key_holds[reason]
            await self._route_keys()

    def _waiting_for_first_focus(self) -> bool:
        """Keys wait: nothing has had focus yet and the wait is not over."""
        if self._focus_seen or not self.HOLD_KEYS_UNTIL_FOCUS:
            return False
        try:
            focused = self.focused
        except Exception:  # noqa: BLE001 - no screen yet (Textual's ScreenStackError)
            focused = None
        if focused is not None:
            self._focus_seen = True
            return False
        if len(getattr(self, "screen_stack", ())) > 1:
            self._focus_seen = True  # past the first screen: the app has long been started
            return False
        now = time.monotonic()
        if self._held_since is None:
            self._held_since = self._started_at if self._started_at is not None else now
        if now - self._held_since >= FIRST_FOCUS_WAIT:
            self._focus_seen = True  # nothing will take focus: route as Textual would
            return False
        if not self._focus_poll_pending:
            self._focus_poll_pending = True
            self.set_timer(FIRST_FOCUS_POLL, self._focus_poll)  # type: ignore[attr-defined]
        return True

    async def _focus_poll(self) -> None:
        self._focus_poll_pending = False
        await self._route_keys()

    async def _route_keys(self) -> None:
        held = self._ordered_keys_queue()
        if held and (self._key_holds or self._waiting_for_first_focus()):
            return
        while held and not self._key_in_flight and not self._key_holds:
            event = held.popleft()
            # Textual's own routing: priority bindings, else forward to the focused widget now.
            await super().on_event(event)  # type: ignore[misc]
            self._key_ticket += 1
            self._key_trips = 0
            self._send_probe()

    def _send_probe(self) -> None:
        self._key_in_flight = True
        self._key_sent_at = time.monotonic()
        target = self.focused or self.screen
        target.post_message(KeyRouted(self._key_ticket))
        if self._ordered_keys_queue():
            ticket = self._key_ticket
            self.set_timer(PROBE_TIMEOUT, lambda: self._probe_lost(ticket))  # type: ignore[attr-defined]

    async def _probe_lost(self, ticket: int) -> None:
        if self._key_in_flight and ticket == self._key_ticket \
                and time.monotonic() - self._key_sent_at >= PROBE_TIMEOUT * 0.9:
            self._key_in_flight = False
            await self._route_keys()

    def _messages_pending(self) -> bool:
        # The app's own queue too: ``widget.focus()`` sets the focus from there (a dialog's result
        # callback moving the focus, e.g. an F2 pick to the amount, before the next key is routed).
        screen = self.screen
        if self.message_queue_size or screen.message_queue_size:  # type: ignore[attr-defined]
            return True
        return any(node.message_queue_size for node in screen.walk_children(with_self=False))

    async def on_key_routed(self, message: KeyRouted) -> None:
        message.stop()
        if not self._key_in_flight or message.ticket != self._key_ticket:
            return
        self._key_trips += 1
        if self._ordered_keys_queue() and (self._key_trips < MIN_TRIPS or (
                self._key_trips < MAX_TRIPS and self._messages_pending())):
            self._send_probe()
            return
        self._key_in_flight = False
        await self._route_keys()
