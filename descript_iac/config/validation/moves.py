"""Rules of `moved` blocks that a schema cannot say: each address moves once, to a declared
project, from an address that is no longer declared; no chains, no cycles. Stage 4 of the
validation pipeline (validation/__init__.py) across files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from descript_iac.config.desired import DesiredProject, Move
from descript_iac.config.validation.references import did_you_mean
from descript_iac.errors import Problem


def _problem(move: Move, message: str) -> Problem:
    return Problem(move.file, move.line, move.column, message)


def check_moves(moves: Sequence[Move], projects: Mapping[str, DesiredProject]) -> list[Problem]:
    problems: list[Problem] = []
    by_from: dict[str, Move] = {}
    by_to: dict[str, Move] = {}
    valid: list[Move] = []
    for move in moves:
        old, new = move.from_address, move.to_address
        if old == new:
            problems.append(_problem(move, f"moved block moves {old} to itself; remove it"))
        elif old in by_from:
            first = by_from[old]
            problems.append(
                _problem(
                    move,
                    f"{old} is already moved to {first.to_address} at {first.where}; an "
                    "address moves once",
                )
            )
        elif new in by_to:
            first = by_to[new]
            problems.append(
                _problem(
                    move,
                    f"{first.from_address} is already moved to {new} at {first.where}; two "
                    "projects cannot become one",
                )
            )
        else:
            by_from[old], by_to[new] = move, move
            valid.append(move)
    chained: set[str] = set()
    for move in valid:
        path = _follow(move, by_from)
        if path is None:
            continue
        chained.update(path)
        if path[-1] == move.from_address:
            cycle = " -> ".join(path)
            message = f"moved blocks form a cycle ({cycle}); remove them"
        else:
            after = by_from[move.to_address]
            message = (
                f"moved blocks are chained: {move.from_address} -> {move.to_address} here and "
                f"{after.from_address} -> {after.to_address} at {after.where}; write one block "
                f"{{from: {move.from_address}, to: {path[-1]}}} instead"
            )
        problems.append(_problem(move, message))
    for move in valid:
        if move.from_address in chained or move.to_address in chained:
            continue
        declared = projects.get(move.from_address)
        if declared is not None:
            problems.append(
                _problem(
                    move,
                    f"'from: {move.from_address}' is still declared at {declared.where}; a moved "
                    "block names the old address of a renamed project: rename it under "
                    "projects, or remove the block",
                )
            )
        if move.to_address not in projects:
            hint = did_you_mean(move.to_address, sorted(projects))
            problems.append(
                _problem(
                    move,
                    f"'to: {move.to_address}' is not a project of the workspace; declare the "
                    f"project under its new address{hint}",
                )
            )
    return problems


def _follow(move: Move, by_from: Mapping[str, Move]) -> list[str] | None:
    """The addresses a chain starting at `move` goes through; None when it does not chain."""
    if move.to_address not in by_from:
        return None
    path = [move.from_address, move.to_address]
    current = by_from[move.to_address]
    while current.to_address not in path and current.to_address in by_from:
        path.append(current.to_address)
        current = by_from[current.to_address]
    path.append(current.to_address)
    return path
