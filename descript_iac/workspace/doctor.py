"""`doctor`: is everything a run needs in order? One line per check: OK, or what to do.

Checks the token and the API (reachable, round trip, level), this machine's clock against the
API's `Date` header, what recent applies measured of the API's job clock and history lag, the
state (readable, no journal left in doubt, open intents, who holds the lock), the one-off state,
the size of the cache, and that the files holding prompts, agent replies and project URLs
(local states, their backups and journals, the cache) are readable by their owner only.
"""

from __future__ import annotations

import os
import shlex
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from descript_iac.api.budget import HOUR, PUBLISHED_PER_HOUR
from descript_iac.api.errors import ApiError, TransportFailure, Unauthorized
from descript_iac.errors import DescriptIacError
from descript_iac.session import ApiTarget, cache_root, clock_figures, describe, open_client
from descript_iac.state.budget import SharedBudget
from descript_iac.state.clock_figures import ClockFigure
from descript_iac.state.lock import FileLock
from descript_iac.state.store import LocalStateStore, StateStore
from descript_iac.timing import Timing

SKEW_OK = 60.0  # seconds: beyond this, timestamps in logs and link expiries read wrong
CACHE_LARGE = 512 * 1024 * 1024
MAX_WALKED = 20_000  # files of the cache looked at for their modes (it is small in practice)
SHOWN = 3  # loose files named in the message


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    text: str

    def line(self) -> str:
        return f"{'OK  ' if self.ok else 'FIX '} {self.name}: {self.text}"


def run_doctor(
    target: ApiTarget, states: list[StateStore], timing: Timing | None = None
) -> list[Check]:
    checks = _api_checks(target, timing or Timing.from_env())
    for store in states:
        checks += _state_checks(store)
    checks.append(_cache_check())
    checks.append(_private_check(states))
    return checks


