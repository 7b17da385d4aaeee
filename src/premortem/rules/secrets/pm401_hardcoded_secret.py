"""PM401: a credential written into any file of the repository (and, with --history, into any commit)."""
import os

from ...model import Severity, Source, redact
from ..registry import Hit, rule
from . import _patterns as pat

# Rules that report the same literal more precisely (production env, Terraform source, plan, state):
# where one of them fires on a line, PM401's finding on that line is left out (see superseded()).
SPECIFIC_RULES = ("PM402", "PM615", "PM617", "PM620")
_HARM = ("anyone with the repository, a fork or a clone has it, and deleting the line does not revoke it: the "
         "history keeps it")


@rule(id="PM401", name="hardcoded-secret", severity="critical",
      severity_reason="Committed credentials are harvested from public and private repositories within minutes and "
                      "stay valid until someone rotates them.",
      incidents=["4.1"], title="Credential hard-coded in a file of the repository",
      formats=("text",), kinds=["TextFile"], options={"min_length": 8, "min_entropy": 3.0},
      fix="Rotate the credential now (it is compromised the moment it is pushed), remove it from the file, and load "
          "it at run time from a secret store or the CI's secrets (`${{ secrets.X }}`, Vault, AWS Secrets Manager).")
def check(resource, ctx):
    """## What it checks
    Every text file of the scan, whatever its name or format (hidden folders such as
    `.github/` included): provider credentials by their shape (AWS access key ID with its
    secret key, GCP service-account keys, Azure storage keys, connection strings, SAS
    signatures and client secrets, GitHub `ghp_`/`gho_`/`ghs_`/`github_pat_`, GitLab `glpat-`,
    Slack `xox?-` tokens and webhooks, Stripe `sk_live_`/`rk_live_`, npm `npm_` and `.npmrc`
    `_authToken`, PyPI `pypi-`, Google `AIza`, SendGrid, OpenAI, Anthropic, Twilio, docker
    `config.json` logins, PEM private keys with a body, signed unexpired JWTs), URLs with a
    password (`postgres://app:...@db.internal`, `https://user:...@host`), and values assigned
    to a secret-named key (`password=`, `DB_PASSWORD:`, `"apiKey": "..."`, `<password>`,
    `--password=`, `- name: X_TOKEN` / `value:` pairs) that are at least `min_length` long,
    mix character classes and reach `min_entropy` bits per character. Not reported:
    placeholders (`changeme`, `<token>`, `xxx`, `****`, `your_api_key_here`), references
    (`${VAR}`, `$(cat ...)`, `${{ secrets.X }}`, `{{ .Values.x }}`, `%(pw)s`,
    `os.environ["X"]`, `process.env.X`, `vault:`, `arn:aws:secretsmanager:`, `ENC(...)`),
    documented example keys (`AKIAIOSFODNN7EXAMPLE`, anything containing `EXAMPLE`, jwt.io's
    sample), Supabase anon keys, lockfile hashes (generic assignments are not searched in
    `package-lock.json`, `yarn.lock`, `poetry.lock`, `go.sum`...; URLs with passwords still
    are), `data:` URIs, identifiers (`my-secret-name`), a bare name in code (`password =
    get_password()`), a URL password equal to its user or on `localhost`, and test fixtures
    that say so: a file under `test/`, `tests/`, `fixtures/`, `testdata/`, `__tests__/` (or
    named `test_*`, `*_test.*`, `*.spec.*`) whose value or line holds a marker (`fake`,
    `dummy`, `example`, `sample`, `mock`, `stub`, `not-real`, `invalid`) or whose file name
    does. Critical; high for a value found only by its name, or an AWS key ID with no secret
    key within 10 lines. One finding per occurrence, at the secret's line and column; the
    secret is shown as its first 4 characters and a hash. Where PM402 (production env),
    PM620 (Terraform), PM615 (plan) or PM617 (state) reports a line, PM401 leaves that line to
    it.

    ## Why it breaks production
    A developer committed `accessKeyId`/`secretAccessKey` in `config.js` to a public
    repository; within 6 minutes bots used the keys to start EC2 Bitcoin miners, costing over
    ₹1.5 lakh in under 2 hours (catalog 4.1).

    ## Bad
    ```js config.js
    const awsConfig = {
      accessKeyId: "AKIAZ3MSJV4WWD7Q2TPK",
      secretAccessKey: "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",
    };
    ```

    ## Good
    ```js config.js
    const awsConfig = {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID,
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
      example: "AKIAIOSFODNN7EXAMPLE",
    };
    ```

    ## Fix
    Rotate first: the value is compromised from the moment it was pushed, and removing it
    from the file (or even from the history) does not revoke it. Then read it at run time
    (environment injected from a secret store, Vault, AWS Secrets Manager, `${{ secrets.X }}`
    in CI), add a pre-commit hook (gitleaks, detect-secrets) so the next one never lands,
    and run `premortem scan --history` to find the ones already in the history.
    """
    text = resource.data.get("text") if isinstance(resource.data, dict) else None
    if not text:
        return
    opts = ctx.options
    seen: dict = {}  # occurrences of one secret in this file, so each has its own fingerprint
    for f in pat.find_secrets(text, resource.file, int(opts.get("min_length", 8)), float(opts.get("min_entropy", 3.0))):
        line, col = pat.position(text, f.start)
        shown = f"{f.what} ({f.secret}) is written in this file" + (f" ({f.note})" if f.note else "")
        if f.weak:
            msg = (f"{shown} with no secret access key within 10 lines: the secret that pairs with it is probably in "
                   f"another file, the CI settings or the history, and the ID tells an attacker which account to try")
        elif f.strong:
            msg = f"{shown}: {_HARM}"
        else:
            msg = (f"{shown}, {len(f.secret)} characters with {pat.entropy(f.secret):.1f} bits of entropy per "
                   f"character, not a placeholder or reference: {_HARM}")
        n = seen[f.secret] = seen.get(f.secret, 0) + 1
        severity = Severity.HIGH if f.weak or not f.strong else None
        yield Hit((), msg, at=Source(resource.file, line, col), secrets=(f.secret,) + f.also, severity=severity,
                  identity=f"{f.kind}:{_digest(f.secret)}:{n}")


