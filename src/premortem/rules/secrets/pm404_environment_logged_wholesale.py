"""PM404: application code that logs or prints the whole environment (every injected secret with it)."""
from ...model import Source
from ..registry import Hit, rule
from ._code import env_dumps


@rule(id="PM404", name="environment-logged-wholesale", severity="high",
      severity_reason="Every secret injected as an environment variable goes to stdout and from there to the log "
                      "store, where everyone with log access reads it and retention keeps it.",
      incidents=["4.2"], title="Code logs or prints the whole environment",
      formats=("text",), kinds=["TextFile"],
      fix="Log only the variables you need, by name, and never their values when they are secrets; if a startup "
          "check must show the configuration, print the names (`sorted(os.environ)`, `Object.keys(process.env)`) "
          "or a masked copy.")
def check(resource, ctx):
    """## What it checks
    Python files (read with `ast`) and JavaScript/TypeScript files (read with tree-sitter) for
    a call to a log or print sink whose arguments carry every value of the environment:
    `print(os.environ)`, `logger.info(os.environ)`, `logging.debug(dict(os.environ))`,
    `log.info("env: %s", os.environ.copy())`, `print(f"{os.environ}")`, `{**os.environ}`,
    `raise RuntimeError(f"bad config {os.environ}")` (exception messages end in logs);
    `console.log(process.env)`, `console.log(JSON.stringify(process.env))`,
    `logger.debug({...process.env})`, `console.table(process.env)`, template strings with
    `${JSON.stringify(process.env)}`, `import.meta.env`, `Deno.env.toObject()`; through a
    local alias too (`env = dict(os.environ); print(env)`, `const env = process.env`,
    `const { env } = process`, `from os import environ`). Sinks: `print`, `pprint`,
    `sys.stdout.write`, `click.echo`, `warnings.warn`, any `.debug/.info/.warning/.error/...`
    on a receiver named like a logger (`logger`, `log`, `logging`, `app.logger`, `console`,
    `winston`, `pino`), `process.stdout.write`, `debug(...)`. Not reported: one variable
    (`os.environ["HOME"]`, `os.environ.get("X")`, `process.env.PORT`), names only
    (`os.environ.keys()`, `Object.keys(process.env)`, `sorted(os.environ)`), `len(...)`,
    and `res.json(process.env)` (sending it to clients is the error-handler rules' business).

    ## Why it breaks production
    Vault injected secrets into pods as environment variables; with `DEBUG=true` a Node.js app
    printed the environment in a stack trace, and `DB_PASSWORD = mySuperSecretPassword123`
    went to ELK, readable in Kibana by anyone with log access (catalog 4.2).

    ## Bad
    ```js server.js
    const express = require("express");
    const app = express();
    console.log("starting with", process.env);
    app.listen(process.env.PORT || 3000);
    ```

    ## Good
    ```js server.js
    const express = require("express");
    const app = express();
    console.log("starting with variables", Object.keys(process.env).sort());
    app.listen(process.env.PORT || 3000);
    ```

    ## Fix
    Log the few settings that help an operator (port, region, feature flags) by name; for
    secrets, log at most whether they are set. Mask or drop secret-named keys before any
    configuration dump, and keep debug logging off in production.
    """
    text = resource.data.get("text") if isinstance(resource.data, dict) else None
    if not text:
        return
    seen: dict = {}
    for d in env_dumps(text, resource.file):
        n = seen[d.sink] = seen.get(d.sink, 0) + 1
        yield Hit((), f"`{d.sink}(...)` writes the whole `{d.what}`: every secret injected as an environment variable "
                      f"(database passwords, API keys, tokens) goes to the output and from there to the log store, "
                      f"readable by everyone with log access for as long as logs are kept",
                  at=Source(resource.file, d.line, d.column), identity=f"{d.sink}:{n}")
