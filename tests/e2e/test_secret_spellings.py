"""Every spelling of a secret is scrubbed, not only the one the workspace wrote (issue #28).

A server that quotes what it was sent may quote it in another spelling. The emulator here does:
its agent quotes the prompt (with a `${env:}` secret) as it was, percent-encoded, in base64 and
in upper case; a failed import's `error_message` quotes the pre-signed URL's query values
percent-decoded (`AZSENT+q/w=` for `AZSENT%2Bq%2Fw%3D`), re-encoded with lower-case escapes,
encoded twice, its hex signature in upper and in mixed case, and the token in base64 (alone and
inside a `user:token` Basic credential).

Searched, for every spelling: the state and its backup, the job cache, and what `apply --json`,
`show`, `state show --json`, `jobs get` and `jobs wait` print. (`jobs get` and `jobs wait` run
in the same process as the apply, as in tests/e2e/test_secrets_at_rest.py: a process that never
read the workspace does not know its `${env:}` values.)
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from descript_iac.emulator import EmulatorConfig
from descript_iac.emulator import imports as emulator_imports
from descript_iac.emulator import records as emulator_records
from descript_iac.emulator.faults import Faults
from descript_iac.emulator.server import make_backend, start_background
from tests.builders import run_cli, write_workspace

pytestmark = pytest.mark.e2e

TOKEN = "SPELL-tok-5e1f0a77c3"
SIG = "AZSENT%2Bq%2Fw%3D"  # a signature as a pre-signed URL carries it: percent-encoded
HEX = "9f86d081884c7d659a2feaa0c55ad015"  # an S3-style hex signature: its case means nothing
QUERY = f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature={HEX}&sig={SIG}"
HOST_URL = f"https://bucket.example.com/ep/host.wav?{QUERY}"
FAILING_URL = f"https://bucket.example.com/fail/b.wav?{QUERY}"
PROMPT_SECRET = "PROMPT/SECRET+77="  # upper case already: its upper-case echo is itself


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _mixed(text: str) -> str:
    return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(text))


# Each spelling the emulator sends back, by what it is; none may be found anywhere.
SPELLINGS = {
    "signature percent-decoded": "AZSENT+q/w=",
    "signature with lower-case escapes": "AZSENT%2bq%2fw%3d",
    "signature encoded twice": "AZSENT%252Bq%252Fw%253D",
    "signature as sent": SIG,
    "hex signature in upper case": HEX.upper(),
    "hex signature in mixed case": _mixed(HEX),
    "hex signature as sent": HEX,
    "token in base64": _b64(TOKEN),
    "token in URL-safe base64": base64.urlsafe_b64encode(TOKEN.encode()).decode(),
    "token inside a Basic credential": _b64(f"ci-user:{TOKEN}")[12:40],
    "token": TOKEN,
    "prompt secret percent-encoded": quote(PROMPT_SECRET, safe=""),
    "prompt secret in base64": _b64(PROMPT_SECRET),
    "prompt secret": PROMPT_SECRET,
}

WORKSPACE = """
version: 1
projects:
  ep:
    media:
      host.wav: {url: "${env:HOST_URL}"}
    steps:
      - {id: title, prompt: "Say ${env:PROMPT_SECRET} and ${env:HEX_TOKEN}"}
  broken:
    media:
      b.wav: {url: "${env:FAILING_URL}"}
