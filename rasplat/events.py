"""The event stream: every observable slow-path step as a small dict with `t` (hart 0's retired
instructions) and `kind`."""

from __future__ import annotations

from collections.abc import Callable, Iterator


class EventLog:
    """An ordered list of events. `clock` gives the current time (hart 0's retired instructions)."""

    def __init__(self, clock: Callable[[], int] = lambda: 0) -> None:
        self._events: list[dict] = []
        self.clock = clock
        self._listeners: list[Callable[[dict], None]] = []

    def emit(self, kind: str, **fields: object) -> dict:
        event = {"t": self.clock(), "kind": kind, **fields}
        self._events.append(event)
        for listener in self._listeners:
            listener(event)
        return event

    def subscribe(self, listener: Callable[[dict], None]) -> None:
        """Call `listener(event)` for every future event (traces, pytest fixtures, plugins)."""
        self._listeners.append(listener)

    def restore(self, events: list[dict]) -> None:
        """Replace the events so far (a restored checkpoint's); listeners are not told, they saw them once."""
        self._events[:] = events

    def of_kind(self, *kinds: str) -> list[dict]:
        return [e for e in self._events if e["kind"] in kinds]

    def __iter__(self) -> Iterator[dict]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def __getitem__(self, i: int) -> dict:
        return self._events[i]

    def __repr__(self) -> str:
        return f"<EventLog {len(self._events)} events>"
