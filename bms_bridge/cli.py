"""The `bms-bridge` console script. Exit codes: 0 ok, 1 invalid input or failed check, 2 usage."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from bms_bridge.log_format import FORMATS, LOG_FORMAT_ENV, chosen_format, configure
from bms_bridge.sites import DB_ENV
from metering.store import StoreUnavailable

# command name -> module in bms_bridge.commands (imported lazily: `check` need not load pymodbus)
COMMANDS = {
    "check": "check",
    "run": "run",
    "demo": "demo",
    "poll": "poll",
    "import-readings": "import_readings",
    "consumption": "consumption",
    "events": "events",
    "replace-meter": "replace_meter",
    "verify": "verify",
    "backup": "backup",
    "restore": "backup",
    "export": "export",
    "outbox": "outbox",
    "close": "close",
    "statements": "statements",
    "show": "show",
    "adjust": "adjust",
    "review": "review",
    "approve": "approve",
    "audit": "audit",
    "discover": "discover",
    "users": "users",
    "measures": "measures",
    "report": "report",
    "forecast": "forecast",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bms-bridge", description=__doc__)
    parser.add_argument("--db", help=f"database URL (env {DB_ENV}; default: SQLite under SITE/.state/)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = sub.add_parser("check", help="validate a site's YAML")
    check.add_argument("site")

    run = sub.add_parser("run", help="run the service for a site")
    run.add_argument("site")
    run.add_argument("--simulate", action="store_true", help="serve simulated meters on loopback")
    _log_format_option(run)

    _log_format_option(sub.add_parser("demo", help="run the demo business center with simulated meters"))

    poll = sub.add_parser("poll", help="poll every Modbus device")
    poll.add_argument("site")
    poll.add_argument("--once", action="store_true", required=True, help="poll once and exit")
    poll.add_argument("--json", action="store_true", help="print JSON")
    _log_format_option(poll)

    imp = sub.add_parser("import-readings", help="import manual readings from a CSV file")
    imp.add_argument("site")
    imp.add_argument("file")

    cons = sub.add_parser("consumption", help="consumption of a point over a period")
    cons.add_argument("site")
    cons.add_argument("--point", required=True)
    cons.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD (site time)")
    cons.add_argument("--to", dest="end", required=True, help="last day, inclusive, YYYY-MM-DD")
    cons.add_argument("--by", choices=["15min", "hour", "day", "month"], default="day")
    cons.add_argument("--json", action="store_true")

    events = sub.add_parser("events", help="events found: counter faults, anomalies")
    events.add_argument("site")
    events.add_argument("--json", action="store_true")
    events.add_argument("--kind", help="only events of this kind, e.g. counter_fault")
    events.add_argument("--since", help="only events from this day on, YYYY-MM-DD (site time)")
    events.add_argument("--ack", type=int, metavar="ID", help="acknowledge event ID (with --by and --comment)")
    events.add_argument("--by", help="who acknowledges (with --ack)")
    events.add_argument("--comment", default="", help="why, what was done (with --ack)")

    measures = sub.add_parser("measures", help="energy-saving measures recorded in the site's YAML")
    measures.add_argument("site")
    measures.add_argument("--json", action="store_true")

    report = sub.add_parser("report", help="the owner's yearly report: consumption, intensity, savings, CO2e")
    report.add_argument("site")
    report.add_argument("--year", type=int, required=True, help="the calendar year, YYYY (site time)")
    report.add_argument("--json", action="store_true")
    report.add_argument("--html", metavar="OUT", help="also write the report as a self-contained HTML file")
    report.add_argument("--pdf", metavar="PATH", help="also write the report as a PDF with its charts")

    forecast = sub.add_parser("forecast", help="this month per building and tenant: measured, forecast, cost")
    forecast.add_argument("site")
    forecast.add_argument("--json", action="store_true")
    forecast.add_argument("--today", help="the day the forecast is made on, YYYY-MM-DD (default: today)")

    swap = sub.add_parser("replace-meter", help="record a meter exchange (old final and new initial readings)")
    swap.add_argument("site")
    swap.add_argument("--meter", required=True)
    swap.add_argument("--at", required=True, help="time of the exchange, ISO 8601 with UTC offset")
    swap.add_argument("--old-final", type=float, required=True, help="last register reading of the old meter")
    swap.add_argument("--new-initial", type=float, required=True, help="first register reading of the new meter")
    swap.add_argument("--note", default="")

    check_intervals = sub.add_parser("verify", help="recompute intervals from raw readings and report differences")
    check_intervals.add_argument("site")
    check_intervals.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (default: first reading)")
    check_intervals.add_argument("--to", dest="end", help="last day, inclusive (default: last reading)")
    check_intervals.add_argument("--json", action="store_true")

    backup = sub.add_parser("backup", help="copy the site's SQLite database while the service runs")
    backup.add_argument("site")
    backup.add_argument("--out", required=True, help="the backup file to write")
    restore = sub.add_parser("restore", help="replace the site's SQLite database by a backup (stop the service first)")
    restore.add_argument("site")
    restore.add_argument("--from", dest="source", required=True, help="the backup file")

    export = sub.add_parser("export", help="export a period's statements as files")
    export.add_argument("site")
    export.add_argument("--period", required=True, help="the month, YYYY-MM (site time)")
    export.add_argument("--format", required=True, choices=["json", "csv", "xlsx", "espi"])
    export.add_argument("--out", required=True, help="file for csv and xlsx; folder for json and espi")

    outbox = sub.add_parser("outbox", help="statements on their way to the billing system")
    outbox.add_argument("site")
    outbox.add_argument("--state", choices=["pending", "delivered", "dead"])
    outbox.add_argument("--json", action="store_true")
    outbox.add_argument(
        "--requeue-dead", nargs="*", metavar="KEY", help="send dead statement versions again (all, or these keys)"
    )
    _billing_commands(sub)

    discover = sub.add_parser("discover", help="find BMS devices and print a bms_points YAML skeleton")
    discover.add_argument("--bacnet", required=True, metavar="ADDRESS", help="controller HOST:PORT or a broadcast")
    discover.add_argument("--instance", metavar="N|LOW-HIGH", help="only devices with this instance (range)")
    discover.add_argument("--local", metavar="ADDRESS", help="where our client binds, HOST/MASK:PORT")
    discover.add_argument("--out", metavar="FILE", help="write the YAML here instead of printing it")
    discover.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for each answer (3)")

    from bms_bridge.web.roles import Role  # a plain enum: no web framework loaded for other commands

    users = sub.add_parser("users", help="web app users and API tokens")
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="SUBCOMMAND")
    add = users_sub.add_parser("add", help="add a user (password from standard input)")
    add.add_argument("site")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--tenant", help="tenant id (required for --role tenant)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    listing = users_sub.add_parser("list", help="list users")
    listing.add_argument("site")
    listing.add_argument("--json", action="store_true")
    token = users_sub.add_parser("token", help="create an API token for a user (printed once)")
    token.add_argument("site")
    token.add_argument("name")
    token.add_argument("--label", default="", help="what the token is for")
    return parser


def _billing_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    states = ["draft", "reviewed", "approved", "exported", "superseded"]
    by_help = "who does it (default: the logged-in user)"
    close = sub.add_parser("close", help="freeze a month and make a draft statement per contract")
    close.add_argument("site")
    close.add_argument("--period", required=True, help="the month, YYYY-MM (site time)")
    close.add_argument("--by", help=by_help)
    close.add_argument("--json", action="store_true", help="the statements made or kept, as JSON on stdout")

    listing = sub.add_parser("statements", help="list stored statements")
    listing.add_argument("site")
    listing.add_argument("--period", help="only this month, YYYY-MM")
    listing.add_argument("--state", choices=states)
    listing.add_argument("--json", action="store_true")

    show = sub.add_parser("show", help="one statement line by line")
    show.add_argument("site")
    show.add_argument("statement", metavar="STATEMENT_ID")
    show.add_argument("--json", action="store_true")

    adjust = sub.add_parser("adjust", help="change a line's amount or quantity, with a reason")
    adjust.add_argument("site")
    adjust.add_argument("statement", metavar="STATEMENT_ID")
    adjust.add_argument("--line", type=int, required=True, metavar="N", help="line number as `show` lists it")
    change = adjust.add_mutually_exclusive_group(required=True)
    change.add_argument("--amount", metavar="X", help="new net amount of the line (VAT follows)")
    change.add_argument("--quantity", metavar="X", help="new quantity, priced at the line's unit price")
    adjust.add_argument("--reason", required=True, help="why; kept in the audit log")
    adjust.add_argument("--by", help=by_help)

    for name, what in (("review", "mark a draft statement reviewed"), ("approve", "approve a reviewed statement")):
        step = sub.add_parser(name, help=what)
        step.add_argument("site")
        step.add_argument("statement", metavar="STATEMENT_ID")
        step.add_argument("--by", help=by_help)

    audit = sub.add_parser("audit", help="the billing audit log")
    audit.add_argument("site")
    audit.add_argument("--statement", metavar="STATEMENT_ID", help="only entries of this statement")
    audit.add_argument("--json", action="store_true")


def _log_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format",
        choices=FORMATS,
        help=f"text (default) or json: one object per line with site, device, point (env {LOG_FORMAT_ENV})",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    try:
        log_format = chosen_format(getattr(args, "log_format", None))
    except ValueError as error:
        parser.error(str(error))
    configure(level, log_format)
    module = importlib.import_module(f"bms_bridge.commands.{COMMANDS[args.command]}")
    try:
        code: int = module.run(args)
    except KeyboardInterrupt:
        return 130
    except StoreUnavailable as error:  # any command: one sentence with the fix, not a traceback
        print(f"error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
