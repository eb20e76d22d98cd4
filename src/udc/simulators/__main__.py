"""`python -m udc.simulators <name> [options]`: run one simulator in the foreground (demos and benchmarks).

Each entry points at a `main(argv) -> int` that parses its own options; add a simulator by adding a line.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

COMMANDS: dict[str, str] = {
    "servicenow": "udc.simulators.servicenow:main",
    "jira": "udc.simulators.jira:main",
    "salesforce": "udc.simulators.salesforce:main",
    "confluence": "udc.simulators.confluence:main",
    "rest": "udc.simulators.rest:main",
}


USAGE = f"""usage: python -m udc.simulators {{{','.join(sorted(COMMANDS))}}} [options]

Serve one simulated source in the foreground until Ctrl-C; its URL is printed on start.
`python -m udc.simulators servicenow --help` lists that simulator's options (port, records, accounts...)."""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if not args or args[0] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        return 2
    module, _, function = COMMANDS[args[0]].partition(":")
    command: Callable[[Sequence[str]], int] = getattr(importlib.import_module(module), function)
    return command(args[1:])


if __name__ == "__main__":
    sys.exit(main())
