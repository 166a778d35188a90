"""Plain-text tables of an evaluation report for the terminal."""
from __future__ import annotations

TASKS = ("thumbnail", "clip", "revision", "creation", "thumbnail_generation")
PROTOCOLS = ("paper", "heldout", "ps", "frechet")


def format_report(report: dict) -> str:
    lines = [f"encoder {report['encoder']}; {report['users']} users; {report['runs']} runs"]
    if "judge" in report:
        accuracy = ", ".join(f"{k} {v:.3f}" for k, v in report["judge"]["accuracy"].items())
        lines.append(f"judge {report['judge']['model']}: accuracy on this corpus's frames {accuracy}")
    if "seeds" in report:
        seeds = report["seeds"]
        lines.append(f"evaluation corpus seeds {seeds['evaluation']}; "
                     + ("unseen by every bundled model" if seeds["unseen_by_bundled_models"]
                        else f"seen in training by {', '.join(seeds['seen_by']) or 'unknown'}"))
    if "generative" in report:
        g = report["generative"]
        lines.append(f"diffusion tasks: {g['users']} users, {g['steps']} sampler steps")
    for table in report_tables(report):
        if "skipped" in table:
            lines += ["", f"{table['task']}: skipped ({table['skipped']})"]
            continue
        lines += ["", f"{table['task']:<22}" + "".join(f"{h:>20}" for h in table["headers"])]
        for method, values in table["rows"]:
            lines.append(f"{method:<22}" + "".join(f"{_cell(v):>20}" for v in values))
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):   # {"mean", "ci95": [lo, hi], "users"}
        lo, hi = value["ci95"]
        return f"{value['mean']:.3f} [{lo:.2f},{hi:.2f}]"
    return f"{value:.4f}"


def _columns(block: dict, protocols: list[str]) -> list[tuple[str, str | None]]:
    columns = []
    for protocol in protocols:
        keys = dict.fromkeys(k for v in block[protocol].values() if isinstance(v, dict) for k in v)
        columns += [(protocol, k) for k in keys] or [(protocol, None)]
    return columns


def _header(protocol: str, key: str | None) -> str:
    if protocol == "frechet":
        return "FD-enc"
    return key if protocol == "ps" else f"{protocol} {key}"


def _value(block: dict, protocol: str, key: str | None, method: str):
    value = block[protocol].get(method)
    return value.get(key) if isinstance(value, dict) else value


def report_tables(report: dict) -> list[dict]:
    """The same tables as `format_report`, as data for a report view: one per task with
    `task`, `headers` and `rows` [(method, [value, ...])]; a value is a number, None, or
    {"mean", "ci95": [lo, hi], ...}; a skipped task has `skipped` instead."""
    tables = []
    for task in TASKS:
        block = report.get(task)
        if block is None:
            continue
        if "skipped" in block:
            tables.append({"task": task, "skipped": block["skipped"], "headers": [], "rows": []})
            continue
        protocols = [p for p in PROTOCOLS if block.get(p)]
        methods = list(dict.fromkeys(m for p in protocols for m in block[p]))
        columns = _columns(block, protocols)
        headers = [_header(p, k) for p, k in columns]
        extra = [key for key in ("preference_hit", "judged_hit", "instruction_hit") if key in block]
        methods += [m for key in extra for m in block[key] if m not in methods]
        headers += [key.replace("_", " ") for key in extra]
        rows = [(method, [_value(block, p, k, method) for p, k in columns]
                 + [block[key].get(method) for key in extra]) for method in methods]
        tables.append({"task": task, "headers": headers, "rows": rows})
    return tables
