"""JVM heap flags as the JVM reads them, and PM710 on top of them."""
import json

import pytest

from premortem.jvm import container_launch, dockerfile_launch, find_flags, parse_size, settings_from
from premortem.k8s.workloads import Container
from premortem.model import Severity, Source
from premortem.report import render

from .conftest import FIXTURES, run_scan

GI, MI = 2 ** 30, 2 ** 20


@pytest.mark.parametrize("text, expected", [("2g", 2 * GI), ("2G", 2 * GI), ("2048m", 2 * GI), ("512M", 512 * MI),
                                            ("1024k", MI), ("1t", 2 ** 40), ("1073741824", GI), ("2gb", None), ("x", None)])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


def test_flags_in_order_with_their_text():
    flags = find_flags('-Xms1g -XX:MaxHeapSize=3g "-Xmx2048m" -XX:MaxRAMPercentage=75.0 -XX:MaxRAM=8G')
    assert [(f.name, f.value, f.text) for f in flags] == [
        ("initial_heap", GI, "-Xms1g"), ("max_heap", 3 * GI, "-XX:MaxHeapSize=3g"), ("max_heap", 2 * GI, "-Xmx2048m"),
        ("max_ram_percentage", 75.0, "-XX:MaxRAMPercentage=75.0"), ("max_ram", 8 * GI, "-XX:MaxRAM=8G")]


@pytest.mark.parametrize("text", ["-Xmx2.5g", "--Xmx2g", "-Xmx2gb", "-XX:MaxHeapFreeRatio=70", "-Dapp.-Xmx=1", "JAVA-Xmx4g"])
def test_lookalikes_are_not_flags(text):
    assert find_flags(text) == []


def env(**kv):
    return {k: (v, f"<{k}>", f"env {k}") for k, v in kv.items()}


def argv(*tokens):
    return [(t, "<argv>", "args") for t in tokens]


def heap(env_, argv_, memory=None):
    h = settings_from(env_, argv_).max_heap(memory)
    return h and (h.bytes, h.flags[-1].where)


def test_last_flag_wins_and_command_line_beats_java_tool_options():
    assert heap(env(JAVA_TOOL_OPTIONS="-Xmx4g"), argv("java", "-Xmx1g", "-Xmx512m", "-jar", "a.jar")) == (512 * MI, "args")


def test_underscore_java_options_override_everything():
    assert heap(env(_JAVA_OPTIONS="-Xmx3g"), argv("java", "-Xmx512m", "-jar", "a.jar")) == (3 * GI, "env _JAVA_OPTIONS")


def test_java_opts_expands_where_referenced():
    e = env(JAVA_OPTS="-Xmx2g")
    assert heap(e, argv("sh", "-c", "exec java $JAVA_OPTS -Xmx1g -jar a.jar")) == (GI, "args")
    assert heap(e, argv("sh", "-c", "exec java -Xmx1g ${JAVA_OPTS} -jar a.jar")) == (2 * GI, "env JAVA_OPTS")


def test_kubernetes_dependent_variable_expansion():
    assert heap(env(HEAP="-Xmx3g"), argv("java", "$(HEAP)", "-jar", "a.jar")) == (3 * GI, "env HEAP")


def test_java_opts_is_ignored_by_a_direct_java_command_but_read_by_an_unknown_entrypoint():
    e = env(JAVA_OPTS="-Xmx4g")
    assert heap(e, argv("java", "-jar", "a.jar")) is None
    assert heap(e, argv("/opt/app/start.sh")) == (4 * GI, "env JAVA_OPTS")
    assert heap(e, []) == (4 * GI, "env JAVA_OPTS")
    assert heap(env(CATALINA_OPTS="-Xmx1g"), argv("catalina.sh", "run")) == (GI, "env CATALINA_OPTS")


def test_unknown_values_are_never_guessed():
    assert heap({"JAVA_OPTS": (None, "<x>", "env JAVA_OPTS")}, []) is None


