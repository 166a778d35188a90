"""CLI commands of the human review and the export gate: check, review, fairness, export."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.cli.corpus_commands import corpus, progress_bar


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("verify", parents=[common],
                       help="watermark payload and confidence, generation (resolved with --db), "
                            "provenance and C2PA state of a file, or of each file in a folder")
    p.add_argument("file", type=Path, metavar="FILE|FOLDER")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_verify)

    p = sub.add_parser("audit", parents=[common], help="the audit log")
    p.add_argument("action", choices=("verify",))
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_audit)

    p = sub.add_parser("check", parents=[common], help="run the fidelity checks on a generation")
    p.add_argument("generation_id", metavar="GENERATION_ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("fairness", parents=[common],
                       help="outcome parity across user groups over all generations")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_fairness)

    p = sub.add_parser("review", parents=[common], help="approve or reject a generation")
    p.add_argument("generation_id", metavar="GENERATION_ID")
    decision = p.add_mutually_exclusive_group(required=True)
    decision.add_argument("--approve", dest="decision", action="store_const", const="approve",
                          help="approve: needs every check current (see generec check)")
    decision.add_argument("--reject", dest="decision", action="store_const", const="reject",
                          help="reject: needs a reason")
    p.add_argument("--reason", required=True, help="why, in a sentence (kept in the audit log)")
    p.add_argument("--override", default=None,
                   help="why to approve although a blocking check failed")
    p.add_argument("--reviewer", default=None,
                   help="who decides (default: $GENEREC_REVIEWER, else the OS user)")
    p.set_defaults(run=cmd_review)

    p = sub.add_parser("export", parents=[common], help="export an approved generation")
    p.add_argument("generation_id", metavar="GENERATION_ID")
    p.add_argument("--out", type=Path, required=True, help="folder to write the export into")
    p.add_argument("--force", action="store_true",
                   help="replace an earlier export of this generation in that folder")
    expiry = p.add_mutually_exclusive_group()
    expiry.add_argument("--expires-in", type=float, default=None, metavar="DAYS",
                        help="the AI item expires this many days from now")
    expiry.add_argument("--expires-at", default=None, metavar="ISO_DATE",
                        help="the AI item expires at this date (UTC unless a zone is given)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("purge-expired", parents=[common],
                       help="remove expired AI items and their media files (never human items)")
    p.add_argument("--now", default=None, metavar="ISO", help="purge as of this time")
    p.add_argument("--dry-run", action="store_true", help="list what would be removed")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_purge_expired)


def cmd_verify(args) -> int:
    """Without --db no corpus is opened: the report says whose generation the payload would be."""
    from core.export.verify import describe, verify_path

    if args.db is None:
        reports = verify_path(None, args.file)
    else:
        with corpus(args) as store:
            reports = verify_path(store, args.file)
    if args.json:
        print(json.dumps(reports if args.file.is_dir() else reports[0], indent=1))
        return 0
    for report in reports:
        print("\n".join(describe(report)))
    if args.file.is_dir():
        marked = sum(bool(r.get("payload")) for r in reports)
        failed = sum("error" in r for r in reports)
        print(f"{len(reports)} file{'s' * (len(reports) != 1)}: {marked} watermarked, "
              f"{len(reports) - marked - failed} "
              f"without a watermark" + (f", {failed} not verifiable" if failed else ""))
    return 0


def cmd_audit(args) -> int:
    from core.errors import InputError
    from core.store.audit import verify_chain

    with corpus(args) as store:
        result = verify_chain(store)
    if args.json:
        print(json.dumps(result))
    elif result["ok"]:
        print(f"audit log intact: {result['entries']} chained entries"
              + (f", {result['legacy']} from before the chain" if result["legacy"] else ""))
    if not result["ok"]:
        raise InputError(f"audit log broken at entry {result['broken_at']}: {result['reason']}")
    return 0


def cmd_check(args) -> int:
    """Run the checks as a job (listed by generec jobs); print what each found."""
    from core.cli.jobs_commands import run_as_job
    from core.store.reviews import latest_checks

    ran = run_as_job(args, "check", {"generation_ids": [args.generation_id]})[args.generation_id]
    with corpus(args) as store:
        latest = {c["name"]: c for c in latest_checks(store, args.generation_id)}
    results = [latest[c["name"]] for c in ran]
    if args.json:
        print(json.dumps(results, indent=1, default=str))
        return 0
    for r in results:
        flag = " (blocking)" if r["blocking"] else ""
        print(f"{r['name']:<14} {r['status']:<5}{flag}  {r['evidence'].get('text', '')}")
    return 0


def cmd_fairness(args) -> int:
    from core.fidelity.checks.fairness import outcome_parity
    from core.store.reviews import generation_ids

    with corpus(args) as store:
        report = outcome_parity(store, generation_ids(store))
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"{report['generations']} generations")
    for attribute, entry in report["attributes"].items():
        for group, g in entry["groups"].items():
            passed = "-" if g["passed_rate"] is None else f"{g['passed_rate']:.0%} of {g['checked']}"
            print(f"{attribute:<10} {group:<10} approved {g['approved_rate']:>4.0%} of {g['generations']:<4} "
                  f"passed {passed}")
        print(f"{attribute:<10} gaps: approved {entry['approved_gap']}, passed {entry['passed_gap']}")
    for flag in report["flags"]:
        print(f"warning: {flag}")
    return 0


def cmd_review(args) -> int:
    from core.fidelity.review import record_decision

    with corpus(args) as store:
        status = record_decision(store, args.generation_id, args.decision, args.reason,
                                 args.override, args.reviewer)
    print(f"{args.generation_id}: {status}")
    return 0


def cmd_export(args) -> int:
    from core.export.expiry import expiry_from
    from core.export.gate import export_generation

    expires_at = expiry_from(args.expires_in, args.expires_at)
    with corpus(args) as store, progress_bar(args, "export") as bar:
        result = export_generation(store, args.generation_id, args.out, expires_at, args.force,
                                   progress=bar)
    print(json.dumps(result, indent=1) if args.json else f"exported to {result['file']}")
    return 0


def cmd_purge_expired(args) -> int:
    from core.export.expiry import parse_instant, purge_expired

    now = parse_instant(args.now, "--now") if args.now else None
    with corpus(args) as store:
        result = purge_expired(store, now, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    verb = "would remove" if args.dry_run else "removed"
    for entry in result["removed"]:
        print(f"{verb} {entry['item_id']} (expired {entry['expires_at']}, "
              f"{len(entry['files'])} files)")
    print(f"{verb} {len(result['removed'])} expired AI items as of {result['now']}")
    return 0
