"""Shared probe helpers for PM701-PM707: the three probes of a container, their handler, their
timing with Kubernetes defaults, declared ports, and how long the app is expected to take to start.
Not a rule module (no `pm123_` prefix), so the registry never imports it as one."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...k8s.images import parse_image
from ...k8s.workloads import Container, pod_template_path

KINDS = ("readinessProbe", "livenessProbe", "startupProbe")
HANDLERS = ("httpGet", "tcpSocket", "grpc", "exec")
# Kubernetes defaults (core/v1 Probe)
DEFAULTS = {"initialDelaySeconds": 0, "periodSeconds": 10, "timeoutSeconds": 1, "failureThreshold": 3}
STARTUP_ANNOTATION = "premortem.dev/startup-seconds"
# long, distinctive names matched anywhere in the image; short ones (jre, jdk, java) as whole words
JVM_IMAGES = ["openjdk", "temurin", "corretto", "zulu", "liberica", "adoptopenjdk", "spring", "tomcat",
              "jboss", "wildfly", "keycloak", "jetty", "payara", "glassfish", "websphere", "weblogic",
              "jre", "jdk", "java"]
JVM_ENV = ("JAVA_OPTS", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "JAVA_OPTIONS")
_SHORT = {"jre", "jdk", "java"}


@dataclass(frozen=True)
class Probe:
    kind: str  # readinessProbe | livenessProbe | startupProbe
    path: tuple  # path of the probe object inside the resource
    data: dict

    @property
    def handler(self) -> str:
        return next((h for h in HANDLERS if isinstance(self.data.get(h), dict)), "")

    @property
    def action(self) -> dict:
        return (self.data.get(self.handler) or {}) if self.handler else {}

    def at(self, *steps) -> tuple:
        return self.path + tuple(steps)

    def number(self, field: str) -> int:
        v = self.data.get(field)
        return v if isinstance(v, int) and not isinstance(v, bool) else DEFAULTS[field]

    @property
    def budget(self) -> int:
        """Seconds the container may take before this probe gives up on it."""
        return self.number("initialDelaySeconds") + self.number("periodSeconds") * self.number("failureThreshold")

    def arithmetic(self) -> str:
        def part(f):
            return f"{f} {self.number(f)}" + ("" if f in self.data else " (default)")
        return (f"{part('initialDelaySeconds')} + {part('periodSeconds')} × {part('failureThreshold')} "
                f"= {self.budget}s")


def probes(c: Container) -> dict:
    """kind -> Probe for the probes the container declares."""
    return {k: Probe(k, c.at(k), c.data[k]) for k in KINDS if isinstance(c.data.get(k), dict)}


def templated(v) -> bool:
    return isinstance(v, str) and ("{{" in v or "$" in v)


def declared_ports(c: Container) -> tuple[dict, set]:
    """({name: number}, {numbers}) of the container's declared ports."""
    names, numbers = {}, set()
    for p in c.ports:
        n = p.get("containerPort")
        if isinstance(n, int):
            numbers.add(n)
        if isinstance(p.get("name"), str):
            names[p["name"]] = n
    return names, numbers


def port_of(probe: Probe):
    """The probe's port as int or name (None for exec or a missing port); digit strings are numbers,
    as the kubelet reads them."""
    port = probe.action.get("port") if probe.handler in ("httpGet", "tcpSocket", "grpc") else None
    if isinstance(port, str) and port.isdigit():
        return int(port)
    return port if isinstance(port, (int, str)) and not isinstance(port, bool) else None


def command_text(probe: Probe) -> str:
    cmd = probe.action.get("command") if probe.handler == "exec" else None
    return " ".join(str(x) for x in cmd) if isinstance(cmd, list) else ""


# ---- expected start time ------------------------------------------------------------------
def _jvm_image(image: str, names: list) -> bool:
    if not image:
        return False
    ref = parse_image(image)
    text = f"{ref.repository}:{ref.tag}".lower()
    words = set(re.split(r"[^a-z0-9]+", text))
    return any((n in words) if n in _SHORT else (n in text) for n in (x.lower() for x in names))


def _java_command(words: list) -> bool:
    text = " ".join(str(w) for w in words if isinstance(w, (str, int)))
    return bool(re.search(r"(^|[\s/;&|])java(\s|$)|-jar\s+\S+\.jar|-Xmx\d", text))


def jvm_evidence(c: Container, ctx) -> str:
    """Why we think the container runs a JVM ('' when we don't)."""
    names = ctx.options.get("jvm_images", JVM_IMAGES)
    if _jvm_image(c.image, names):
        return f"image '{c.image}'"
    for e in c.env:
        if e.get("name") in JVM_ENV:
            return f"env {e['name']}"
    for field in ("command", "args"):
        v = c.data.get(field)
        if isinstance(v, list) and _java_command(v):
            return f"{field} runs java"
    if c.image and not templated(c.image):
        for st in ctx.project.dockerfiles_for_image(c.image, ctx.config.images):
            f = st.facts
            if _jvm_image(f.get("from") or "", names):
                return f"{st.file} FROM {f['from']}"
            if any(k in JVM_ENV for k in (f.get("env") or {})) or _java_command(
                    list(f.get("entrypoint") or []) + list(f.get("cmd") or [])):
                return f"{st.file} running java"
    return ""


def _annotated(resource, path: tuple):
    v = resource.get(path + ("metadata", "annotations", STARTUP_ANNOTATION))
    try:
        return int(str(v).strip().rstrip("s")) if v is not None else None
    except ValueError:
        return None


def expected_start(resource, c: Container, ctx) -> tuple[int, str, bool]:
    """(seconds, where the figure comes from, declared?) for how long the container takes to start."""
    tpl = pod_template_path(resource)
    for path, where in ((tpl, "pod template"), ((), resource.kind)):
        if path is not None:
            v = _annotated(resource, path)
            if v is not None:
                return v, f"annotation {STARTUP_ANNOTATION}: {v} on the {where}", True
    jvm = jvm_evidence(c, ctx)
    if jvm:
        n = int(ctx.options.get("jvm_startup_seconds", 45))
        return n, f"a JVM, from {jvm}; option jvm_startup_seconds", False
    n = int(ctx.options.get("default_startup_seconds", 10))
    return n, "option default_startup_seconds", False
