"""The `generec` command line (DESIGN.md section 3).

Exit status: 0 on success, 2 on bad arguments or bad input (`InputError`, `SchemaError`: one
line on stderr), 1 on an internal error (any other failure), 130 when cancelled. `--json`
output goes alone to stdout.
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback

from core import __version__
from core.errors import Cancelled, GenerecError, InputError, SchemaError
from core.paths import default_db_path

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_CANCELLED = 0, 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    from core.cli import (batch_commands, corpus_commands, diffusion_commands, help_texts,
                          jobs_commands, judge_commands, model_commands, review_commands)

    parser = argparse.ArgumentParser(prog="generec", description="GeneRec Studio, headless.")
    parser.add_argument("--version", action="version", version=f"generec {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=None,
                        help=f"corpus database (default: {default_db_path()})")
    common.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    corpus_commands.register(sub, common)
    model_commands.register(sub, common)
    review_commands.register(sub, common)
    diffusion_commands.register(sub, common)
    jobs_commands.register(sub, common)
    batch_commands.register(sub, common)
    judge_commands.register(sub, common)
    help_texts.fill_missing(sub)        # every option has help; --help groups the commands
    help_texts.group_commands(parser, sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or EXIT_OK
    except Cancelled:
        print("generec: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except KeyboardInterrupt:
        print("generec: interrupted", file=sys.stderr)
        return EXIT_CANCELLED
    except (InputError, SchemaError) as exc:
        print(f"generec: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except GenerecError as exc:    # a step of ours failed (a read-back, a signature): not bad input
        print(f"generec: error: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a short reason, exit 1
        if os.environ.get("GENEREC_DEBUG"):
            traceback.print_exc()
        print(f"generec: internal error: {type(exc).__name__}: {exc} "
              f"(set GENEREC_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL

