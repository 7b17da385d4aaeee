"""What R7 dashboard rules ask of a panel: is it about errors or latency, does it say on purpose that it
averages (an SLO view), how long a window its queries really average over. Panels and query trees
come from parse/grafana.py."""
from __future__ import annotations

import re

from ...parse.grafana import duration_seconds, nodes, show_seconds

# smoothing: each point is an average (or total) over the window, so a short spike is diluted;
# max_over_time/min_over_time/irate/last_over_time keep it
SMOOTHING = {"rate", "increase", "avg_over_time", "sum_over_time", "delta"}
STATUS_LABELS = {"code", "status", "status_code", "response_code", "http_status", "grpc_code", "statuscode",
                 "http_code", "result", "outcome", "response_status"}
_ERROR_WORDS = re.compile(r"(?i)\b(errors?|5xx|5\.\.|failures?|failed|failing|fail|success(?:ful)?|availability|"
                          r"uptime|apdex|error[- ]?rate|non[- ]?2xx)\b")
_LATENCY_WORDS = re.compile(r"(?i)\b(latency|latencies|duration|response[- ]time|p(?:50|90|95|99|999)|percentile|"
                            r"slow(?:est)?)\b")
_ERROR_METRIC = re.compile(r"(?i)(error|fail|5xx|exception|unavailable|success|availability)")
_ERROR_VALUE = re.compile(r"(?i)^(\^?\(?5|.*5\.\.|.*5xx|error|fail|internal|unavailable|success|ok$|2\.\.|2xx)")
_LATENCY_METRIC = re.compile(r"(?i)(latency|duration|response_time|_seconds_bucket|quantile)")
_SLO_WORDS = re.compile(r"(?i)\b(SL[OIA]s?|error[- ]budgets?|budgets?|burn[- ]?rates?|compliance)\b")
_WINDOW_WORDS = re.compile(r"(?i)\b(\d+(?:\.\d+)?)\s*(ms|s|m|min|mins|minutes?|h|hrs?|hours?|d|days?|w|weeks?)\b")
_PERIOD_WORDS = re.compile(r"(?i)\b(hourly|daily|weekly|monthly|(?:last|past|per|one|1)\s+(?:hour|day|week|month))\b")
_PERIOD = {"hour": 3600, "day": 86400, "dail": 86400, "week": 604800, "month": 2592000}
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60, "h": 3600, "hr": 3600,
         "hrs": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400, "days": 86400, "w": 604800,
         "week": 604800, "weeks": 604800}


def selectors(tree) -> list:
    return [n for n in nodes(tree) if n.get("t") == "sel"]


def about_errors_query(tree) -> bool:
    """A query counting errors (or successes): a metric named so, or a status-code matcher."""
    for s in selectors(tree):
        if _ERROR_METRIC.search(s.get("name") or ""):
            return True
        for name, _op, value in s.get("matchers") or ():
            if name in STATUS_LABELS and _ERROR_VALUE.match(str(value)):
                return True
    return False


def about_latency_query(tree) -> bool:
    return any(n.get("t") == "call" and n.get("func") == "histogram_quantile" for n in nodes(tree)) or any(
        _LATENCY_METRIC.search(s.get("name") or "") or any(m[0] == "quantile" for m in s.get("matchers") or ())
        for s in selectors(tree))


def subject(panel: dict) -> str:
    """'errors', 'latency' or '' from the panel's words, else from its queries."""
    words = f"{panel.get('title', '')} {panel.get('description', '')}"
    if _ERROR_WORDS.search(words):
        return "errors"
    if _LATENCY_WORDS.search(words):
        return "latency"
    trees = [t["query"] for t in panel.get("targets") or () if t.get("query") and not t.get("hide")]
    if any(about_errors_query(t) for t in trees):
        return "errors"
    if any(about_latency_query(t) for t in trees):
        return "latency"
    return ""


