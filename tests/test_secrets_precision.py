"""PM401's precision and recall, measured (not just asserted on a handful of lines).

- fixtures: every `# expect: PM401` line of tests/fixtures/PM401/bad is a secret, every `# ok: PM401`
  line of good/ a near-miss a naive scanner flags (detect-secrets 1.5.0's default plugins, run on the
  same files: precision 0.50, recall 0.74; PM401: 1.00 / 1.00);
- generated: 200 random credentials of each provider shape must all be found (recall), and 200 of
  each high-entropy non-secret (git SHAs, UUIDs, lockfile integrity hashes, base64 images, bcrypt
  hashes, Docker digests) in realistic lines must all be left alone (precision).
"""
import base64
import random
import re
import string

import pytest

from premortem.rules.secrets._patterns import find_secrets

from .conftest import FIXTURES, run_scan

_MARK = re.compile(r"(?:#|//)\s*(expect|ok):\s*PM401")
A = string.ascii_letters + string.digits
N = 200


def _marks(d, kind):
    out = set()
    for p in d.rglob("*"):
        if p.is_file():
            for n, line in enumerate(p.read_text().splitlines(), start=2):
                m = _MARK.search(line)
                if m and m.group(1) == kind:
                    out.add((p.relative_to(d).as_posix(), n))
    return out


def test_fixture_precision_and_recall():
    bad, good = FIXTURES / "PM401" / "bad", FIXTURES / "PM401" / "good"
    expect, near = _marks(bad, "expect"), _marks(good, "ok")
    hit_bad = {(f.file, f.line) for f in run_scan(bad, select=["PM401"]).findings}
    hit_good = {(f.file, f.line) for f in run_scan(good, select=["PM401"]).findings}
    tp, fp = len(hit_bad & expect), len(hit_bad - expect) + len(hit_good)
    precision, recall = tp / (tp + fp), tp / len(expect)
    print(f"\nPM401 fixtures: {len(expect)} secrets, {len(near)} near-misses: precision {precision:.2f}, "
          f"recall {recall:.2f}")
    assert len(expect) >= 20 and len(near) >= 40
    assert (precision, recall) == (1.0, 1.0)


def _rnd(r, n, alpha=A):
    return "".join(r.choice(alpha) for _ in range(n))


SHAPES = {  # kind -> (make(r) -> line, secret)
    "github": lambda r: "ghp_" + _rnd(r, 36),
    "github-pat": lambda r: "github_pat_" + _rnd(r, 22) + "_" + _rnd(r, 59),
    "gitlab": lambda r: "glpat-" + _rnd(r, 20, A + "-_"),
    "slack": lambda r: f"xoxb-{_rnd(r, 12, string.digits)}-{_rnd(r, 13, string.digits)}-{_rnd(r, 24)}",
    "stripe": lambda r: "sk_live_" + _rnd(r, 24),
    "npm": lambda r: "npm_" + _rnd(r, 36),
    "pypi": lambda r: "pypi-AgEIcHlwaS5vcmc" + _rnd(r, 70, A + "-_"),
    "sendgrid": lambda r: f"SG.{_rnd(r, 22)}.{_rnd(r, 43)}",
    "google": lambda r: "AIza" + _rnd(r, 35),
    "azure-storage": lambda r: "AccountKey=" + _rnd(r, 86, A + "+/") + "==",
    "password": lambda r: "Pw-" + _rnd(r, 4, string.digits) + _rnd(r, 10),
}


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_generated_credentials_are_all_found(kind):
    r = random.Random(kind)
    missed = []
    for _ in range(N):
        secret = SHAPES[kind](r)
        line = f'  "{kind}_token": "{secret}",' if kind != "password" else f"DB_PASSWORD={secret}"
        got = find_secrets(f"config = {{\n{line}\n}}\n", "app/config.txt")
        if not got or got[0].secret not in secret:
            missed.append(secret[:12])
    print(f"\n{kind}: recall {(N - len(missed)) / N:.3f}")
    assert not missed, missed[:5]


NON_SECRETS = {  # realistic lines holding high-entropy values that are no credentials
    "git sha": lambda r: f"      - uses: actions/checkout@{_rnd(r, 40, '0123456789abcdef')}",
    "commit env": lambda r: f"GIT_COMMIT={_rnd(r, 40, '0123456789abcdef')}",
    "uuid": lambda r: "request_id: " + "-".join(_rnd(r, n, "0123456789abcdef") for n in (8, 4, 4, 4, 12)),
    "integrity": lambda r: '  "integrity": "sha512-' + base64.b64encode(r.randbytes(64)).decode() + '",',
    "image": lambda r: '<img src="data:image/png;base64,' + base64.b64encode(r.randbytes(600)).decode() + '">',
    "digest": lambda r: f"image: registry.example.com/api@sha256:{_rnd(r, 64, '0123456789abcdef')}",
    "bcrypt": lambda r: f'password_hash = "$2b$12${_rnd(r, 53, A + "./")}"',
    "base64 blob": lambda r: "checksum: " + base64.b64encode(r.randbytes(30)).decode(),
    "helm ref": lambda r: f"  password: {{{{ .Values.{_rnd(r, 8, string.ascii_lowercase)}.password }}}}",
    "gha secret": lambda r: f"      API_TOKEN: ${{{{ secrets.{_rnd(r, 10, string.ascii_uppercase)}_TOKEN }}}}",
    "env reference": lambda r: f'DB_PASSWORD = os.environ["{_rnd(r, 10, string.ascii_uppercase)}"]',
    "lockfile hash": lambda r: f'    "sha256:{_rnd(r, 64, "0123456789abcdef")}",',
}


@pytest.mark.parametrize("kind", sorted(NON_SECRETS))
def test_generated_near_misses_are_all_left_alone(kind):
    r = random.Random(kind)
    hits = []
    for _ in range(N):
        line = NON_SECRETS[kind](r)
        name = "package-lock.json" if kind == "integrity" else "Pipfile.lock" if kind == "lockfile hash" else "x.yml"
        hits.extend(f.secret[:12] for f in find_secrets(line + "\n", f"repo/{name}"))
    print(f"\n{kind}: false positives {len(hits)}/{N}")
    assert not hits, hits[:5]
