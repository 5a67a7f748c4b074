"""The ``briefcast`` command line (typer): ``main``, and the command modules in ``--help`` order.

Each module registers its commands on the apps of :mod:`briefcast.cli.base` when imported:
:mod:`.issues` (parse, render, ingest, issues, show), :mod:`.serve` (run), :mod:`.delivery`
(push, deliveries, retry-failed, worker), :mod:`.subs` (subs list / add / remove, watches) and
:mod:`.admin` (db upgrade, sources, doctor, version).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

# the command modules register their commands on import: this order is the --help order
# isort: off
from briefcast.cli import issues
from briefcast.cli import serve
from briefcast.cli import delivery
from briefcast.cli import subs
from briefcast.cli import admin

# isort: on
from briefcast.cli.base import app

__all__ = ["admin", "app", "delivery", "issues", "main", "serve", "subs"]


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point (``briefcast``)."""
    app(args=list(argv) if argv is not None else sys.argv[1:], prog_name="briefcast")
