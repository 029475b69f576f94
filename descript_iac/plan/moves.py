"""`moved` blocks: a renamed address keeps its project (as Terraform's moved blocks).

A block `{from: OLD, to: NEW}` applies while the state has OLD and not NEW: the plan is computed
as if the project were recorded under NEW, with a `=>` move action first, and apply records the
move before anything else of NEW. Once applied (OLD gone from the state), a block does nothing.
The config checks (loader) already refused chains, cycles and blocks naming declared projects.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from descript_iac.config.desired import DesiredProject, Move
from descript_iac.errors import PlanError
from descript_iac.plan.model import Action, ActionKind
from descript_iac.state.document import StateDocument


def apply_moves(
    state: StateDocument, moves: Sequence[Move]
) -> tuple[StateDocument, dict[str, Move]]:
    """The state as the plan sees it once `moves` applied, and the moves that apply (by NEW).

    `state` is not changed: the view shares its project records."""
    pending: dict[str, Move] = {}
    for move in moves:
        if move.from_address not in state.projects:
            continue  # applied earlier, or nothing to move: the block does nothing
        if move.to_address in state.projects:
            raise PlanError(
                f"{move.where}: moved block {move.from_address} -> {move.to_address}: both "
                f"addresses are in the state, so the move would replace {move.to_address}'s "
                f"project. Stop managing one first (`descript-iac state rm ADDRESS`; the "
                "project stays in Descript), or remove the moved block"
            )
        pending[move.to_address] = move
    if not pending:
        return state, {}
    projects = dict(state.projects)
    for to, move in pending.items():
        projects[to] = projects.pop(move.from_address)
    return msgspec.structs.replace(state, projects=projects), pending


def move_action(move: Move, desired: DesiredProject | None) -> Action:
    reason = (
        f"renamed from {move.from_address} (moved block at {move.where}); the project and "
        "every record of it are kept"
    )
    if desired is not None and desired.spec.name is None:
        reason += (
            f". It has no name:, so its Descript name follows the address: set `name: "
            f"{move.from_address}` to keep the name it has"
        )
    return Action(
        address=move.to_address, kind=ActionKind.MOVE, reason=reason, moved_from=move.from_address
    )