def _loose(path: Path) -> bool:
    """Whether `path` is readable (or writable) by anyone but its owner."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return False
    return not stat.S_ISLNK(mode) and bool(mode & 0o077)


def _private_check(states: list[StateStore]) -> Check:
    """The local states (with backup and journal) and the cache: owner only (files 0600,
    directories 0700), as descript-iac makes them; a looser one was made by hand or by an older
    release, and may show prompts, agent replies and project URLs to other users."""
    files: list[Path] = []
    for store in states:
        if isinstance(store, LocalStateStore):
            files += [store.path, store.backup, store.journal]
    root = cache_root()
    if root.is_dir():
        files.append(root)
        for folder, dirs, names in os.walk(root):
            here = Path(folder)
            files += [here / n for n in dirs] + [here / n for n in names]
            if len(files) > MAX_WALKED:
                break
    loose = [p for p in files if _loose(p)]
    if not loose:
        return Check("Private files", True, "the state and the cache are readable by you only")
    named = ", ".join(str(p) for p in loose[:SHOWN])
    more = f" and {len(loose) - SHOWN} more" if len(loose) > SHOWN else ""
    fixes = []
    if any(p == root or root in p.parents for p in loose):
        fixes.append(f"chmod -R go-rwx {shlex.quote(str(root))}")
    others = [shlex.quote(str(p)) for p in loose if p != root and root not in p.parents]
    if others:
        fixes.append(f"chmod go-rwx {' '.join(others)}")
    return Check(
        "Private files",
        False,
        f"readable by others: {named}{more}; they hold prompts, agent replies and project URLs. "
        f"Run `{' && '.join(fixes)}`",
    )


def _api_checks(target: ApiTarget, timing: Timing) -> list[Check]:
    where = describe(target)
    try:
        with open_client(target) as client:
            client.max_attempts = 2
            started = time.monotonic()
            client.status()
            millis = (time.monotonic() - started) * 1000
            found = client.capabilities()
            offset, error = client.clock.offset, client.clock.error
            budget = SharedBudget(
                target.drives_dir / client.account_key / "published-budget.json",
                PUBLISHED_PER_HOUR,
                HOUR,
            )
            used = budget.used(time.time())
            figures = clock_figures(target, client).recent()
    except Unauthorized:
        return [
            Check("API", True, f"{where} is reachable"),
            Check(
                "Token",
                False,
                "refused (401): set DESCRIPT_API_TOKEN or run `descript-iac config set api-key`",
            ),
        ]
    except TransportFailure as exc:
        return [Check("API", False, f"{exc}")]
    except (ApiError, DescriptIacError) as exc:
        return [Check("API", False, f"{exc}")]
    checks = [
        Check("API", True, f"{where} reachable, round trip {millis:.0f} ms"),
        Check("Token", True, "valid"),
        Check("API level", True, found.describe()),
    ]
    behind = "ahead of" if offset < 0 else "behind"
    skew = f"{abs(offset):.1f}s {behind} the API's clock (±{error:.1f}s)"
    if abs(offset) <= SKEW_OK:
        checks.append(Check("Clock", True, skew))
    else:
        checks.append(
            Check(
                "Clock",
                False,
                f"this machine is {skew}; descript-iac corrects job times for it, but sync the "
                "clock (NTP) so logs and link expiry times read right",
            )
        )
    budget_text = f"{used}/{PUBLISHED_PER_HOUR} requests in the last hour on this machine"
    checks.append(Check("Published budget", used < PUBLISHED_PER_HOUR, budget_text))
    checks.append(_clock_figures_check(figures, timing.history_lag))
    return checks


def _clock_figures_check(figures: list[ClockFigure], history_lag: float) -> Check:
    """What recent applies measured of the API's two clocks and its history's lag."""
    name = "Server clocks"
    if not figures:
        return Check(name, True, "no apply has measured the job clock or the history lag yet")
    offsets = [f.offset for f in figures if f.offset is not None]
    lag = max(f.lag for f in figures)
    offset = f"within {max(offsets):.1f}s" if offsets else "not measured"
    text = (
        f"last {len(figures)} apply run(s): the API's Date header vs its job clock {offset}; "
        f"job history lag seen up to {lag:.0f}s (--history-lag {history_lag:g}s)"
    )
    if lag >= history_lag:
        return Check(
            name,
            False,
            f"{text}; the history lagged past its allowance, and runs stop new creates while "
            "it does: apply with a longer --history-lag",
        )
    return Check(name, True, text)


def _state_checks(store: StateStore) -> list[Check]:
    name = f"State {store.location()}"
    if not store.exists():
        return [Check(name, True, "none yet (the first apply writes it)")]
    try:
        doc = store.read()
    except DescriptIacError as exc:
        return [Check(name, False, str(exc))]
    problems = []
    if isinstance(store, LocalStateStore) and store.journal.exists():
        problems.append("a run left a journal: the next apply folds it in")
    intents = sum(len(p.intents) for p in doc.projects.values())
    quarantined = [a for a, p in doc.projects.items() if p.quarantine]
    if intents:
        problems.append(f"{intents} job(s) in doubt: the next apply looks them up before sending")
    if quarantined:
        problems.append(
            f"quarantined: {', '.join(quarantined)}; resolve with `descript-iac state adopt` or "
            "`state drop-intent`"
        )
    checks = [
        Check(
            name,
            not quarantined,
            f"serial {doc.serial}, {len(doc.projects)} project(s)"
            + (f"; {'; '.join(problems)}" if problems else ""),
        )
    ]
    if not isinstance(store, LocalStateStore):
        return checks  # a database store's lock is its own (it says who holds it when taken)
    path = store.path
    lock = FileLock(path.with_name(path.name + ".lock"))
    holder = lock.holder()
    if holder is None:
        checks.append(Check(f"Lock {path.name}", True, "free"))
    else:
        gone = lock.stale(holder)
        advice = (
            f"its process is gone: `descript-iac force-unlock {holder.lock_id}{store.found_by}`"
            if gone
            else "a run is in progress; wait for it"
        )
        checks.append(Check(f"Lock {path.name}", False, f"held by {holder.describe()}; {advice}"))
    return checks


def _cache_check() -> Check:
    root = cache_root()
    size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) if root.exists() else 0
    text = f"{root}: {size / 1e6:.1f} MB"
    aside = sorted(root.glob("*.corrupt-*")) if root.exists() else []
    if aside:  # (config/cache.py: a damaged workspace cache, set aside and made anew)
        names = ", ".join(str(p) for p in aside)
        return Check("Cache", False, f"{text}; a damaged cache was set aside: delete {names}")
    if size > CACHE_LARGE:
        return Check("Cache", False, f"{text}; it only saves requests: delete {root / 'jobs'}")
    return Check("Cache", True, text)
