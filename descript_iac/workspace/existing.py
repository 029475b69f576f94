"""Evidence before any create (issue #20): before a plan creates a project the state does not
know, the drive is asked what already exists. A state that is missing (a fresh CI runner, a
clone), restored from an older copy, or rebuilt must never make a second project or run a
prompt twice.

The evidence is `state rebuild`'s (adoption/rebuild.py), asked only for the projects the plan
would create: the job history (30 days, one pass) and, at the 2026 level, the projects API by
name. For each such address:
- `matched`: a project this workspace would have made exists: never created again; adopt it
  (`descript-iac import ADDRESS ID`, or `apply --adopt-existing` for every unambiguous match,
  which then runs only the steps the evidence shows are missing);
- `ambiguous`: several could be it, or its steps cannot be counted: a person decides;
- unproven (the seed level, a prompt-only project): the job view of an agent job shows no
  name, so any project an agent job made that no state knows could be it: not created until
  the user adopts one or says `--new-state` (make them again).
A plan that creates nothing makes no call for this.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from descript_iac.config.desired import Workspace
from descript_iac.plan.model import ActionKind, ExistingProject, Plan
from descript_iac.plan.render import existing_lines
from descript_iac.state.document import StateDocument
from descript_iac.timing import Timing

if TYPE_CHECKING:  # the API client and httpx: only to check (a plain plan loads no network)
    from descript_iac.adoption.rebuild import Finding
    from descript_iac.api import DescriptClient


class Existing(msgspec.Struct):
    """What the drive holds of the projects a plan would create."""

    matched: list[Finding] = msgspec.field(default_factory=list)
    ambiguous: list[Finding] = msgspec.field(default_factory=list)
    unproven: dict[str, list[str]] = msgspec.field(default_factory=dict)  # address -> project ids

    @property
    def blocking(self) -> bool:
        return bool(self.matched or self.ambiguous or self.unproven)

    def shown(self) -> tuple[ExistingProject, ...]:
        """Each address as the plan shows it, in all three formats: what exists, the way on."""
        out = []
        for f in self.matched:
            project = _project_id(f)
            out.append(
                ExistingProject(
                    address=f.address,
                    verdict="exists",
                    detail=f"exists in Descript: {f.detail}",
                    project_ids=(project,) if project != "PROJECT_ID" else (),
                    way_on=f"adopt it with `descript-iac import {f.address} {project}` (steps "
                    "already run are recognised)",
                )
            )
        for f in self.ambiguous:
            out.append(ExistingProject(address=f.address, verdict="ambiguous", detail=f.detail))
        for address, ids in sorted(self.unproven.items()):
            out.append(
                ExistingProject(
                    address=address,
                    verdict="unproven",
                    detail=f"prompt-only, and {len(ids)} project(s) made by an agent job that no "
                    f"state records could be it ({', '.join(ids[:5])}"
                    f"{', ...' if len(ids) > 5 else ''}): the seed-level API cannot tell",
                    project_ids=tuple(ids),
                    way_on=f"if one is it, `descript-iac import {address} PROJECT_ID "
                    "--mark-applied STEP_ID ...`; if none is, `descript-iac apply --new-state "
                    f"--target {address}` makes it (and only it)",
                )
            )
        return tuple(out)

    def lines(self) -> list[str]:
        """One line per address: what exists, and the way on."""
        return existing_lines(self.shown())

    def message(self) -> str:
        count = len(self.matched) + len(self.ambiguous) + len(self.unproven)
        head = (
            f"{count} project(s) the plan would create may already exist in Descript (the state "
            "does not know them: missing, restored or rebuilt?); nothing was sent:"
        )
        tail = []
        if self.matched:
            tail.append(
                "Adopt every unambiguous match and run only what is missing: "
                "`descript-iac apply --adopt-existing`."
            )
        tail.append(
            "To make them again anyway: `descript-iac apply --new-state` (one of them: add "
            "`--target ADDRESS`)."
        )
        return "\n".join([head, *(f"  {line}" for line in self.lines()), *tail])


def _project_id(finding: Finding) -> str:
    record = finding.record
    return record.project_id if record is not None and record.project_id else "PROJECT_ID"


def lost_or_rebuilt(doc: StateDocument) -> bool:
    """A state that is new, or holds only what `import` or `state rebuild` recovered: the jobs
    the drive registry lists may then be this workspace's own (recorded before it was lost)."""
    if doc.serial == 0:
        return True
    steps = [s for p in doc.projects.values() for s in p.steps]
    return bool(steps) and all(s.origin != "apply" for s in steps)


def creates(plan: Plan, doc: StateDocument) -> list[str]:
    """The addresses the plan would make a project for that the state does not know."""
    found = []
    for project in plan.projects:
        if project.address in doc.projects:
            continue
        if any(a.kind is ActionKind.CREATE for a in project.actions):
            found.append(project.address)
    return found


def check_existing(
    client: DescriptClient,
    doc: StateDocument,
    workspace: Workspace,
    plan: Plan,
    timing: Timing,
    others: frozenset[str] = frozenset(),
) -> Existing:
    """The evidence for each address `plan` would create (none asked when it creates none).
    `others`: the job ids other states of the drive recorded (the drive registry): their
    projects are theirs, however alike (every episode has a host.wav); left empty when this
    workspace's own state was lost on this machine (its jobs are in the registry too)."""
    from descript_iac.adoption.rebuild import Rebuilder

    addresses = creates(plan, doc)
    if not addresses:
        return Existing()
    projects = {a: workspace.projects[a] for a in addresses}
    only = msgspec.structs.replace(workspace, projects=projects)
    rebuilder = Rebuilder(client, doc, timing, others)
    report = rebuilder.run(only)
    existing = Existing(matched=report.of("matched"), ambiguous=report.of("ambiguous"))
    if not rebuilder.projects_api:
        made = sorted(rebuilder.made_by_agents())
        for finding in report.of("missing"):
            if not only.projects[finding.address].has_media and made:
                existing.unproven[finding.address] = made
    return existing
