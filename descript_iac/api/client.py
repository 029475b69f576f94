"""The Descript API client: the only code that speaks HTTP.

Safe requests (GETs) are retried on connection errors, timeouts and 5xx with capped exponential
backoff. A POST that creates a job is retried only when the server certainly did nothing (a 429,
or a connection that was never made); when the outcome is unknown it raises `OutcomeUnknown`
instead, so the caller can look the job up rather than create a second project.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from descript_iac.api import errors, limit_headers, replies
from descript_iac.api.budget import HourlyBudget, RequestBudget
from descript_iac.api.capabilities import API_2026, SEED, Capabilities, Feature
from descript_iac.api.clock import ServerClock
from descript_iac.api.credentials import Token
from descript_iac.api.models import (
    AgentRequest,
    EditInDescriptRequest,
    ImportRequest,
    ImportUrl,
    Job,
    JobCreated,
    JobList,
    ProjectDetails,
    ProjectList,
    PublishedProject,
    PublishRequest,
    StatusReply,
)
from descript_iac.api.pagination import PageGuard
from descript_iac.api.ratelimit import (
    MAX_WAIT,
    NOTICE_AFTER,
    RateLimiter,
    Ticket,
    shared_limiter,
)
from descript_iac.errors import DescriptIacError
from descript_iac.redact import redact
from descript_iac.timing import history_floor

log = logging.getLogger("descript_iac.api")
M = TypeVar("M", bound=BaseModel)

USER_AGENT = "descript-iac"
MAX_ATTEMPTS = 6  # for safe requests and never-sent connections
MAX_THROTTLED = 12  # 429s tolerated for one request
BACKOFF_BASE = 0.25
BACKOFF_CAP = 8.0
# Connections kept open for reuse: enough for every POST an apply has in flight and its polls.
POOL_CONNECTIONS = 32
MAX_REPLY_BYTES = 16 * 1024 * 1024  # default cap on one reply; DESCRIPT_IAC_MAX_REPLY_BYTES
REPLY_LIMIT_VAR = "DESCRIPT_IAC_MAX_REPLY_BYTES"
# Errors raised before the request left this machine: repeating them cannot duplicate a job.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
# Replies to a job-creating POST that prove the server made nothing. Any other error reply (a 5xx,
# 408, 409, 425, ...) leaves the outcome unknown: the job may exist.
PROVEN_REFUSALS = frozenset({400, 401, 402, 403, 404, 405, 406, 411, 413, 414, 415, 422, 429, 431})
# Called with (server time, its error) just before each attempt of a job-creating POST goes out.
OnSend = Callable[[float, float], None]


def fingerprint(method: str, path: str, body: dict[str, Any] | None) -> str:
    """A stable digest of a request (for finding its job later); reveals nothing of the body."""
    canonical = json.dumps(body or {}, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


THROTTLED_VAR = "DESCRIPT_IAC_MAX_THROTTLED"
MAX_THROTTLED_SECONDS = 600.0  # the longest a run may spend paused by 429s, in all


def max_throttled() -> float:
    """The most seconds of 429 pauses one run accepts before it stops
    (DESCRIPT_IAC_MAX_THROTTLED, default 600 s). Pacing to the rate the API's headers announce
    is not counted: that is the rate an apply runs at."""
    raw = os.environ.get(THROTTLED_VAR)
    if not raw:
        return MAX_THROTTLED_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 7 * 24 * 3600:
        raise DescriptIacError(f"{THROTTLED_VAR}={raw!r}: give seconds, from 0 to 604800")
    return value


DEADLINE_VAR = "DESCRIPT_IAC_REQUEST_DEADLINE"
REQUEST_DEADLINE = 120.0  # seconds for one request, its reply's body included


def request_deadline() -> float:
    """The longest one request may take in all (DESCRIPT_IAC_REQUEST_DEADLINE, default 120 s):
    on top of the per-read timeout, which a server that sends a byte now and then never
    reaches."""
    raw = os.environ.get(DEADLINE_VAR)
    if not raw:
        return REQUEST_DEADLINE
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 1.0 <= value <= 24 * 3600:
        raise DescriptIacError(f"{DEADLINE_VAR}={raw!r}: give seconds, from 1 to 86400")
    return value


def reply_limit() -> int:
    """The most bytes one reply may have (DESCRIPT_IAC_MAX_REPLY_BYTES, default 16 MiB)."""
    raw = os.environ.get(REPLY_LIMIT_VAR)
    if not raw:
        return MAX_REPLY_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1024:
        raise DescriptIacError(f"{REPLY_LIMIT_VAR}={raw!r}: give a number of bytes (1024 or more)")
    return value


def canonical_url(url: str) -> str:
    """One spelling of an API URL: scheme and host in lower case, no default port, no trailing
    slash (`HTTP://API.Example.com:443/v1/` is `https://api.example.com/v1` when https)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return url
    default = {"http": 80, "https": 443}[parts.scheme]
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host if port in (None, default) else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def iso_z(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class JobHistoryCache(Protocol):
    """Where finished jobs are kept (see state/jobcache.py): they never change."""

    def job(self, job_id: str) -> dict[str, Any] | None: ...

    def remember(self, job: dict[str, Any]) -> None: ...

    def run_times(self) -> dict[str, float]:
        """Each job type's learnt run time on this API, seconds (see apply/schedule.py)."""
        ...

    def keep_run_times(self, runs: dict[str, float]) -> None: ...


class DescriptClient:
    def __init__(
        self,
        base_url: str,
        token: Token,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
        monotonic_clock: Callable[[], float] = time.monotonic,
        cache: JobHistoryCache | None = None,
        account: str | None = None,
        max_reply_bytes: int | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._account = account or self.base_url
        self.max_reply_bytes = max_reply_bytes or reply_limit()
        self.deadline = request_deadline()
        self.max_throttled = max_throttled()
        self.cache = cache
        self._token = token
        self._sleep = sleep
        self._wall = wall_clock
        self._rng = random.Random()
        self.limiter = limiter or shared_limiter()
        self._paused_before = self.limiter.paused  # (a shared limiter outlives one run)
        self.clock = ServerClock(wall_clock, monotonic_clock)
        self.calls: dict[str, int] = {}
        self._calls_lock = threading.Lock()  # POSTs may be sent from several threads
        self._capabilities: Capabilities | None = None
        # The token's drive as the API names it in job replies (the first one seen).
        self.drive_id: str | None = None
        self.max_attempts = MAX_ATTEMPTS  # `doctor` asks once or twice: it reports, not retries
        # Published-project reads: 1,000 an hour per user (session.py shares it across runs).
        self.published_budget: RequestBudget = HourlyBudget()
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
            limits=httpx.Limits(
                max_connections=POOL_CONNECTIONS, max_keepalive_connections=POOL_CONNECTIONS
            ),
        )

    def __repr__(self) -> str:
        return f"DescriptClient({self.base_url!r})"

    @property
    def account_key(self) -> str:
        """Names the API account (base URL and token) without revealing the token: the drive
        whose rules for jobs in doubt this client shares with other runs."""
        digest = hashlib.sha256(f"{self._account}\n{self._token.reveal()}".encode())
        return digest.hexdigest()[:20]

    @property
    def token_key(self) -> str:
        """Names the token alone, whatever URL spelling reaches the API, without revealing it."""
        digest = hashlib.sha256(f"{self.scope}\n{self._token.reveal()}".encode())
        return digest.hexdigest()[:20]

    @property
    def spelling_key(self) -> str:
        """Names (the API's URL up to case, default port and trailing slash; the token), without
        revealing the token: what the token's learnt drive id is remembered under."""
        digest = hashlib.sha256(f"{canonical_url(self._account)}\n{self._token.reveal()}".encode())
        return digest.hexdigest()[:20]

    @property
    def scope(self) -> str:
        """ "" for an API; the data directory of an embedded emulator, whose one token reaches
        a new service in each directory."""
        return "" if self._account == self.base_url else self._account

    def _saw_drive(self, drive_id: str | None) -> None:
        if drive_id and self.drive_id is None:
            self.drive_id = drive_id

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DescriptClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- endpoints -----------------------------------------------------------------------

    def status(self) -> StatusReply:
        return self._parse(StatusReply, self._call("GET", "status"), "GET /status")

    def capabilities(self) -> Capabilities:
        """What this API offers (detected with one request, then remembered)."""
        if self._capabilities is None:
            try:
                self._call("GET", "projects", params={"limit": "1"}, label="GET /projects")
            except errors.NotFound:
                self._capabilities = SEED
            else:
                self._capabilities = API_2026
        return self._capabilities

    def require(self, feature: Feature, what: str) -> None:
        """Raise `NotSupported` (before anything is sent) when the API lacks `feature`."""
        found = self.capabilities()
        if not found.has(feature):
            raise errors.NotSupported(what, feature.value, found.level)

    # A job-creating POST may be given the `Ticket` its caller took from the rate limiter
    # (`limiter.try_acquire()`) for its first attempt; later attempts wait for their own.

    def import_project_media(
        self, request: ImportRequest, on_send: OnSend | None = None, ticket: Ticket | None = None
    ) -> JobCreated:
        if request.folder_name is not None:
            self._require_before(ticket, Feature.FOLDERS, "folder_name on an import")
        return self._create("jobs/import/project_media", request.body(), on_send, ticket)

    def agent(
        self, request: AgentRequest, on_send: OnSend | None = None, ticket: Ticket | None = None
    ) -> JobCreated:
        if request.composition_id is not None:
            what = "composition_id on an agent job"
            self._require_before(ticket, Feature.COMPOSITION_TARGET, what)
        return self._create("jobs/agent", request.body(), on_send, ticket)

    def publish(
        self, request: PublishRequest, on_send: OnSend | None = None, ticket: Ticket | None = None
    ) -> JobCreated:
        """`POST /v1/jobs/publish` (2026 API)."""
        self._require_before(ticket, Feature.PUBLISH, "publishing (POST /v1/jobs/publish)")
        return self._create("jobs/publish", request.body(), on_send, ticket)

    def _require_before(self, ticket: Ticket | None, feature: Feature, what: str) -> None:
        """`require`, giving `ticket` back to the limiter when nothing will be sent."""
        try:
            self.require(feature, what)
        except errors.NotSupported:
            if ticket is not None:
                self.limiter.release(ticket)
            raise

    def cancel_job(self, job_id: str) -> None:
        """`DELETE /v1/jobs/{job_id}` (2026 API); cancelling is idempotent, so it is retried."""
        self.require(Feature.CANCEL, "cancelling a job (DELETE /v1/jobs/{job_id})")
        self._call("DELETE", f"jobs/{job_id}", label="DELETE /jobs/{job_id}")

    def find_drive_id(self, projects: bool = True) -> str | None:
        """The drive of this token, as the API shows it: on its newest job (30 days), else
        (`projects`) on its newest project (2026 API). None when the drive has neither."""
        for job in self.list_jobs(limit=1, created_after=history_floor(self.clock.now())).data:
            if job.drive_id:
                return job.drive_id
        if projects and self.capabilities().has(Feature.PROJECTS):
            for summary in self.list_projects(limit=1).data:
                return self.get_project(summary.id).drive_id
        return None

    def list_projects(
        self,
        *,
        name: str | None = None,
        created_after: float | None = None,
        created_before: float | None = None,
        created_by: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> ProjectList:
        """One page of projects (2026 API), newest first; `name` matches as a substring;
        `created_by`: a user's UUID, or "me" for the token's user."""
        params: dict[str, str] = {"limit": str(limit)}
        if name:
            params["name"] = name
        if created_by:
            params["created_by"] = created_by
        if created_after is not None:
            params["created_after"] = iso_z(created_after)
        if created_before is not None:
            params["created_before"] = iso_z(created_before)
        if cursor:
            params["cursor"] = cursor
        response = self._call("GET", "projects", params=params, label="GET /projects")
        return self._parse(ProjectList, response, "GET /projects")

    def get_project(self, project_id: str) -> ProjectDetails:
        """A project's name, media files and compositions (2026 API)."""
        label = "GET /projects/{project_id}"
        response = self._call("GET", f"projects/{project_id}", label=label)
        return self._parse(ProjectDetails, response, label)

    def get_job(self, job_id: str) -> Job:
        """A job's status; a finished job never changes, so it is served from the cache."""
        if self.cache is not None:
            cached = self.cache.job(job_id)
            if cached is not None:
                return Job.model_validate(cached)
        response = self._call("GET", f"jobs/{job_id}", label="GET /jobs/{job_id}")
        job = self._parse(Job, response, "GET /jobs/{job_id}")
        self._saw_drive(job.drive_id)
        if self.cache is not None and job.finished:
            self.cache.remember(_unsigned(job))
        return job

    def list_jobs(
        self,
        *,
        project_id: str | None = None,
        job_type: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        created_after: float | None = None,
        created_before: float | None = None,
    ) -> JobList:
        """One page of the job history (always read fresh; finished jobs in it are cached)."""
        params: dict[str, str] = {}
        if project_id:
            params["project_id"] = project_id
        if job_type:
            params["type"] = job_type
        if cursor:
            params["cursor"] = cursor
        if limit:
            params["limit"] = str(limit)
        if created_after is not None:
            params["created_after"] = iso_z(created_after)
        if created_before is not None:
            params["created_before"] = iso_z(created_before)
        response = self._call("GET", "jobs", params=params)
        result = self._parse(JobList, response, "GET /jobs")
        for listed in result.data[:1]:
            self._saw_drive(listed.drive_id)
        if self.cache is not None:
            for job in result.data:
                if job.finished:
                    self.cache.remember(_unsigned(job))
        return result

    def iter_jobs(self, *, max_pages: int | None = None, **filters: Any) -> Iterator[Job]:
        """Every job matching `filters`, newest first, walking `next_cursor`."""
        cursor: str | None = None
        pages = 0
        guard = PageGuard("GET /jobs", self.clock.now())
        while True:
            page = self.list_jobs(cursor=cursor, **filters)
            guard.check(page)
            pages += 1
            yield from page.data
            cursor = page.pagination.next_cursor
            if not cursor or (max_pages is not None and pages >= max_pages):
                return

    def edit_in_descript(self, request: EditInDescriptRequest) -> ImportUrl:
        response = self._call("POST", "edit_in_descript/schema", body=request.body())
        return self._parse(ImportUrl, response, "POST /edit_in_descript/schema")

    def published_project(self, slug: str) -> PublishedProject:
        """A published project's metadata and subtitles, within the documented budget of 1,000
        requests an hour: waits briefly for it, else stops before sending."""
        label = "GET /published_projects/{slug}"
        budget = self.published_budget
        while True:
            wait = budget.take(self._wall())
            if wait <= 0:
                break
            if wait > MAX_WAIT:
                raise errors.BudgetExhausted(
                    f"{label}: no request may go before {_local_time(self._wall() + wait)}: the "
                    f"API allows {budget.limit} requests an hour for published projects (this "
                    "machine's runs count them) and asks for pauses with 429 Retry-After. Nothing "
                    "was sent."
                )
            self._pause(wait, "the API's budget of published-project reads is used up")
        try:
            response = self._call(
                "GET",
                f"published_projects/{slug}",
                label=label,
                max_retry_after=MAX_WAIT,
                paced=False,
            )
        except errors.RateLimited as exc:
            if exc.retry_after is not None:
                budget.hold_until(self._wall() + exc.retry_after)
            raise
        return self._parse(PublishedProject, response, label)

    # --- machinery -----------------------------------------------------------------------

    def _create(
        self, path: str, body: dict[str, Any], on_send: OnSend | None, ticket: Ticket | None
    ) -> JobCreated:
        endpoint = f"POST /{path}"
        last_sent = 0.0

        def stamp(sent_at: float, error: float) -> None:
            nonlocal last_sent
            last_sent = sent_at
            if on_send is not None:
                on_send(sent_at, error)

        response = self._call(
            "POST", path, body=body, creates_job=True, on_send=stamp, ticket=ticket
        )
        try:
            created = JobCreated.model_validate(response.json())
        except (ValueError, ValidationError, RecursionError):  # (JSON nested past any sense)
            # The job exists (2xx) but we cannot read its id: find it in the history.
            raise errors.OutcomeUnknown(
                endpoint, fingerprint("POST", path, body), last_sent, "unreadable reply"
            ) from None
        self._saw_drive(created.drive_id)
        return created

    def _parse(self, model: type[M], response: httpx.Response, endpoint: str) -> M:
        try:
            return model.model_validate(response.json())
        except RecursionError:
            raise errors.ServerError(
                endpoint,
                response.status_code,
                "bad_response",
                "unreadable reply: nested too deeply",
            ) from None
        except (ValueError, ValidationError) as exc:
            raise errors.ServerError(
                endpoint, response.status_code, "bad_response", replies.not_json(response, str(exc))
            ) from None

    def _backoff(self, attempt: int) -> float:
        return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)) * (0.5 + self._rng.random())

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        creates_job: bool = False,
        label: str | None = None,
        on_send: OnSend | None = None,
        max_retry_after: float | None = None,
        ticket: Ticket | None = None,
        paced: bool = True,
    ) -> httpx.Response:
        """One request with retries. `max_retry_after`: a 429 asking for a longer pause is
        raised at once (`RateLimited.retry_after`) instead of being waited out. `ticket`: the
        rate limiter's place already taken for the first attempt. `paced=False`: the reply's
        rate limit headers describe another budget (published projects) and are not learnt."""
        endpoint = label or f"{method} /{path}"
        attempts = throttled = 0
        prepaid = ticket
        while True:
            attempts += 1
            ticket = prepaid or self.limiter.acquire()
            prepaid = None
            sent_at, sent_error = self.clock.estimate()  # server time: job times are the server's
            if on_send is not None:
                try:
                    on_send(sent_at, sent_error)
                except BaseException:
                    self.limiter.release(ticket)  # not sent
                    raise
            sent_local = self._wall()
            started = time.monotonic()
            with self._calls_lock:
                self.calls[endpoint] = self.calls.get(endpoint, 0) + 1
            try:
                request = self._http.build_request(
                    method,
                    path,
                    json=body,
                    params=params,
                    headers={"Authorization": f"Bearer {self._token.reveal()}"},
                )
                response = self._read_capped(
                    self._http.send(request, stream=True), endpoint, started + self.deadline
                )
            except (errors.ReplyTooLarge, errors.ReplyTooSlow, httpx.DecodingError) as exc:
                # Sent and answered, but the reply is unusable (too large, or a compressed body
                # that does not decompress): not retried; a job it created may exist.
                if creates_job:
                    raise errors.OutcomeUnknown(
                        endpoint, fingerprint(method, path, body), sent_at, _unusable(exc)
                    ) from None
                if isinstance(exc, httpx.DecodingError):
                    raise errors.TransportFailure(
                        f"{endpoint}: the reply could not be decoded ({_reason(exc)}); the "
                        "server or a proxy is misbehaving; try again later"
                    ) from None
                raise
            except NOT_SENT as exc:
                self.limiter.release(ticket)
                self._log(method, path, params, f"not sent: {type(exc).__name__}", started)
                if attempts >= self.max_attempts:
                    raise errors.TransportFailure(
                        f"{endpoint}: cannot reach {self.base_url} ({_reason(exc)}); check "
                        "--api-url and your network"
                    ) from None
                self._retry_later(endpoint, attempts, f"not sent: {type(exc).__name__}")
                continue
            except httpx.TransportError as exc:
                self._log(method, path, params, f"failed: {type(exc).__name__}", started)
                if creates_job:
                    raise errors.OutcomeUnknown(
                        endpoint, fingerprint(method, path, body), sent_at, _reason(exc)
                    ) from None
                if attempts >= self.max_attempts:
                    raise errors.TransportFailure(
                        f"{endpoint}: {_reason(exc)} after {attempts} attempts"
                    ) from None
                self._retry_later(endpoint, attempts, type(exc).__name__)
                continue
            self.clock.observe(response.headers.get("date"), sent_local, self._wall())
            self._log(method, path, params, str(response.status_code), started)
            if paced:
                self.limiter.on_response(response.headers, ticket, self.clock.now())
            status = response.status_code
            if status == 429:
                throttled += 1
                raw_wait = response.headers.get("retry-after")
                if max_retry_after is not None:  # a pause this long is reported, not waited
                    asked = limit_headers.asked(raw_wait, self.clock.now())
                    if asked.value is not None and asked.value > max_retry_after:
                        if asked.problem is not None:
                            self.limiter.notify(f"the API sent {asked.problem}")
                        raise self._throttled(endpoint, response, asked.value)
                self.limiter.on_throttled(raw_wait, self.clock.now())
                if throttled > MAX_THROTTLED:
                    raise self._error(endpoint, response)
                self._check_paused(endpoint)
                attempts -= 1  # a 429 is not a failed attempt: the server did nothing
                continue
            if 300 <= status < 400:
                if creates_job:  # (a proxy's doing, most likely; but the job may exist)
                    reason = replies.describe_redirect(response)
                    raise errors.OutcomeUnknown(
                        endpoint, fingerprint(method, path, body), sent_at, reason
                    )
                raise errors.Redirected(endpoint, replies.describe_redirect(response))
            if creates_job and status >= 400 and status not in PROVEN_REFUSALS:
                reason = f"HTTP {status} reply"
                if replies.proxy_error(response) is not None:
                    reason += " from a proxy or gateway (an HTML error page)"
                raise errors.OutcomeUnknown(
                    endpoint, fingerprint(method, path, body), sent_at, reason
                )
            if status >= 500:
                if attempts >= self.max_attempts:
                    raise self._error(endpoint, response)
                self._retry_later(endpoint, attempts, f"HTTP {status}")
                continue
            if status >= 400:
                raise self._error(endpoint, response)
            return response

    def _retry_later(self, endpoint: str, attempts: int, what: str) -> None:
        reason = f"{endpoint} failed ({what}); attempt {attempts + 1} of {self.max_attempts} next"
        self._pause(self._backoff(attempts), reason)

    def _pause(self, seconds: float, reason: str) -> None:
        """Sleep; a pause of NOTICE_AFTER seconds or more is said first, with its end time."""
        if seconds >= NOTICE_AFTER:
            until = _local_time(self._wall() + seconds)
            self.limiter.notify(f"waiting {seconds:.0f} s, until {until}: {reason}")
        self._sleep(seconds)

    def _check_paused(self, endpoint: str) -> None:
        """Stop once this run's 429 pauses add up to more than `max_throttled`."""
        paused = self.limiter.paused - self._paused_before
        if paused > self.max_throttled:
            raise errors.ThrottledTooLong(endpoint, paused, self.max_throttled)

    def _throttled(
        self, endpoint: str, response: httpx.Response, retry_after: float | None
    ) -> errors.ApiError:
        error = self._error(endpoint, response)
        if isinstance(error, errors.RateLimited):
            error.retry_after = retry_after
            when = "later" if retry_after is None else f"in {retry_after:.0f}s"
            at = "" if retry_after is None else f" (at {_local_time(self._wall() + retry_after)})"
            error.args = (f"{endpoint}: 429 rate limited by the API; try again {when}{at}",)
        return error

    def _read_capped(
        self, response: httpx.Response, endpoint: str, deadline: float
    ) -> httpx.Response:
        """Read a streamed reply, stopping at the size limit or the deadline (monotonic); a
        complete, read response."""
        limit = self.max_reply_bytes
        try:
            announced = int(response.headers.get("content-length", ""))
        except ValueError:
            announced = None
        try:
            if announced is not None and announced > limit:
                raise errors.ReplyTooLarge(endpoint, limit, announced)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise errors.ReplyTooLarge(endpoint, limit)
                if time.monotonic() > deadline:
                    raise errors.ReplyTooSlow(endpoint, self.deadline)
        finally:
            response.close()
        # The body is decoded now: drop the headers that describe the encoded one.
        skip = {"content-encoding", "content-length", "transfer-encoding"}
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in skip]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=bytes(body),
            request=response.request,
            extensions=response.extensions,
        )

    def _error(self, endpoint: str, response: httpx.Response) -> errors.ApiError:
        try:
            data = response.json()
        except (ValueError, RecursionError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        code = str(data.get("error") or f"http_{response.status_code}")
        message = redact(str(data.get("message") or response.reason_phrase or "no message"))
        proxy = replies.proxy_error(response)
        if proxy is not None:
            return errors.ProxyError(endpoint, response.status_code, "proxy_error", proxy)
        if not data and response.content.strip() and not replies.is_json(response):
            message += f" (the reply is not JSON: {replies.describe_body(response)})"
        if response.status_code == 404 and not self.base_url.endswith("/v1"):
            # Not the token's drive: the URL. Every Descript API path starts with /v1.
            message += (
                f"; the API URL {self.base_url} does not end in /v1: did you mean "
                f"{self.base_url}/v1?"
            )
        return errors.error_for(endpoint, response.status_code, code, message)

    def _log(
        self, method: str, path: str, params: dict[str, str] | None, outcome: str, started: float
    ) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
        shown = f"/{path}" + (f"?{query}" if query else "")
        millis = (time.monotonic() - started) * 1000
        log.info("%s %s -> %s (%.0f ms)", method, redact(shown), outcome, millis)


def _unsigned(job: Job) -> dict[str, Any]:
    """A job to cache: without a publish result's signed, expiring `download_url`."""
    data = job.model_dump(mode="json")
    result = data.get("result")
    if isinstance(result, dict):
        result.pop("download_url", None)
        result.pop("download_url_expires_at", None)
    return data


def _local_time(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S")


def _unusable(exc: Exception) -> str:
    if isinstance(exc, errors.ReplyTooSlow):
        return "reply not complete within the request deadline"
    return "reply too large" if isinstance(exc, errors.ReplyTooLarge) else "undecodable reply"


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return redact(f"{type(exc).__name__}: {text}")