def test_percentages_scale_with_memory_and_initial_heap_raises_the_maximum():
    assert heap(env(JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=50"), [], memory=2 * GI) == (GI, "env JAVA_TOOL_OPTIONS")
    assert heap(env(JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=50"), []) is None  # no limit to scale from
    h = settings_from(env(JAVA_TOOL_OPTIONS="-XX:MaxRAM=8g"), []).max_heap(GI)
    assert h.bytes == 2 * GI and h.how.startswith("the default 25% of -XX:MaxRAM=8g")
    assert heap(env(JAVA_OPTS="-Xms3g -Xmx1g"), []) == (3 * GI, "env JAVA_OPTS")
    assert heap(env(JAVA_OPTS="-Xms256m -Xmx1g"), []) == (GI, "env JAVA_OPTS")


def test_container_over_its_dockerfile():
    image = dockerfile_launch({"JAVA_OPTS": "-Xmx4g"}, ["sh", "-c", "exec java $JAVA_OPTS -jar app.jar"], [],
                              lambda p: Source("Dockerfile", {("env", "JAVA_OPTS"): 3}.get(tuple(p), 4), 1))
    plain = Container(path=("c", 0), data={"name": "app"}, init=False, index=0)
    h = settings_from(*container_launch(plain, image)).max_heap()
    assert h.bytes == 4 * GI and h.flags[0].origin == Source("Dockerfile", 3, 1) and h.flags[0].where == "Dockerfile ENV JAVA_OPTS"
    override = Container(path=("c", 0), data={"name": "app", "env": [{"name": "JAVA_OPTS", "value": "-Xmx1g"}]}, init=False, index=0)
    h = settings_from(*container_launch(override, image)).max_heap()
    assert h.bytes == GI and h.flags[0].origin == ("c", 0, "env", 0, "value")
    command = Container(path=("c", 0), data={"name": "app", "command": ["java", "-Xmx512m", "-jar", "x.jar"]}, init=False, index=0)
    assert settings_from(*container_launch(command, image)).max_heap().bytes == 512 * MI  # command replaces ENTRYPOINT


# ---- PM710 on the fixtures ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def bad():
    return run_scan(FIXTURES / "PM710" / "bad", select=["PM710"])


def by_line(result, line):
    found, = [f for f in result.findings if f.line == line]
    return found


def test_incident_is_critical_with_numbers_and_the_heap_location(bad):
    f = by_line(bad, 21)
    assert f.severity == Severity.CRITICAL and (f.file, f.column) == ("deploy.yaml", 23)
    assert "memory limit 512Mi cannot hold even the JVM heap of 2Gi from -Xmx2g (env JAVA_OPTS)" in f.message
    assert [(r.file, r.line) for r in f.related] == [("deploy.yaml", 16)]


def test_heap_plus_overhead_is_high_and_says_what_is_needed(bad):
    f = by_line(bad, 33)
    assert f.severity == Severity.HIGH
    assert "leaves 148Mi beside the JVM heap 1.86Gi from -Xmx1900m" in f.message and "needs at least 2.11Gi" in f.message


def test_heap_from_the_dockerfile_points_at_the_limit_and_the_dockerfile_line(bad):
    f = by_line(bad, 111)
    assert f.resource == "Deployment/production/billing-api" and f.severity == Severity.CRITICAL
    assert "-Xmx4g (Dockerfile ENV JAVA_OPTS)" in f.message
    assert [(r.file, r.line) for r in f.related] == [("services/billing-api/Dockerfile", 3)]
    assert json.loads(render(bad, "json"))["findings"][-1]["related"][0]["file"] == "services/billing-api/Dockerfile"


def test_milli_memory_and_percentages_are_explained(bad):
    assert "milli-bytes" in by_line(bad, 94).message
    f = by_line(bad, 87)
    assert f.severity == Severity.HIGH and "-XX:MaxRAMPercentage=95.0 (env JDK_JAVA_OPTIONS) gives the heap 3.8Gi" in f.message


def test_options_change_the_budget(tmp_path):
    from premortem.config import Config, RuleConfig

    (tmp_path / "d.yaml").write_text((FIXTURES / "PM710" / "good" / "deploy.yaml").read_text())
    cfg = Config(rules={"PM710": RuleConfig(options={"non_heap_mb": 600})})
    lines = {f.line for f in run_scan(tmp_path, select=["PM710"], config=cfg).findings}
    assert lines == {33, 55}  # two 512m heaps + 600Mi > 1Gi; the 1g heaps in 2Gi still fit
