"""PM710: a container's memory limit does not hold the JVM heap it is told to use."""
import os

from ...jvm import container_launch, dockerfile_launch, settings_from
from ...k8s.quantity import MI, format_bytes, is_milli_memory, memory_bytes
from ...k8s.workloads import containers
from ...model import Severity, Source
from ..registry import Hit, rule


def _mapping(image: str, images: dict) -> dict:
    """`images:` of .premortem.yaml for this image: a key may be the full reference, the repository
    or its last part (`payment-api`); a path may start with `./` or end with `/`."""
    repo = image.split("@")[0]
    if ":" in repo.rsplit("/", 1)[-1]:
        repo = repo.rsplit(":", 1)[0]
    out = {}
    for name, path in (images or {}).items():
        if name in (image, repo, repo.rsplit("/", 1)[-1]):
            path = str(path).strip()
            out[repo] = path.removeprefix("./").rstrip("/")
    return out


def _image_launch(ctx, image: str):
    """(env, entrypoint, cmd) of the final Dockerfile stage that builds `image`, when it is in the repo;
    of several Dockerfiles in one directory, the plain `Dockerfile` (not `Dockerfile.dev`)."""
    stages = ctx.project.dockerfiles_for_image(image, _mapping(image, ctx.config.images)) if image else []
    if not stages:
        return None
    st = min(stages, key=lambda s: (os.path.basename(s.file).lower() not in ("dockerfile", "containerfile"), s.file))
    lines = st.facts.get("lines") or {}
    return dockerfile_launch(st.facts.get("env"), st.facts.get("entrypoint"), st.facts.get("cmd"),
                             lambda p: Source(st.file, lines.get(".".join(p), st.line), 1))


@rule(id="PM710", name="memory-limit-below-jvm-heap", severity="high",
      severity_reason="A heap that cannot fit the limit gets the container OOM-killed, at start (critical) or under load.",
      incidents=["R3"], title="Memory limit is below the JVM heap plus its overhead",
      production_only=False,
      options={"non_heap_mb": 256, "non_heap_percent": 10, "max_ram_percentage": 90},
      fix="Raise `resources.limits.memory` to the heap plus non-heap memory (at least 256Mi or 10% more), "
          "or size the heap from the limit with `-XX:MaxRAMPercentage=75` instead of a fixed -Xmx.")
def check(resource, ctx):
    """## What it checks
    Every container with `resources.limits.memory` whose JVM heap is set: `-Xmx`,
    `-XX:MaxHeapSize`, `-Xms`, `-XX:MaxRAM`, `-XX:MaxRAMPercentage` in `JAVA_TOOL_OPTIONS`,
    `JDK_JAVA_OPTIONS`, `JAVA_OPTS`, `CATALINA_OPTS`, `_JAVA_OPTIONS`, `command` and `args`, and in
    the image's Dockerfile `ENV`/`ENTRYPOINT`/`CMD` when that Dockerfile is in the repository (the
    finding then points at the limit and names the Dockerfile line). The last flag wins, as in
    the JVM; values from `valueFrom` are unknown and never guessed. A heap at or above the limit
    is critical; a heap that leaves less than the JVM's non-heap memory (metaspace, thread
    stacks, code cache, GC structures: the larger of `non_heap_mb`, 256, and `non_heap_percent`,
    10% of the heap) is high, and so is `-XX:MaxRAMPercentage` above `max_ram_percentage` (90).
    A container without a memory limit is not judged here.

    ## Why it breaks production
    In the payment-api outage the chart set `memory: 512Mi` while `JAVA_OPTS` asked for a 2Gi
    heap: every pod was OOM-killed by the kernel as it started and the service sat in
    CrashLoopBackOff (R3). The limit and the heap live in different files, so nobody saw both.

    ## Bad
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: payment-api, namespace: production}
    spec:
      template:
        spec:
          containers:
            - name: payment-api
              image: our-priv-reg.io/fintech/payment-api:1.42.0
              env:
                - name: JAVA_OPTS
                  value: "-Xms2g -Xmx2g -XX:+UseG1GC"
              resources:
                limits: {memory: 512Mi}
    ```

    ## Good
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: payment-api, namespace: production}
    spec:
      template:
        spec:
          containers:
            - name: payment-api
              image: our-priv-reg.io/fintech/payment-api:1.42.0
              env:
                - name: JAVA_OPTS
                  value: "-Xmx2g -XX:+UseG1GC"
              resources:
                limits: {memory: 3Gi}
    ```

    ## Fix
    Give the container the heap plus non-heap memory (`-Xmx2g` needs about `2560Mi`), or drop
    the fixed heap and let it follow the limit with `-XX:MaxRAMPercentage=75`.
    """
    floor = int(ctx.options.get("non_heap_mb", 256)) * MI
    share = float(ctx.options.get("non_heap_percent", 10)) / 100
    max_pct = float(ctx.options.get("max_ram_percentage", 90))
    for c in containers(resource):
        raw = c.data.get("resources")
        raw = raw.get("limits") if isinstance(raw, dict) else None
        raw = raw.get("memory") if isinstance(raw, dict) else None
        limit = memory_bytes(raw)
        if not limit:
            continue
        env, argv = container_launch(c, _image_launch(ctx, c.image))
        jvm = settings_from(env, argv)
        heap = jvm.max_heap(limit)
        if heap is None:
            continue
        pcts = [f for f in heap.flags if f.name.endswith("percentage")]
        pct = pcts[0] if pcts and len(pcts) == len(heap.flags) else None  # sized from the limit itself
        kind = "init container" if c.init else "container"
        lim = f"memory limit {raw}"
        if is_milli_memory(raw):
            lim += " (milli-bytes: `m` means 1/1000 of a byte, not Mi)"
        elif str(raw).strip() != format_bytes(limit):
            lim += f" ({format_bytes(limit)})"
        overhead = max(floor, int(heap.bytes * share))
        related = tuple((f.origin, f"the JVM heap is set here: {f.text} ({f.where})") for f in heap.flags)
        where = c.at("resources", "limits", "memory")
        if heap.bytes >= limit:
            yield Hit(where, f"{kind} '{c.name}': {lim} cannot hold even the JVM heap of {format_bytes(heap.bytes)} "
                             f"from {heap.how}; the kernel OOM-kills the JVM as the heap fills (OOMKilled, then "
                             f"CrashLoopBackOff)", severity=Severity.CRITICAL, related=related)
        elif pct is not None:
            if pct.value > max_pct:
                yield Hit(where, f"{kind} '{c.name}': {pct.text} ({pct.where}) gives the heap "
                                 f"{format_bytes(heap.bytes)} of the {lim}, leaving {format_bytes(limit - heap.bytes)} "
                                 f"for metaspace, thread stacks and code cache (keep it at or below {max_pct:g}%): "
                                 f"OOMKilled under load", related=related)
        elif heap.bytes + overhead > limit:
            yield Hit(where, f"{kind} '{c.name}': {lim} leaves {format_bytes(limit - heap.bytes)} beside the JVM heap "
                             f"{format_bytes(heap.bytes)} from {heap.how}; metaspace, thread stacks, code cache and GC "
                             f"need about {format_bytes(overhead)} more, so the container is OOM-killed under load "
                             f"(needs at least {format_bytes(heap.bytes + overhead)})", related=related)
