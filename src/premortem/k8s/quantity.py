"""Kubernetes resource quantities (`512Mi`, `2Gi`, `1.5G`, `500m`, `1e9`, `129M`) as numbers.

The grammar is apimachinery's: a signed decimal number, then a binary suffix (Ki Mi Gi Ti Pi Ei),
a decimal suffix (n u m "" k M G T P E) or an exponent (`e3`, `E-2`). Note that `m` is *milli*:
`memory: 512m` is half a byte, a classic slip the rules can point out. YAML numbers (`memory:
536870912`) are quantities too. Anything else (templated text, typos) is None: never guessed.
"""
from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

_BINARY = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
            "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
            "P": Decimal("1e15"), "E": Decimal("1e18")}
_QUANTITY = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?\s*$")

MI = 2 ** 20
GI = 2 ** 30


def parse_quantity(value) -> Decimal | None:
    """The quantity in base units (bytes for memory, cores for cpu), or None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return Decimal(str(value)) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    m = _QUANTITY.match(value)
    if not m:
        return None
    number, suffix = m.group(1), m.group(2) or ""
    try:
        n = Decimal(number)
    except InvalidOperation:  # pragma: no cover - the regex admits only decimals
        return None
    if suffix in _BINARY:
        return n * _BINARY[suffix]
    if suffix in _DECIMAL:
        return n * _DECIMAL[suffix]
    exp = int(suffix[1:])
    if abs(exp) > 30:
        return None
    return n * (Decimal(10) ** exp)


def memory_bytes(value) -> int | None:
    """Bytes, rounded up as the API server does (`512m` is 1 byte), or None."""
    q = parse_quantity(value)
    if q is None or q < 0:
        return None
    return int(q.to_integral_value(rounding="ROUND_CEILING"))


def cpu_millicores(value) -> int | None:
    """Millicores (`250m` → 250, `1.5` → 1500), rounded up, or None."""
    q = parse_quantity(value)
    if q is None or q < 0:
        return None
    return int((q * 1000).to_integral_value(rounding="ROUND_CEILING"))


def is_milli_memory(value) -> bool:
    """`memory: 512m` — milli-bytes, almost always meant as `512Mi`."""
    return isinstance(value, str) and bool(_QUANTITY.match(value)) and value.strip().endswith("m")


def format_bytes(n: float) -> str:
    """A byte count the way people write limits: `512Mi`, `2Gi`, `1.5Gi`, `300Ki`, `12B`."""
    n = float(n)
    for unit, size in (("Ti", 2 ** 40), ("Gi", GI), ("Mi", MI), ("Ki", 2 ** 10)):
        if abs(n) >= size:
            v = n / size
            text = f"{v:.0f}" if abs(v - round(v)) < 0.005 else f"{v:.2f}".rstrip("0").rstrip(".")
            return f"{text}{unit}"
    return f"{n:.0f}B"
