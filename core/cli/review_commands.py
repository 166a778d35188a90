"""CLI commands of the human review and the export gate: review, export."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.cli.corpus_commands import corpus


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("verify", parents=[common],
                       help="watermark payload and provenance of an exported file")
    p.add_argument("file", type=Path, metavar="FILE")
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

    p = sub.add_parser("review", parents=[common], help="approve or reject a generation")
    p.add_argument("generation_id", metavar="GENERATION_ID")
    decision = p.add_mutually_exclusive_group(required=True)
    decision.add_argument("--approve", dest="decision", action="store_const", const="approve")
    decision.add_argument("--reject", dest="decision", action="store_const", const="reject")
    p.add_argument("--reason", required=True)
    p.add_argument("--override", default=None,
                   help="why to approve although a blocking check failed")
    p.add_argument("--reviewer", default="")
    p.set_defaults(run=cmd_review)

    p = sub.add_parser("export", parents=[common], help="export an approved generation")
    p.add_argument("generation_id", metavar="GENERATION_ID")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_export)


def cmd_verify(args) -> int:
    from core.export.verify import verify_file

    with corpus(args) as store:
        result = verify_file(store, args.file)
    if args.json:
        print(json.dumps(result, indent=1))
    elif result["generation_id"]:
        print(f"{args.file}: AI-generated, generation {result['generation_id']} "
              f"(watermark {result['payload']}, {result['agreement']:.0%} agreement)")
    else:
        print(f"{args.file}: no watermark of this corpus found")
    return 0


def cmd_audit(args) -> int:
    from core.errors import GenerecError
    from core.store.audit import verify_chain

    with corpus(args) as store:
        result = verify_chain(store)
    if args.json:
        print(json.dumps(result))
    elif result["ok"]:
        print(f"audit log intact: {result['entries']} chained entries"
              + (f", {result['legacy']} from before the chain" if result["legacy"] else ""))
    if not result["ok"]:
        raise GenerecError(f"audit log broken at entry {result['broken_at']}: {result['reason']}")
    return 0


def cmd_check(args) -> int:
    from core.fidelity.base import run_checks

    with corpus(args) as store:
        results = run_checks(store, args.generation_id)
    if args.json:
        print(json.dumps(results, indent=1, default=str))
        return 0
    for r in results:
        flag = " (blocking)" if r["blocking"] else ""
        print(f"{r['name']:<14} {r['status']:<5}{flag}  {r['evidence'].get('text', '')}")
    return 0


def cmd_review(args) -> int:
    from core.fidelity.review import record_decision

    with corpus(args) as store:
        status = record_decision(store, args.generation_id, args.decision, args.reason,
                                 args.override, args.reviewer)
    print(f"{args.generation_id}: {status}")
    return 0


def cmd_export(args) -> int:
    from core.export.gate import export_generation

    with corpus(args) as store:
        result = export_generation(store, args.generation_id, args.out)
    print(json.dumps(result, indent=1) if args.json else f"exported to {result['file']}")
    return 0
