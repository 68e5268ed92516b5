"""The machine-readable line each bench prints at its end, and the table made of them.

A bench prints its human report, then one line per measured ratio:

    RESULT {"bench": "protocol", "measure": "open_entry (decode + verify)", "value": 14100.0,
            "unit": "records/s", "limit": 15600.0, "ratio": 0.904, "goal": ">= 0.85", "ok": true}

(on one line: the word ``RESULT``, a space, a JSON object). ``limit`` is the
hardware limit measured in the same run, in ``limit_unit`` (default: ``unit``);
``goal`` is the goal as the bench states it; ``ok`` is the bench's verdict.
``limit``, ``ratio``, ``goal`` and ``ok`` are null for a figure with no limit
or no goal. ``bench/run_all.py`` collects the lines into ``bench/RESULTS.md``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

__all__ = ["Result", "MalformedResult", "PREFIX", "result_line", "print_result", "parse_line", "parse_output",
           "markdown_table"]  # fmt: skip

PREFIX = "RESULT "
_REQUIRED = {"bench": str, "measure": str, "value": float, "unit": str}
_OPTIONAL = {"limit": float, "limit_unit": str, "ratio": float, "goal": str, "ok": bool}


class MalformedResult(ValueError):
    """A ``RESULT`` line that does not follow the format; the message says which line and why."""


@dataclass(frozen=True, slots=True)
class Result:
    """One measured figure of a bench, as its ``RESULT`` line gives it."""

    bench: str
    measure: str
    value: float
    unit: str
    limit: float | None = None
    limit_unit: str | None = None
    ratio: float | None = None
    goal: str | None = None
    ok: bool | None = None

    @property
    def verdict(self) -> str:
        """PASS or MISS against the goal; ``-`` for a figure given for information."""
        return "-" if self.ok is None else ("PASS" if self.ok else "MISS")


def result_line(result: Result) -> str:
    """The ``RESULT`` line of ``result`` (the inverse of ``parse_line``)."""
    fields = {k: v for k, v in asdict(result).items() if v is not None or k in ("limit", "ratio", "goal", "ok")}
    return PREFIX + json.dumps(fields, ensure_ascii=False)


def print_result(bench: str, measure: str, value: float, unit: str, *, limit: float | None = None,
                 limit_unit: str | None = None, ratio: float | None = None, goal: str | None = None,
                 ok: bool | None = None) -> None:  # fmt: skip
    """Print one ``RESULT`` line; numbers are rounded to 4 significant digits (the machines are noisy)."""
    print(result_line(Result(bench, measure, _round(value), unit, _round(limit), limit_unit, _round(ratio), goal,
                             ok)), flush=True)  # fmt: skip


def _round(value: float | None) -> float | None:
    if value is None or value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.4g}")


def parse_line(line: str, where: str = "") -> Result | None:
    """The ``Result`` of a ``RESULT`` line; ``None`` for any other line (a bench's human output).

    Raises ``MalformedResult`` when the line starts with ``RESULT`` but is
    not one JSON object with the required fields of the right types.
    """
    if not line.startswith(PREFIX.rstrip()):
        return None
    at = f"{where}: " if where else ""
    if not line.startswith(PREFIX):
        raise MalformedResult(f"{at}RESULT must be followed by a space and a JSON object: {line[:120]!r}")
    try:
        fields = json.loads(line[len(PREFIX) :])
    except json.JSONDecodeError as exc:
        raise MalformedResult(f"{at}RESULT line is not JSON ({exc.msg} at column {exc.colno}): {line[:120]!r}") from exc
    if not isinstance(fields, dict):
        raise MalformedResult(f"{at}RESULT line holds a {type(fields).__name__}, not a JSON object")
    missing = [name for name in _REQUIRED if name not in fields]
    if missing:
        raise MalformedResult(f"{at}RESULT line lacks {', '.join(missing)}")
    unknown = sorted(set(fields) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise MalformedResult(f"{at}RESULT line has unknown fields: {', '.join(unknown)}")
    for name, kind in {**_REQUIRED, **_OPTIONAL}.items():
        value = fields.get(name)
        if value is None and name in _OPTIONAL:
            continue
        if not _is(value, kind):
            expected = "a number" if kind is float else f"a {kind.__name__}"
            raise MalformedResult(f"{at}RESULT field {name!r} must be {expected}, not {value!r}")
    if fields.get("goal") is not None and fields.get("ok") is None:
        raise MalformedResult(f"{at}RESULT line states a goal but no verdict (ok)")
    return Result(**{name: float(v) if isinstance(v, int) and not isinstance(v, bool) else v
                     for name, v in fields.items()})  # fmt: skip


def _is(value: object, kind: type) -> bool:
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind is str:
        return isinstance(value, str) and value.strip() != ""
    return isinstance(value, kind)


def parse_output(text: str, source: str = "") -> list[Result]:
    """Every ``RESULT`` line of a bench's output, in order; ``MalformedResult`` names the first bad one."""
    results = []
    for number, line in enumerate(text.splitlines(), start=1):
        result = parse_line(line.rstrip("\r"), f"{source} line {number}".strip())
        if result is not None:
            results.append(result)
    return results


def number(value: float) -> str:
    """A figure as a reader wants it: no false precision."""
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def markdown_table(results: list[Result]) -> str:
    """One row per result: bench, measure, value, limit measured, ratio, goal, verdict."""
    lines = ["| bench | measure | value | limit measured | ratio | goal | verdict |",
             "|---|---|---:|---:|---:|---|---|"]  # fmt: skip
    for r in results:
        limit = "" if r.limit is None else f"{number(r.limit)} {r.limit_unit or r.unit}"
        ratio = "" if r.ratio is None else f"{r.ratio:.3f}"
        cells = [r.bench, r.measure, f"{number(r.value)} {r.unit}", limit, ratio, r.goal or "", r.verdict]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"