def labelled_window(panel: dict, window: float | None = None) -> str:
    """Why a reader knows this panel averages on purpose ('' when nothing says so): SLO/SLI/error
    budget/burn rate words in its title, description or row, or the window itself named there
    ('(30d)', '1h', 'daily') at least half as long as the window it averages over."""
    text = " ".join(str(panel.get(k) or "") for k in ("title", "description", "row"))
    m = _SLO_WORDS.search(text)
    if m:
        return f"its title or description says '{m.group(0)}'"
    for m in _WINDOW_WORDS.finditer(text):
        sec = float(m.group(1)) * _UNIT[m.group(2).lower()]
        if window is None or sec >= window / 2:
            return f"its title or description names the window '{m.group(0)}'"
    for m in _PERIOD_WORDS.finditer(text):
        sec = next(v for k, v in _PERIOD.items() if k in m.group(0).lower())
        if window is None or sec >= window / 2:
            return f"its title or description says '{m.group(0)}'"
    return ""


def panel_range(panel: dict, dashboard: dict) -> tuple[float | None, str]:
    """Seconds of the time range the panel shows, and where it comes from."""
    if panel.get("timeFrom"):
        sec = duration_seconds(panel["timeFrom"] if panel["timeFrom"].startswith("now") else panel["timeFrom"])
        if sec:
            return sec, f"the panel's relative time {panel['timeFrom']}"
    frm = dashboard.get("time_from") or "now-6h"
    sec = duration_seconds(frm)
    return sec, f"the dashboard time range {frm}" + (" (Grafana's default)" if frm == "now-6h" else "")


def window_of(rng, panel: dict, target: dict, dashboard: dict) -> tuple[float | None, str]:
    """(seconds, how) a range selector really spans: a literal, `$__range` (the panel's time range),
    `$__interval`/`$__rate_interval` when a min interval or maxDataPoints forces the step; None when
    Grafana chooses it (a few scrape intervals) or a dashboard variable decides."""
    if isinstance(rng, (int, float)):
        return float(rng), ""
    if not isinstance(rng, dict):
        return None, ""
    var = rng.get("var")
    if var == "__range":
        sec, how = panel_range(panel, dashboard)
        return sec, f"$__range = {how}"
    if var in ("__interval", "__rate_interval", "__auto"):
        best, how = None, ""
        for where, text in (("min interval", target.get("interval")), ("panel min interval", panel.get("interval"))):
            sec = duration_seconds(text or "")
            if sec and (best is None or sec > best):
                best, how = sec, f"${var} >= the {where} {text}"
        mdp = panel.get("maxDataPoints")
        if mdp:
            rsec, rhow = panel_range(panel, dashboard)
            if rsec and (best is None or rsec / mdp > best):
                best, how = rsec / mdp, f"${var} = {rhow} / maxDataPoints {mdp}"
        return best, how
    return None, ""


def smoothing_windows(tree):
    """(function, range) of every smoothing call in a query: `rate(x[1h])`, `avg_over_time(r[30m:1m])`."""
    for n in nodes(tree):
        if n.get("t") == "call" and n.get("func") in SMOOTHING and n.get("args"):
            arg = n["args"][0]
            if arg.get("t") in ("matrix", "sub"):
                yield n["func"], arg.get("range")


def dilution(window: float, about: str = "errors") -> str:
    """What a 5-minute incident looks like averaged over `window` seconds."""
    if about == "latency":
        return f"a 5-minute latency spike is 1/{window / 300:.0f} of each point and flattens into the baseline"
    share = min(1.0, 300 / window) * 98
    return f"a 5-minute outage failing 98% of requests shows as ~{share:.1f}%".replace(".0%", "%")


def show(sec: float) -> str:
    return show_seconds(sec)


def panel_name(panel: dict) -> str:
    return f"panel '{panel.get('title') or '(untitled)'}' ({panel.get('type') or 'graph'})"


def target_name(target: dict, index: int) -> str:
    return f"query {target.get('refId') or chr(65 + index % 26)}"
