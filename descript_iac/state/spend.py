"""What a workspace has spent, from its state (issue #23's spend report, `descript-iac costs`):
media seconds of every import and AI credits of every agent step, per project, step, model, day
and ISO week. Pure: the state is the record; no API call is made (jobs run outside
descript-iac are not in it: `plan --refresh` shows them as drift)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from descript_iac.state.document import StateDocument


@dataclass
class Spent:
    media_seconds: float = 0.0
    ai_credits: float = 0.0
    jobs: int = 0
    unknown: int = 0  # jobs whose spend is unknown (the API's number was not sane)

    def add(self, media_seconds: float | None, ai_credits: float | None) -> None:
        self.media_seconds += media_seconds or 0.0
        self.ai_credits += ai_credits or 0.0
        self.jobs += 1
        if media_seconds is None or ai_credits is None:
            self.unknown += 1


@dataclass
class SpendReport:
    total: Spent = field(default_factory=Spent)
    projects: dict[str, Spent] = field(default_factory=dict)
    steps: dict[tuple[str, str], Spent] = field(default_factory=dict)  # (address, step id)
    models: dict[str, Spent] = field(default_factory=dict)
    days: dict[str, Spent] = field(default_factory=dict)  # YYYY-MM-DD (UTC)
    weeks: dict[str, Spent] = field(default_factory=dict)  # YYYY-Www (ISO)
    undated: Spent = field(default_factory=Spent)  # records older than their timestamps


def _day(stamp: str | None) -> date | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def spend_report(doc: StateDocument, addresses: set[str] | None = None) -> SpendReport:
    """Everything `doc` records as spent (of `addresses` only, when given), forgotten projects'
    past included: what was paid stays paid."""
    report = SpendReport()

    def count(
        address: str,
        when: str | None,
        media: float | None,
        credits: float | None,
        model: str | None,
        step: str | None,
    ) -> None:
        report.total.add(media, credits)
        report.projects.setdefault(address, Spent()).add(media, credits)
        if step is not None:
            report.steps.setdefault((address, step), Spent()).add(media, credits)
            report.models.setdefault(model or "default", Spent()).add(media, credits)
        day = _day(when)
        if day is None:
            report.undated.add(media, credits)
            return
        year, week, _ = day.isocalendar()
        report.days.setdefault(day.isoformat(), Spent()).add(media, credits)
        report.weeks.setdefault(f"{year}-W{week:02d}", Spent()).add(media, credits)

    histories = [(a, [p]) for a, p in doc.projects.items()]
    histories += list(doc.forgotten.items())
    for address, records in histories:
        if addresses is not None and address not in addresses:
            continue
        for project in records:
            record = project.import_
            if record is not None and record.job_id:
                count(address, record.created_at, record.media_seconds_used, 0.0, None, None)
            for step in project.steps:
                if step.job_id:
                    count(
                        address,
                        step.created_at,
                        step.media_seconds_used,
                        step.ai_credits_used,
                        step.model,
                        step.id,
                    )
    return report
