"""Command line: scan, plan, sbom, rules, explain, version.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 the scan was incomplete
(errors) or the call was wrong. 2 wins over 1.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from . import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_INCOMPLETE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # bad call: exit 2 with a clear message, like every other failure
        self.print_usage(sys.stderr)
        print(f"premortem: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INCOMPLETE)


def build_parser() -> argparse.ArgumentParser:
    from .report import FORMATS

    p = _Parser(prog="premortem", description="Runs the postmortem before the incident.")
    p.add_argument("--version", action="version", version=f"premortem {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    s = sub.add_parser("scan", help="scan files and directories for configurations that caused real outages")
    s.add_argument("paths", nargs="*", default=["."], help="files or directories (default: .)")
    s.add_argument("-f", "--format", choices=FORMATS, default="text")
    s.add_argument("-o", "--output", help="write the report to FILE instead of stdout")
    s.add_argument("--fail-on", choices=["critical", "high", "medium", "low", "info", "never"],
                   help="lowest severity that makes the exit code 1 (default: high, or the config's fail_on)")
    s.add_argument("-c", "--config", help="config file (default: .premortem.yaml from the scanned root upward)")
    s.add_argument("--helm-values", action="append", default=[], metavar="FILE",
                   help="extra values file for Helm charts (repeatable; relative to the chart or the cwd)")
    s.add_argument("-j", "--jobs", type=int, default=0, help="worker processes (default: automatic)")
    s.add_argument("--baseline", help="ignore findings whose fingerprint is in this baseline file")
    s.add_argument("--write-baseline", metavar="FILE", help="write all current findings to FILE as a baseline")
    s.add_argument("--select", action="append", default=[], metavar="ID", help="run only these rules")
    s.add_argument("--ignore", action="append", default=[], metavar="ID", help="never run these rules")
    s.add_argument("--max-file-size", type=float, metavar="MB", help="skip (and report) files larger than this")
    s.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    s.add_argument("--history", action="store_true",
                   help="also scan every commit of the git repository for secrets (PM401); exit 2 outside a git repo")

    pl = sub.add_parser("plan", help="review Terraform plans (terraform show -json plan.out > plan.json)")
    pl.add_argument("plans", nargs="+", metavar="PLAN.json", help="plan JSON files")
    pl.add_argument("-f", "--format", choices=FORMATS, default="text")
    pl.add_argument("-o", "--output", help="write the report to FILE instead of stdout")
    pl.add_argument("--fail-on", choices=["critical", "high", "medium", "low", "info", "never"],
                    help="lowest severity that makes the exit code 1 (default: high, or the config's fail_on)")
    pl.add_argument("-c", "--config", help="config file (default: .premortem.yaml from the current directory upward)")
    pl.add_argument("--select", action="append", default=[], metavar="ID", help="run only these rules")
    pl.add_argument("--ignore", action="append", default=[], metavar="ID", help="never run these rules")
    pl.add_argument("--color", choices=["auto", "always", "never"], default="auto")

    r = sub.add_parser("rules", help="list all rules")
    r.add_argument("-f", "--format", choices=["table", "json", "markdown"], default="table")

    e = sub.add_parser("explain", help="print a rule's documentation")
    e.add_argument("rule_id")

    sb = sub.add_parser("sbom", help="write a CycloneDX SBOM (JSON) of the packages and base images declared")
    sb.add_argument("path", nargs="?", default=".", help="file or directory (default: .)")
    sb.add_argument("-o", "--output", help="write the SBOM to FILE instead of stdout")
    sb.add_argument("--spec-version", choices=["1.5", "1.6"], default="1.6", help="CycloneDX version (default: 1.6)")
    sb.add_argument("-c", "--config", help="config file (default: .premortem.yaml from the root upward)")

    sub.add_parser("version", help="print the version")
    return p


def main(argv: list | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return EXIT_INCOMPLETE
    try:
        if args.command == "scan":
            return cmd_scan(args)
        if args.command == "plan":
            return cmd_plan(args)
        if args.command == "rules":
            return cmd_rules(args)
        if args.command == "explain":
            return cmd_explain(args)
        if args.command == "sbom":
            return cmd_sbom(args)
        if args.command == "version":
            print(f"premortem {__version__}")
            return EXIT_OK
    except KeyboardInterrupt:
        print("premortem: interrupted", file=sys.stderr)
        return EXIT_INCOMPLETE
    except BrokenPipeError:
        return EXIT_OK
    return EXIT_INCOMPLETE


def _scan_root(paths: list) -> str:
    absps = [os.path.abspath(p) for p in paths]
    if len(absps) == 1:
        return absps[0] if os.path.isdir(absps[0]) else os.path.dirname(absps[0])
    common = os.path.commonpath(absps)
    return common if os.path.isdir(common) else os.path.dirname(common)


def cmd_scan(args) -> int:
    from .config import ConfigError, find_config, load_config
    from .engine import ScanOptions, scan
    from .model import Severity
    from .report import write
    from .rules.registry import load_rules
    from .suppress import write_baseline

    root = _scan_root(args.paths)
    registry = load_rules()
    config_path = args.config or find_config(root)
    if args.config and not os.path.isfile(args.config):
        print(f"premortem: error: config file {args.config} not found", file=sys.stderr)
        return EXIT_INCOMPLETE
    try:
        config = load_config(config_path, registry)
    except ConfigError as exc:
        print(f"premortem: error: {exc}", file=sys.stderr)
        return EXIT_INCOMPLETE
    for rid in args.select + args.ignore:
        if rid.upper() not in registry:
            print(f"premortem: error: unknown rule ID '{rid}' (see `premortem rules`)", file=sys.stderr)
            return EXIT_INCOMPLETE
    if args.max_file_size:
        config.max_file_size = int(args.max_file_size * 1024 * 1024)
    if args.baseline and not os.path.isfile(args.baseline):
        print(f"premortem: error: baseline file {args.baseline} not found", file=sys.stderr)
        return EXIT_INCOMPLETE
    if args.history:  # fail before scanning: a history gate outside a repository would pass on nothing
        from .history import HistoryError, repository

        try:
            repository(root)
        except HistoryError as exc:
            print(f"premortem: error: {exc}", file=sys.stderr)
            return EXIT_INCOMPLETE
    opts = ScanOptions(jobs=args.jobs, helm_values=args.helm_values, baseline=args.baseline or "",
                       select=args.select, ignore=args.ignore, history=args.history)
    try:
        result = scan(args.paths, root, config, opts)
    except (ValueError, json.JSONDecodeError) as exc:  # an unreadable baseline
        print(f"premortem: error: {args.baseline}: {exc}", file=sys.stderr)
        return EXIT_INCOMPLETE
    if args.write_baseline:
        try:
            write_baseline(args.write_baseline, result.findings)
        except OSError as exc:
            print(f"premortem: error: cannot write baseline {args.write_baseline}: {exc.strerror or exc}",
                  file=sys.stderr)
            return EXIT_INCOMPLETE
        print(f"premortem: wrote {len(result.findings)} findings to baseline {args.write_baseline}", file=sys.stderr)

    to_tty = not args.output and sys.stdout.isatty()
    color = args.color == "always" or (args.color == "auto" and to_tty and not os.environ.get("NO_COLOR"))
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                write(result, args.format, fh, color=color)
        except OSError as exc:
            print(f"premortem: error: cannot write report to {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_INCOMPLETE
    else:
        write(result, args.format, sys.stdout, color=color)

    if result.errors:
        return EXIT_INCOMPLETE
    fail_on = args.fail_on or config.fail_on.label
    if fail_on == "never":
        return EXIT_OK
    threshold = Severity.parse(fail_on)
    return EXIT_FINDINGS if any(f.severity >= threshold for f in result.findings) else EXIT_OK


PLAN_MAX_BYTES = 256 * 1024 * 1024  # a plan named on the command line is read whatever its size


def cmd_plan(args) -> int:
    """Review Terraform plan JSON files: a summary of what they do, then the findings (scan's formats
    and exit codes; text gets the summary above the findings, json a top-level "plan" object)."""
    from .config import ConfigError, find_config, load_config
    from .discover import read_text
    from .engine import ScanOptions, scan
    from .model import Severity
    from .parse.tfplan import parse_plan
    from .report import render
    from .report.json_report import to_dict
    from .report.plan_summary import render_text, summarize
    from .rules.registry import load_rules

    cwd = os.getcwd()
    absps = [os.path.abspath(p) for p in args.plans]
    root = cwd if all(p.startswith(cwd + os.sep) for p in absps) else _scan_root(args.plans)
    plans = []
    for path, absp in zip(args.plans, absps):
        if not os.path.isfile(absp):
            return _fail(f"plan file {path} not found")
        try:
            with open(absp, "rb") as fh:
                binary = fh.read(2) == b"PK"  # `terraform plan -out` writes a zip archive
            text = "PK" if binary else read_text(absp)
        except (OSError, ValueError) as exc:
            return _fail(f"{path}: {exc.strerror if isinstance(exc, OSError) else exc}")
        resources, errors = parse_plan(text, os.path.relpath(absp, root).replace(os.sep, "/"))
        if errors:
            e = errors[0]
            return _fail(f"{path}:{e.line}: {e.message}")
        plans.append(resources[0])
    registry = load_rules()
    if args.config and not os.path.isfile(args.config):
        return _fail(f"config file {args.config} not found")
    try:
        config = load_config(args.config or find_config(root), registry)
    except ConfigError as exc:
        return _fail(str(exc))
    for rid in args.select + args.ignore:
        if rid.upper() not in registry:
            return _fail(f"unknown rule ID '{rid}' (see `premortem rules`)")
    config.max_file_size = max(config.max_file_size, PLAN_MAX_BYTES)
    result = scan(absps, root, config, ScanOptions(select=args.select, ignore=args.ignore))
    for f in result.findings:  # a one-line plan's "line" is the whole plan: never print it
        if len(f.snippet) > 300:
            f.snippet = ""
    summary = summarize(plans)
    color = args.color == "always" or (args.color == "auto" and not args.output and sys.stdout.isatty()
                                       and not os.environ.get("NO_COLOR"))
    if args.format == "json":
        report = json.dumps({**to_dict(result), "plan": summary}, indent=2, ensure_ascii=False) + "\n"
    else:
        report = (render_text(summary, color) if args.format == "text" else "") + render(result, args.format, color)
    try:
        if args.output:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(report)
        else:
            sys.stdout.write(report)
    except OSError as exc:
        return _fail(f"cannot write report to {args.output}: {exc.strerror or exc}")
    if result.errors:
        return EXIT_INCOMPLETE
    fail_on = args.fail_on or config.fail_on.label
    if fail_on == "never":
        return EXIT_OK
    return EXIT_FINDINGS if any(f.severity >= Severity.parse(fail_on) for f in result.findings) else EXIT_OK


def _fail(message: str) -> int:
    print(f"premortem: error: {message}", file=sys.stderr)
    return EXIT_INCOMPLETE


def cmd_rules(args) -> int:
    from .docs import rules_markdown_index
    from .rules.registry import load_rules

    rules = load_rules()
    if args.format == "json":
        print(json.dumps([r.to_dict() for r in rules.values()], indent=2))
    elif args.format == "markdown":
        print(rules_markdown_index(rules))
    else:
        w_name = max(len(r.name) for r in rules.values())
        print(f"{'ID':<6} {'SEVERITY':<9} {'NAME':<{w_name}} {'INCIDENTS':<12} PROD  TITLE")
        for r in rules.values():
            print(f"{r.id:<6} {r.severity.label:<9} {r.name:<{w_name}} {','.join(r.incidents) or '-':<12} "
                  f"{'yes ' if r.production_only else 'no  '}  {r.title}")
    return EXIT_OK


def cmd_explain(args) -> int:
    from .docs import rule_markdown
    from .rules.registry import load_rules

    rules = load_rules()
    key = args.rule_id.upper()
    rule = rules.get(key) or next((r for r in rules.values() if r.name == args.rule_id), None)
    if rule is None:
        print(f"premortem: error: unknown rule '{args.rule_id}' (see `premortem rules`)", file=sys.stderr)
        return EXIT_INCOMPLETE
    print(rule_markdown(rule))
    return EXIT_OK


def cmd_sbom(args) -> int:
    """A CycloneDX SBOM of what the path declares (lockfiles, manifests, Dockerfile base images).
    Exit 0 when every file was read; 2 for a bad path or config, or when a file could not be parsed
    (the SBOM is still written, without that file, and the errors go to stderr)."""
    from .config import ConfigError, find_config, load_config
    from .rules.registry import load_rules
    from .sbom import build, render

    if not os.path.exists(args.path):
        return _fail(f"{args.path}: no such file or directory")
    root = _scan_root([args.path])
    if args.config and not os.path.isfile(args.config):
        return _fail(f"config file {args.config} not found")
    try:
        config = load_config(args.config or find_config(root), load_rules())
    except ConfigError as exc:
        return _fail(str(exc))
    bom, errors = build([args.path], root, config)
    text = render(bom, args.spec_version)
    try:
        if args.output:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            sys.stdout.write(text)
    except OSError as exc:
        return _fail(f"cannot write SBOM to {args.output}: {exc.strerror or exc}")
    for e in errors:
        print(f"premortem: {e}", file=sys.stderr)
    if args.output:
        print(f"premortem: wrote {len(bom.components)} components to {args.output}", file=sys.stderr)
    return EXIT_INCOMPLETE if errors else EXIT_OK
