"""Plain-text tables of an evaluation report for the terminal."""
from __future__ import annotations


def format_report(report: dict) -> str:
    lines = [f"encoder {report['encoder']}; {report['users']} users; {report['runs']} runs"]
    for task in ("thumbnail", "clip"):
        block = report[task]
        protocols = [p for p in ("paper", "heldout", "ps") if p in block]
        methods = list(block[protocols[0]])
        columns = [k if p == "ps" else f"{p} {k}" for p in protocols for k in block[p][methods[0]]]
        if "preference_hit" in block:
            columns.append("preference hit")
        lines.append("")
        lines.append(f"{task:<14}" + "".join(f"{c:>18}" for c in columns))
        for method in methods:
            values = [block[p][method][k] for p in protocols for k in block[p][method]]
            if "preference_hit" in block:
                values.append(block["preference_hit"][method])
            lines.append(f"{method:<14}" + "".join(
                f"{v:>18.4f}" if v is not None else f"{'-':>18}" for v in values))
    return "\n".join(lines)