def _digest(secret: str) -> str:
    import hashlib

    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()[:16]


def superseded(findings: list) -> list:
    """PM401 findings on a line where a more specific secret rule (SPECIFIC_RULES) already reports, left out:
    one literal, one finding, from the rule that knows the most about it."""
    specific = {(f.file, f.line) for f in findings if f.rule_id in SPECIFIC_RULES}
    if not specific:
        return findings
    return [f for f in findings if f.rule_id != "PM401" or (f.file, f.line) not in specific]


def redact_errors(errors: list, root: str) -> None:
    """Scan errors quote the text they stumbled on (`unexpected 'curl -u ghp_R7x2...'`): every secret of
    the erring file, and any 8+ character piece of one, is redacted in their messages, in place."""
    cache: dict = {}
    for e in errors:
        path = os.path.join(root, e.file) if e.file else ""
        if not path or not os.path.isfile(path) or len(e.message) < 8:
            continue
        if path not in cache:
            from ...discover import read_text

            try:
                found = pat.find_secrets(read_text(path), e.file)
            except (OSError, ValueError):
                found = []
            cache[path] = [x for f in found for x in (f.secret,) + f.also if len(x) >= 8]
        for secret in cache[path]:
            e.message = _redact_pieces(e.message, secret)


def _redact_pieces(message: str, secret: str) -> str:
    if secret in message:
        return message.replace(secret, redact(secret))
    s = secret[:256]
    for n in range(len(s) - 1, 7, -1):  # the longest piece first: a quote cut short keeps a prefix
        for i in range(len(s) - n + 1):
            if s[i:i + n] in message:
                message = message.replace(s[i:i + n], redact(secret))
    return message
