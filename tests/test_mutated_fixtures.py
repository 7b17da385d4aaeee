"""Every fixture, damaged (truncated, or brackets and quotes sprinkled in), scans without an internal
error: parsers report what they cannot read, rules never crash on what parsers give them."""
import random
import shutil

from .conftest import FIXTURES, run_scan


def _mutate(text: str, rng: random.Random, how: str) -> str:
    if how == "truncate":
        return text[:rng.randint(0, len(text))]
    chars = list(text)
    for _ in range(max(1, len(chars) // 200)):
        if chars:
            chars[rng.randrange(len(chars))] = rng.choice('{}[]"\':\t\n$(')
    return "".join(chars)


def test_damaged_fixtures_never_crash_a_rule_or_parser(tmp_path):
    rng = random.Random(20261121)
    for how in ("truncate", "sprinkle"):
        for path in sorted(FIXTURES.rglob("*")):
            if not path.is_file():
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            out = tmp_path / how / path.relative_to(FIXTURES)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(_mutate(text, rng, how))
    result = run_scan(tmp_path)
    internal = [(e.file, e.message) for e in result.errors if "internal error" in e.message]
    assert internal == []
    assert result.files > 500
    shutil.rmtree(tmp_path, ignore_errors=True)
