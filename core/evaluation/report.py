"""Plain-text tables of an evaluation report for the terminal."""
from __future__ import annotations

TASKS = ("thumbnail", "clip", "revision", "creation", "thumbnail_generation")
PROTOCOLS = ("paper", "heldout", "ps", "frechet")


def format_report(report: dict) -> str:
    lines = [f"encoder {report['encoder']}; {report['users']} users; {report['runs']} runs"]
    if "generative" in report:
        g = report["generative"]
        lines.append(f"diffusion tasks: {g['users']} users, {g['steps']} sampler steps")
    for task in TASKS:
        block = report.get(task)
        if block is None:
            continue
        if "skipped" in block:
            lines += ["", f"{task}: skipped ({block['skipped']})"]
            continue
        protocols = [p for p in PROTOCOLS if block.get(p)]
        methods = list(dict.fromkeys(m for p in protocols for m in block[p]))
        columns = _columns(block, protocols)
        headers = [_header(p, k) for p, k in columns]
        if "preference_hit" in block:
            headers.append("preference hit")
        lines += ["", f"{task:<20}" + "".join(f"{h:>18}" for h in headers)]
        for method in methods:
            values = [_value(block, p, k, method) for p, k in columns]
            if "preference_hit" in block:
                values.append(block["preference_hit"].get(method))
            lines.append(f"{method:<20}" + "".join(
                f"{v:>18.4f}" if v is not None else f"{'-':>18}" for v in values))
    return "\n".join(lines)


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
