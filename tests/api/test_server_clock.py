"""The API's clock from its `Date` headers (api/clock.py): the readings of a running clock are
intersected into a sharp estimate, and nothing that jumps, stands still or steps here is ever
sharpened into a wrong one. Times are driven by hand: `Scene` plays a server clock and this
machine's two clocks, and every reply is one request of a given round trip."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from email.utils import format_datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from descript_iac.api.clock import ServerClock

START = 1_800_000_000.0  # a whole second on the server's clock


class Scene:
    """A server clock `offset` seconds ahead of this machine's wall clock, both running at the
    monotonic clock's rate unless a test moves one of them."""

    def __init__(self, offset: float = 1234.567) -> None:
        self.mono = 100.0
        self.wall_ahead = START - 100.0 - offset  # wall minus monotonic
        self.server_ahead = START - 100.0  # server minus monotonic
        self.standing: float | None = None  # a manual clock that stands: its time
        self.clock = ServerClock(local=self.wall, monotonic=lambda: self.mono)

    def wall(self) -> float:
        return self.mono + self.wall_ahead

    def server(self) -> float:
        return self.standing if self.standing is not None else self.mono + self.server_ahead

    def request(self, trip: float = 0.004, at: float = 0.5) -> None:
        """One request taking `trip` seconds; the server writes `Date` `at` of the way through."""
        sent = self.wall()
        self.mono += trip * at
        date = format_datetime(
            datetime.fromtimestamp(math.floor(self.server()), tz=timezone.utc), usegmt=True
        )
        self.mono += trip * (1 - at)
        self.clock.observe(date, sent, self.wall())

    def talk(self, seconds: float, every: float = 0.053) -> None:
        """Requests every `every` seconds for `seconds` (phases all over the second); what the
        clock says holds after each of them."""
        end = self.mono + seconds
        while self.mono < end:
            self.request()
            assert self.bounds_hold()
            self.mono += every
            assert self.bounds_hold()

    def bounds_hold(self) -> bool:
        now, error = self.clock.estimate()
        return now - error <= self.server() <= now + error


def test_one_reading_is_a_second_and_a_round_trip_wide() -> None:
    scene = Scene()
    scene.request(trip=0.2)
    error = scene.clock.estimate()[1]
    assert abs(error - (0.5 + 0.1 + 0.25)) < 1e-6
    assert scene.bounds_hold() and not scene.clock.sharpened


def test_a_running_clock_is_sharpened_once_its_readings_span_three_seconds() -> None:
    scene = Scene()
    scene.talk(2.5)
    assert not scene.clock.sharpened and scene.clock.error > 0.5  # not yet: 2.5 s seen
    scene.talk(1.0)
    assert scene.clock.sharpened
    assert scene.clock.error < 0.2  # the readings ticked over within a few round trips
    assert scene.bounds_hold()
    assert scene.clock.earliest() > scene.server() - 0.2


def test_a_quiet_spell_widens_the_estimate_by_the_drift_allowed() -> None:
    scene = Scene()
    scene.talk(4.0)
    sharp = scene.clock.error
    scene.mono += 600.0  # ten minutes without a reply
    assert scene.clock.error > sharp + 0.5  # 1 ms a second each way
    assert scene.bounds_hold()


def test_a_jump_that_does_not_fit_starts_again_from_the_new_reading() -> None:
    """A manual clock moved 30 s: the new reading does not intersect the run; the estimate
    follows it at once, with one reading's error, until the new run spans 3 s again."""
    scene = Scene()
    scene.talk(4.0)
    assert scene.clock.sharpened
    scene.server_ahead += 30.0
    scene.request()
    assert not scene.clock.sharpened
    assert scene.bounds_hold()  # intersected anyway, the estimate would be 30 s behind
    scene.talk(3.5)
    assert scene.clock.sharpened and scene.bounds_hold()


def test_a_clock_that_stands_still_is_never_sharpened() -> None:
    """The emulator's manual clock between two moves: its readings stop fitting within a
    second and a round trip, so no run of them ever spans 3 s."""
    scene = Scene()
    scene.standing = scene.server()
    for _ in range(200):
        scene.request()
        assert not scene.clock.sharpened
        assert scene.bounds_hold()  # right after each reading, what it says holds
        scene.mono += 0.053
    scene.standing += 5.0  # moved on: the readings still say only what the latest says
    scene.request()
    assert not scene.clock.sharpened and scene.bounds_hold()


def test_a_step_of_this_machines_clock_is_not_read_as_the_servers() -> None:
    """The wall clock stepped 2 s ahead (NTP, or a test's injected clock after a wait): the
    offset is 2 s smaller at once; the intersection would be 2 s off, so it is dropped."""
    scene = Scene()
    scene.talk(4.0)
    scene.wall_ahead += 2.0
    assert not scene.clock.sharpened  # (no reply says so yet: as before, the next one does)
    scene.request()
    assert not scene.clock.sharpened and scene.bounds_hold()
    scene.talk(3.5)  # a new run, on the new offset
    assert scene.clock.sharpened and scene.bounds_hold()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.0005, 0.4), st.floats(0.0, 1.0), st.floats(0.08, 0.6)),
        min_size=40,
        max_size=120,
    )
)
def test_a_running_clock_is_always_within_what_it_says(
    steps: list[tuple[float, float, float]],
) -> None:
    """Whatever the round trips, where in them the server writes `Date`, and the pauses (3 s
    and more in all, so the readings are intersected): the server's time is within
    `now() ± error` after every reading and every pause."""
    scene = Scene()
    for trip, at, pause in steps:
        scene.request(trip, at)
        assert scene.bounds_hold()
        scene.mono += pause
        assert scene.bounds_hold()
    assert scene.clock.sharpened


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.0005, 0.4),  # round trip
            st.floats(0.0, 1.0),  # where in it the server writes Date
            st.floats(0.0, 0.7),  # pause before the next request
            st.sampled_from([0.0, 0.0, 0.0, 0.05, 0.3, 0.9, 2.5]),  # a forward jump first
        ),
        min_size=1,
        max_size=150,
    )
)
def test_the_earliest_time_is_never_ahead_of_a_clock_that_only_moves_forward(
    steps: list[tuple[float, float, float, float]],
) -> None:
    """Whatever the trips and jumps of a clock that never goes back (the emulator's, moved by
    the tests), `earliest()` is never after the server's time, and, while it has not jumped,
    the server's time is within `now() ± error`: the read side of a doubt never ends early."""
    scene = Scene()
    jumped = False
    for trip, at, pause, jump in steps:
        scene.server_ahead += jump
        jumped = jumped or jump > 0
        scene.request(trip, at)
        assert scene.clock.earliest() <= scene.server() + 1e-9
        if not jumped:
            assert scene.bounds_hold()
        scene.mono += pause
        assert scene.clock.earliest() <= scene.server() + 1e-9
