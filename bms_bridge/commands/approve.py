"""`bms-bridge approve SITE STATEMENT_ID [--by USER]`: approve a reviewed statement for export."""

from __future__ import annotations

import argparse

from billing_export.statement import StatementState
from bms_bridge.commands.review import step


def run(args: argparse.Namespace) -> int:
    return step(args, StatementState.APPROVED)
