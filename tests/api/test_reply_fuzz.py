"""Property: whatever a server answers (any status, any headers, any body), the client's calls
return a typed value or raise the tool's own error (`DescriptIacError`): never a pydantic,
JSON, httpx or Python error, never a loop."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from descript_iac.api import DescriptClient, Token
from descript_iac.api.models import AgentRequest
from descript_iac.api.ratelimit import RateLimiter
from descript_iac.errors import DescriptIacError

EXAMPLES = 150
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20),
    st.sampled_from(["stopped", "running", "agent", "import/project_media", "2024-05-01T10:00:00Z",
                     "not a date", "-1", "1e999"]),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["job_id", "job_type", "job_state", "result", "status", "data",
                             "pagination", "next_cursor", "created_at", "progress", "percent",
                             "media_status", "error", "message", "agent_response"]),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=20,
)  # fmt: skip
job_like = st.fixed_dictionaries(
    {"job_id": st.text(min_size=1, max_size=8), "job_type": st.sampled_from(["agent", "import/project_media", "x"]),
     "job_state": st.sampled_from(["stopped", "queued", "cancelled"])},
    optional={"result": values, "created_at": scalars, "progress": values, "project_id": scalars},
)  # fmt: skip
bodies = st.one_of(
    st.binary(max_size=200),
    values.map(lambda v: json.dumps(v).encode()),
    job_like.map(lambda v: json.dumps(v).encode()),
    st.lists(job_like, max_size=3).map(
        lambda jobs: json.dumps({"data": jobs, "pagination": {"next_cursor": "c"}}).encode()
    ),
    st.builds(lambda c, m: json.dumps({"error": c, "message": m}).encode(), scalars, values),
)
statuses = st.one_of(
    st.sampled_from([200, 201, 204, 400, 401, 402, 403, 404, 409, 429, 500, 502, 503]),
    st.integers(min_value=100, max_value=599),
)
headers = st.dictionaries(
    st.sampled_from(["retry-after", "x-ratelimit-remaining", "content-type", "content-encoding"]),
    st.sampled_from(["0", "1", "-5", "abc", "1e9", "gzip", "application/json", ""]),
    max_size=3,
)


def _client(status: int, head: dict[str, str], body: bytes) -> DescriptClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=head, content=body)

    return DescriptClient(
        "https://api.test/v1",
        Token("fuzz-token-1234"),
        transport=httpx.MockTransport(handler),
        limiter=RateLimiter(sleep=lambda s: None),
        sleep=lambda s: None,
    )


def _call(client: DescriptClient, which: str) -> Any:
    if which == "get_job":
        return client.get_job("j1")
    if which == "list_jobs":
        return client.list_jobs(limit=10)
    if which == "iter_jobs":
        return list(client.iter_jobs(limit=10))
    if which == "status":
        return client.status()
    return client.agent(AgentRequest(prompt="p", project_name="x"))


@FUZZ
@given(
    st.sampled_from(["get_job", "list_jobs", "iter_jobs", "status", "agent"]),
    statuses,
    headers,
    bodies,
)
def test_any_reply_is_a_value_or_our_error(
    which: str, status: int, head: dict[str, str], body: bytes
) -> None:
    client = _client(status, head, body)
    try:
        _call(client, which)
    except DescriptIacError as exc:
        assert "fuzz-token-1234" not in str(exc)
