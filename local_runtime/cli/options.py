"""The options that name the stack (``--stack``, ``--template``, ``--param``), taken before or after the
command's name, and the checks that refuse a bad value the way argparse refuses any bad argument:
exit status 2, before anything is sent.

argparse parses a sub-command's arguments into a namespace of its own and copies it over the main
one, so every command's parser declares the options again with ``default=SUPPRESS`` (a value given
before the command is not overwritten by a default). ``--param`` after the command collects into a
``dest`` of its own, merged afterwards: the sub-parser's list would replace the main one's.
"""

from __future__ import annotations

import argparse
import difflib
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from local_runtime.cli.publisher import PublishError, check_body
from local_runtime.stack.template import (
    DEFAULT_STACK_NAME,
    TEMPLATE_PATH,
    Stack,
    TemplateError,
    load_template,
)

STACK_ENVIRONMENT_VARIABLE = "SHARE_WORKER_STACK"
PARAM_AFTER_COMMAND = "param_after_command"
RUN_OPTIONS = {
    "batch_size": ("--batch-size", "BatchSize"),
    "batch_window": ("--batch-window", "MaximumBatchingWindowInSeconds"),
    "max_concurrency": ("--max-concurrency", "MaximumConcurrency"),
}
"""``run``'s options (their ``dest``) and the template parameters they stand for, for that run."""


class CommandParser(argparse.ArgumentParser):
    """A command's parser (``parser_class`` of the sub-parsers): it takes the stack options too, and
    so does every parser it adds (a command's own actions, such as ``dlq inspect``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        add_stack_options(self, after_command=True)


def add_stack_options(parser: argparse.ArgumentParser, *, after_command: bool = False) -> None:
    stack_default = os.environ.get(STACK_ENVIRONMENT_VARIABLE, DEFAULT_STACK_NAME)
    group = parser.add_argument_group("stack options (before or after the command)")
    group.add_argument(
        "--stack",
        default=argparse.SUPPRESS if after_command else stack_default,
        help=f"stack name the template's resource names derive from (default: ${STACK_ENVIRONMENT_VARIABLE} "
        f"or {DEFAULT_STACK_NAME})",
    )
    group.add_argument(
        "--template",
        type=Path,
        default=argparse.SUPPRESS if after_command else TEMPLATE_PATH,
        help=f"the SAM template (default: {TEMPLATE_PATH})",
    )
    group.add_argument(
        "--param",
        dest=PARAM_AFTER_COMMAND if after_command else "param",
        metavar="NAME=VALUE",
        type=parameter,
        action="append",
        default=argparse.SUPPRESS if after_command else [],
        help="override a template parameter, e.g. --param MaxReceiveCount=5 (repeatable)",
    )


def check_stack_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Merges the ``--param``s given after the command into ``args.param``, then refuses (exit status 2)
    a parameter the template does not declare, naming the close one, and a value outside its
    parameter's constraints, ``run``'s options included."""
    args.param = [*args.param, *vars(args).pop(PARAM_AFTER_COMMAND, [])]
    try:
        stack = Stack(load_template(args.template), args.stack, overrides=dict(args.param))
    except TemplateError as error:
        parser.error(f"argument --template: {error}")
    names = stack.parameter_names()
    for name, _ in args.param:
        if name not in names:
            parser.error(f"argument --param: {unknown_parameter(name, names)}")
        _check(parser, "--param", stack, name)
    run_values = {
        name: getattr(args, dest)
        for dest, (_, name) in RUN_OPTIONS.items()
        if getattr(args, dest, None) is not None
    }
    for option, name in RUN_OPTIONS.values():
        if name in run_values:
            _check(parser, option, replace(stack, overrides={**stack.overrides, **run_values}), name)


def unknown_parameter(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=1)
    suggestion = f" (did you mean {close[0]}?)" if close else ""
    return f"the template has no parameter {name!r}{suggestion}; its parameters: {', '.join(names)}"


def stack_options(args: argparse.Namespace) -> list[str]:
    """The stack options that make another command address the stack this one did: a command
    without the ``--param``s would derive other names (another table) from the template."""
    options = [] if args.stack == DEFAULT_STACK_NAME else ["--stack", args.stack]
    if args.template != TEMPLATE_PATH:
        options += ["--template", str(args.template)]
    for name, value in args.param:
        options += ["--param", f"{name}={value}"]
    return options


def _check(parser: argparse.ArgumentParser, option: str, stack: Stack, name: str) -> None:
    try:
        stack.check_parameter(name)
    except TemplateError as error:
        parser.error(f"argument {option}: {error}")


def at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number not below ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def ratio(text: str) -> float:
    """An argparse type: a share of the messages, at least 0 and below 1 (the first message of a load
    cannot repeat an earlier one, so 1 cannot be honoured)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, got {text}")
    return value


def message_body(text: str) -> str:
    """An argparse type: a body SQS accepts."""
    try:
        check_body(text)
    except PublishError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def parameter(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value
