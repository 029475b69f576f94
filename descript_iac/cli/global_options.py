"""Global options also after the verb: `descript-iac plan DIR --api-url URL -v`.

Each command gets a copy of each root option it does not define itself (same names, same help).
A value given after the verb updates the run's `Globals` as if it had been given before it; an
option not given after the verb leaves the root's value (or its environment variable) alone.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import click

# `emulator serve` has options of its own with the same names (--history-lag is the emulated
# server's lag there, not this client's allowance).
NOT_FOR = frozenset({"emulator"})
SKIP = frozenset({"help", "version"})
OnSet = Callable[[click.Context, str, Any], None]

_attached: set[int] = set()


def _trailing(option: click.Option, on_set: OnSet) -> click.Option:
    trailing = copy.copy(option)
    trailing.expose_value = False
    trailing.envvar = None
    trailing.show_envvar = False
    trailing.default = None
    trailing.show_default = False
    trailing.is_eager = False
    trailing.help = f"[global] {option.help or ''}".rstrip()

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        source = ctx.get_parameter_source(param.name or "")
        if source is click.core.ParameterSource.COMMANDLINE and param.name:
            on_set(ctx, param.name, value)
        return value

    trailing.callback = callback
    return trailing


def attach(command: click.Command, root: click.Command, on_set: OnSet) -> None:
    """Give `command` (and its subcommands) the root's options, once."""
    if id(command) in _attached or command.name in NOT_FOR:
        return
    _attached.add(id(command))
    taken = {name for p in command.params for name in (*p.opts, *p.secondary_opts)}
    for param in root.params:
        if not isinstance(param, click.Option) or param.name in SKIP:
            continue
        if taken & {*param.opts, *param.secondary_opts}:
            continue
        command.params.append(_trailing(param, on_set))
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            attach(sub, root, on_set)
