"""The dashboard: server-rendered HTML pages of the workspaces, the runs with their plans, and the
runs waiting for approval. Every value is escaped; no page holds a secret (the approve button asks
for the controller's token in the browser and sends it as a bearer header, it is never rendered).
"""

from __future__ import annotations

from html import escape
from typing import Any

from descript_iac.controller.runs import Run
from descript_iac.terminal_text import visible

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;
text-align:left;vertical-align:top}pre{background:#f6f6f6;padding:1rem;overflow:auto}
.held{color:#a60}.applied{color:#070}.failed,.rejected{color:#a00}button{margin-right:.5rem}
"""

# Asks for the token once per tab (sessionStorage), sends the verdict, reloads.
SCRIPT = """
async function verdict(run, action) {
  let token = sessionStorage.getItem("controller-token");
  if (!token) { token = prompt("Controller token"); if (!token) return;
    sessionStorage.setItem("controller-token", token); }
  const by = document.getElementById("by").value || "dashboard";
  const r = await fetch(`/api/runs/${run}/${action}`, {method: "POST",
    headers: {"Authorization": `Bearer ${token}`, "Content-Type": "application/json"},
    body: JSON.stringify({by})});
  if (r.status === 401) sessionStorage.removeItem("controller-token");
  const answer = await r.json();
  document.getElementById("answer").textContent = answer.status || answer.error;
  if (r.ok) location.reload();
}
"""


def _t(value: object) -> str:
    return escape(visible(str(value)))


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{_t(title)}</title>"
        f"<style>{STYLE}</style><script>{SCRIPT}</script></head><body>"
        f"<p><a href='/'>descript-iac controller</a></p><h1>{_t(title)}</h1>{body}</body></html>"
    )


def _run_row(run: Run) -> str:
    return (
        f"<tr><td><a href='/runs/{_t(run.id)}'>{_t(run.id)}</a></td><td>{_t(run.workspace)}</td>"
        f"<td>{_t(run.revision[:12])}</td><td class='{_t(run.status)}'>{_t(run.status)}</td>"
        f"<td>{_t(run.summary)}</td><td>{_t(run.created_at)}</td></tr>"
    )


def _runs_table(runs: list[Run]) -> str:
    if not runs:
        return "<p>None.</p>"
    head = "<tr><th>Run</th><th>Workspace</th><th>Revision</th><th>Status</th><th>Plan</th>"
    return f"<table>{head}<th>Created</th></tr>{''.join(_run_row(r) for r in runs)}</table>"


def index_page(workspaces: list[dict[str, Any]], runs: list[Run]) -> str:
    rows = "".join(
        f"<tr><td><a href='/workspaces/{_t(w['name'])}'>{_t(w['name'])}</a></td>"
        f"<td>{_t(w['source'])}</td><td>{_t(w['revision'] or '')}</td>"
        f"<td>{_t(w['checked_at'] or '')}</td><td>{len(w.get('drift') or [])}</td>"
        f"<td>{_t(w['error'] or '')}</td></tr>"
        for w in workspaces
    )
    held = [r for r in runs if r.status == "held"]
    body = (
        "<h2>Workspaces</h2><table><tr><th>Name</th><th>Source</th><th>Revision</th>"
        f"<th>Checked</th><th>Drift</th><th>Problem</th></tr>{rows}</table>"
        f"<h2>Waiting for approval</h2>{_runs_table(held)}"
        f"<h2>Runs</h2>{_runs_table(runs[:100])}"
    )
    return _page("Workspaces", body)


def _drift(lines: list[str], error: str | None = None, at: str | None = None) -> str:
    """Changes made in Descript outside descript-iac (a `plan --refresh`), one per line."""
    when = f" (read {_t(at)})" if at else ""
    problem = f"<p class='failed'>{_t(error)}</p>" if error else ""
    if not lines:
        return f"<h2>Drift</h2>{problem}<p>None{when}.</p>" if at or error else ""
    items = "".join(f"<li><code>{_t(line)}</code></li>" for line in lines)
    return (
        f"<h2>Drift</h2>{problem}<p>{len(lines)} change(s) made outside descript-iac{when}; "
        f"<code>descript-iac apply --refresh</code> records them:</p><ul id='drift'>{items}</ul>"
    )


CHART_HEIGHT = 120  # px of the tallest bar


def spend_chart(days: list[dict[str, Any]]) -> str:
    """AI credits per day as an inline SVG bar chart (no script), with the numbers in a table
    under it."""
    if not days:
        return "<h2>Spend per day</h2><p>Nothing recorded yet.</p>"
    top = max(float(d["ai_credits"]) for d in days) or 1.0
    width = 28
    bars = []
    for i, d in enumerate(days):
        credits = float(d["ai_credits"])
        h = round(CHART_HEIGHT * credits / top)
        x = i * width
        bars.append(
            f"<rect x='{x + 4}' y='{CHART_HEIGHT - h + 14}' width='{width - 8}' height='{h}' "
            f"fill='#47a'><title>{_t(d['day'])}: {credits:g} AI credits</title></rect>"
            f"<text x='{x + width // 2}' y='{CHART_HEIGHT + 28}' font-size='9' "
            f"text-anchor='middle'>{_t(str(d['day'])[5:])}</text>"
        )
    svg = (
        f"<svg id='spend-chart' role='img' aria-label='AI credits per day' "
        f"width='{max(width * len(days), 120)}' height='{CHART_HEIGHT + 34}'>{''.join(bars)}</svg>"
    )
    rows = "".join(
        f"<tr><td>{_t(d['day'])}</td><td>{float(d['ai_credits']):g}</td>"
        f"<td>{float(d['media_seconds']):g}</td><td>{int(d['jobs'])}</td></tr>"
        for d in days
    )
    return (
        f"<h2>Spend per day</h2>{svg}<table id='spend'><tr><th>Day (UTC)</th><th>AI credits</th>"
        f"<th>Media seconds</th><th>Jobs</th></tr>{rows}</table>"
    )


def workspace_page(
    name: str,
    projects: list[dict[str, Any]],
    runs: list[Run],
    status: dict[str, Any] | None = None,
    spend: list[dict[str, Any]] | None = None,
) -> str:
    status = status or {}
    rows = []
    for p in projects:
        url = p["project_url"]
        link = f"<a href='{_t(url)}'>{_t(p['name'] or p['address'])}</a>" if url else "-"
        steps = ", ".join(f"{_t(s['id'])}: {_t(s['status'] or '?')}" for s in p["steps"])
        rows.append(
            f"<tr><td>{_t(p['address'])}</td><td>{link}</td><td>{_t(p['import_status'] or '')}"
            f"</td><td>{steps}</td><td>{p['media_seconds']:g}</td><td>{p['ai_credits']:g}</td>"
            "</tr>"
        )
    total = sum(float(p["ai_credits"]) for p in projects)
    body = (
        "<h2>Projects</h2><table><tr><th>Address</th><th>Descript</th><th>Import</th>"
        f"<th>Steps</th><th>Media seconds</th><th>AI credits</th></tr>{''.join(rows)}</table>"
        f"<p>AI credits spent in all: {total:g}</p>"
        + _drift(
            status.get("drift") or [], status.get("drift_error"), status.get("drift_checked_at")
        )
        + spend_chart(spend or [])
        + f"<h2>Runs</h2>{_runs_table(runs)}"
    )
    return _page(f"Workspace {name}", body)


def run_page(run: Run) -> str:
    verdicts = "".join(
        f"<li>{_t(v.verdict)} by {_t(v.by)} at {_t(v.at)}</li>" for v in run.verdicts
    )
    reasons = "".join(f"<li>{_t(r)}</li>" for r in run.reasons)
    buttons = ""
    if run.status == "held":
        buttons = (
            "<p><label>Your name <input id='by' value=''></label></p>"
            f"<p><button id='approve' onclick=\"verdict('{_t(run.id)}','approve')\">"
            "Approve</button>"
            f"<button id='reject' onclick=\"verdict('{_t(run.id)}','reject')\">Reject</button>"
            "<span id='answer'></span></p>"
        )
    body = (
        f"<p>Workspace <b>{_t(run.workspace)}</b>, revision <code>{_t(run.revision)}</code>, "
        f"status <b class='{_t(run.status)}'>{_t(run.status)}</b>, created {_t(run.created_at)}"
        f"{', finished ' + _t(run.finished_at) if run.finished_at else ''}.</p>"
        f"{'<h2>Why it waits</h2><ul>' + reasons + '</ul>' if reasons else ''}{buttons}"
        f"<h2>Plan</h2><pre>{_t(run.plan_text or run.summary)}</pre>{_drift(run.drift)}"
        f"<h2>Outcome</h2><pre>{_t(run.message)}</pre>"
        f"<p>Jobs issued: {run.jobs}; AI credits: {run.credits:g}; failures: {run.failures}</p>"
        f"{'<h2>Verdicts</h2><ul>' + verdicts + '</ul>' if verdicts else ''}"
    )
    return _page(f"Run {run.id}", body)