"""


def _lower_escapes(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), text)


def _quoting_failure(url: str) -> str:
    """What a server that quotes what it was sent says of the URL it could not download."""
    query = dict(parse_qsl(urlsplit(url).query))  # decoded, as a server's framework gives it
    raw = dict(pair.split("=", 1) for pair in urlsplit(url).query.split("&"))
    signature = query["sig"]
    return (
        f"Download refused: signature {signature} (sent as {_lower_escapes(raw['sig'])}, logged as "
        f"{quote(raw['sig'], safe='')}); X-Amz-Signature {query['X-Amz-Signature'].upper()} "
        f"expected {_mixed(query['X-Amz-Signature'])}; credentials {_b64(TOKEN)} "
        f"{base64.urlsafe_b64encode(TOKEN.encode()).decode()} "
        f"Authorization: Basic {_b64(f'ci-user:{TOKEN}')}"
    )


@pytest.fixture
def echoing_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    def probe_quoting(url: str, pattern: str | None) -> tuple[float | None, str | None]:
        if "/fail/" in url:
            return None, _quoting_failure(url)
        return 42.0, None

    def echo(self: emulator_records.JobRecord) -> str:
        prompt = self.prompt or ""
        return (
            f'{self.reply} ("{prompt}"; as sent: {quote(prompt, safe="")}; in base64: '
            f"{_b64(PROMPT_SECRET)}; shouted: {prompt.upper()})."
        )

    monkeypatch.setattr(emulator_imports, "probe", probe_quoting)
    monkeypatch.setattr(emulator_records.JobRecord, "_echo", echo)
    config = EmulatorConfig(tokens=(TOKEN,), job_seconds=0.05, faults=Faults())
    running = start_background(make_backend(config, None))
    yield running
    running.stop()


def _found(data: str | bytes) -> list[str]:
    raw = data.encode() if isinstance(data, str) else data
    found = [what for what, spelling in SPELLINGS.items() if spelling.encode() in raw]
    if HEX.encode() in raw.lower():
        found.append("hex signature in some case")
    return sorted(set(found))


def test_every_spelling_of_a_secret_is_scrubbed_everywhere(
    echoing_api: Any, tmp_path: Path
) -> None:
    ws = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
    state = tmp_path / "state" / "ws.json"
    env = {
        "DESCRIPT_API_TOKEN": TOKEN,
        "DESCRIPT_API_URL": echoing_api.base_url,
        "HOST_URL": HOST_URL,
        "FAILING_URL": FAILING_URL,
        "PROMPT_SECRET": PROMPT_SECRET,
        "HEX_TOKEN": HEX,
        "DESCRIPT_IAC_COMMIT_SPAN": "1",
        "DESCRIPT_IAC_HISTORY_LAG": "0",
    }
    base = ("--state", str(state))
    outputs: dict[str, str] = {}

    def run(*args: str, code: int | tuple[int, ...] = 0) -> str:
        result = run_cli(*base, *args, env=env)
        assert result.exit_code in ((code,) if isinstance(code, int) else code), (
            args,
            result.output,
        )
        outputs[" ".join(args)] = result.output
        return result.output

    applied = run("apply", str(ws), "--auto-approve", "--json", "--poll-interval", "0.05", code=1)
    run("show", str(ws))
    run("state", "show", "ep", "--workspace", str(ws), "--json")
    run("state", "show", "broken", "--workspace", str(ws), "--json")
    jobs = [json.loads(line) for line in applied.splitlines() if line.startswith("{")]
    job_ids = {e["job_id"] for e in jobs if e.get("event") == "job_stopped" and "job_id" in e}
    assert len(job_ids) >= 3, applied  # two imports and the agent step
    for job_id in sorted(job_ids):
        run("jobs", "get", job_id)
        run("jobs", "wait", job_id, "--interval", "0.05", code=(0, 1))  # the failed one: 1

    searched: dict[str, str | bytes] = {f"output of {k}": v for k, v in outputs.items()}
    searched["the state"] = state.read_bytes()
    backup = state.with_name("ws.json.backup")
    searched["its backup"] = backup.read_bytes()
    cache = tmp_path / "home" / ".cache" / "descript-iac" / "jobs"
    cached = [p for p in cache.rglob("*") if p.is_file()]
    assert cached, "the job cache was searched"
    for path in cached:
        searched[f"job cache {path.name}"] = path.read_bytes()
    leaks = {name: _found(data) for name, data in searched.items()}
    found_leaks = {name: found for name, found in leaks.items() if found}
    assert found_leaks == {}, json.dumps(found_leaks, indent=1)
    doc = json.loads(state.read_text())
    # Not vacuous: the server did echo each spelling, and each echo is there, masked.
    response = doc["projects"]["ep"]["steps"][0]["agent_response"]
    assert "as sent: Say%20***%20and%20***; in base64: ***;" in response, response
    assert "shouted: SAY *** AND ***" in response, response
    failed = doc["projects"]["broken"]["import"]["media"]["b.wav"]["error_message"]
    assert failed.startswith("Download refused: signature *** (sent as ***, logged as ***)"), failed
    assert "Basic ***" in failed, failed
