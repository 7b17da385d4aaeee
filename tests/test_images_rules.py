"""The Dockerfile rules PM503-PM506: positions, messages, options and the dated EOL table."""
import datetime as dt
import textwrap

import pytest

from premortem.config import Config, RuleConfig, load_config
from premortem.k8s.images import parse_image
from premortem.model import Severity
from premortem.rules.images import _eol
from premortem.rules.images.pm503_base_image_unpinned import MOVING_TAGS, moving
from premortem.rules.images.pm504_build_tools_in_runtime_image import (
    runtime_for,
    sdk_base,
)
from premortem.rules.registry import load_rules

from .conftest import FIXTURES, run_scan


def scan(tmp_path, files, rule, config=None):
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"))
    result = run_scan(tmp_path, select=[rule], config=config)
    assert result.errors == []
    return [f for f in result.findings if f.rule_id == rule]


def at(findings):
    return [(f.file, f.line, f.column) for f in findings]


# ---- PM503 --------------------------------------------------------------------------------------
@pytest.mark.parametrize("image, why", [
    ("node", "no tag, which means 'latest'"), ("node:latest", "tag 'latest'"), ("node:lts-alpine", "tag 'lts-alpine'"),
    ("nginx:stable-alpine3.20", "tag 'stable-alpine3.20'"), ("python:slim", "names a variant but no version"),
    ("python:3.13", ""), ("debian:bookworm-slim", ""), ("node:hydrogen", ""), ("ubuntu:jammy-20240125", ""),
    ("acme/app:dev-1.4.2", ""), ("nginx:1.27.3-alpine", "")])
def test_pm503_moving_tags(image, why):
    got = moving(parse_image(image), set(MOVING_TAGS))
    assert (why in got and got) if why else got == ""


def test_pm503_arg_default_is_judged_at_the_from_and_named_at_the_arg(tmp_path):
    f, = scan(tmp_path, {"Dockerfile": """
        ARG BASE=python:latest
        FROM ${BASE} AS app
        """}, "PM503")
    assert at([f]) == [("Dockerfile", 2, 6)] and f.severity == Severity.HIGH
    assert f.message.startswith("stage 'app' (the final stage) is built FROM 'python:latest' (ARG BASE defaults to "
                                "'python:latest') with tag 'latest', which moves to every new release")
    assert [(r.file, r.line, r.column) for r in f.related] == [("Dockerfile", 1, 5)]


def test_pm503_option_changes_what_moves(tmp_path):
    files = {"Dockerfile": "FROM nginx:stable-alpine3.20\nFROM acme/base:nightly-2024.06.01\nFROM acme/base:canary\n"}
    assert at(scan(tmp_path, files, "PM503")) == [("Dockerfile", 1, 6), ("Dockerfile", 3, 6)]
    cfg = Config(rules={"PM503": RuleConfig(options={"mutable_tags": ["latest", "canary"]})})
    assert at(scan(tmp_path, files, "PM503", cfg)) == [("Dockerfile", 3, 6)]


# ---- PM504 --------------------------------------------------------------------------------------
def test_pm504_final_stage_built_on_the_builder_reports_the_builders_from(tmp_path):
    f, = scan(tmp_path, {"Dockerfile": """
        FROM golang:1.23.4 AS build
        RUN go build -o /app .
        FROM build AS final
        CMD ["/app"]
        """}, "PM504")
    assert at([f]) == [("Dockerfile", 1, 6)]
    assert "(via stage 'build') is built FROM 'golang:1.23.4', which brings the Go toolchain" in f.message
    assert "`gcr.io/distroless/static-debian12`" in f.message


def test_pm504_a_later_removal_does_not_shrink_the_earlier_layer(tmp_path):
    found = scan(tmp_path, {"Dockerfile": """
        FROM debian:bookworm-slim
        RUN apt-get update && apt-get install -y --no-install-recommends gcc make && rm -rf /var/lib/apt/lists/*
        RUN apt-get purge -y gcc make
        RUN apt-get update && apt-get install -y --no-install-recommends g++ \\
            && apt-get purge -y --auto-remove g++ && rm -rf /var/lib/apt/lists/*
        """}, "PM504")
    assert at(found) == [("Dockerfile", 2, 23)]
    assert "installs build tools (gcc, make)" in found[0].message


def test_pm504_caches_cleaned_by_env_mount_or_same_run(tmp_path):
    found = scan(tmp_path, {"Dockerfile": """
        FROM python:3.13-slim
        ENV PIP_NO_CACHE_DIR=1
        RUN pip install -r requirements.txt
        RUN --mount=type=cache,target=/var/lib/apt apt-get update && apt-get install -y --no-install-recommends tini
        RUN pip install x && pip cache purge
        RUN dnf install -y jq && dnf clean all
        RUN yum install -y jq
        """}, "PM504")
    assert [(f.line, f.message.split(" leaves ")[0]) for f in found] == [(7, "`yum install -y jq`")]
    assert "end the same RUN with `yum clean all`" in found[0].message


def test_pm504_full_os_running_a_runtime_and_the_runtime_suggestions(tmp_path):
    f, = scan(tmp_path, {"Dockerfile": """
        FROM centos:7
        RUN yum install -y java-11-openjdk-headless && yum clean all
        CMD ["java", "-jar", "/app.jar"]
        """}, "PM504")
    assert at([f]) == [("Dockerfile", 1, 6)]
    assert "built FROM the full OS 'centos:7' to install the runtime 'java-11-openjdk-headless' (line 2)" in f.message
    assert runtime_for(parse_image("maven:3.9.6-eclipse-temurin-17")).startswith("a JRE image (`eclipse-temurin:17-jre`)")
    assert runtime_for(parse_image("openjdk:11-jdk")) .startswith("a JRE image (`eclipse-temurin:11-jre`)")
    assert runtime_for(parse_image("python:3.12")) == "`python:3.12-slim`"


@pytest.mark.parametrize("image, brings", [
    ("maven:3.9.6-eclipse-temurin-17", "Maven"), ("eclipse-temurin:17", "JDK"), ("eclipse-temurin:17-jdk-alpine", "JDK"),
    ("eclipse-temurin:17-jre", ""), ("openjdk:17-jre-slim", ""), ("python:3.12", "buildpack-deps"),
    ("python:3.12-slim-bookworm", ""), ("node:20-alpine3.19", ""), ("mcr.microsoft.com/dotnet/sdk:8.0", ".NET SDK"),
    ("mcr.microsoft.com/dotnet/aspnet:8.0", ""), ("gcr.io/distroless/java17-debian12", "")])
def test_pm504_sdk_images(image, brings):
    got = sdk_base(parse_image(image))
    assert (brings in got and got) if brings else got == ""


def test_pm504_skips_development_dockerfiles(tmp_path):
    files = {name: "FROM golang:1.23.4\nRUN apt-get update && apt-get install -y git\n"
             for name in ("Dockerfile.dev", "ci/test.Dockerfile", ".devcontainer/Dockerfile", "Dockerfile-builder")}
    assert scan(tmp_path, files, "PM504") == []
    assert len(scan(tmp_path, {"Dockerfile.prod": files["Dockerfile.dev"]}, "PM504")) == 3


# ---- PM505 --------------------------------------------------------------------------------------
def on(day):
    return Config(rules={"PM505": RuleConfig(options={"today": day})})


def test_pm505_today_is_injectable_and_near_ends_are_low(tmp_path):
    files = {"Dockerfile": "FROM python:3.10-slim\n"}
    f, = scan(tmp_path, files, "PM505", on("2026-09-01"))
    assert f.severity == Severity.LOW and "Python 3.10 reaches end of life on 2026-10, in 61 days" in f.message
    assert scan(tmp_path, files, "PM505", on("2026-06-01")) == []
    f, = scan(tmp_path, files, "PM505", on("2026-11-21"))
    assert f.severity == Severity.HIGH and "Python 3.10 reached end of life in 2026-10 (devguide.python.org/versions)" in f.message


def test_pm505_a_stale_table_says_so(tmp_path):
    files = {"Dockerfile": "FROM python:3.8-slim AS old\nFROM python:3.16-slim\n"}
    old, new = scan(tmp_path, files, "PM505", on("2028-01-10"))
    assert old.severity == Severity.HIGH and "premortem's EOL table was last updated 2026-11-21, over a year ago" in old.message
    assert new.severity == Severity.LOW and new.message.endswith(
        "Python 3.16 is not in premortem's EOL table (last updated 2026-11-21, over a year ago): check its support "
        "dates (devguide.python.org/versions) and update premortem")
    old, = scan(tmp_path, files, "PM505", on("2026-11-21"))  # fresh table: an unknown version is not judged
    assert "over a year ago" not in old.message


def test_pm505_one_finding_names_the_language_and_the_os(tmp_path):
    f, = scan(tmp_path, {"Dockerfile": "FROM node:18.20.4-alpine3.18\n"}, "PM505", on("2026-11-21"))
    assert ("Node.js 18 reached end of life on 2025-04-30 (github.com/nodejs/Release) and Alpine Linux 3.18 reached "
            "end of life on 2025-05-09 (alpinelinux.org/releases)") in f.message


def test_pm505_kubernetes_images_and_what_is_left_alone(tmp_path):
    found = scan(tmp_path, {"k8s.yaml": """
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: report, namespace: batch}
        spec:
          schedule: "@daily"
          jobTemplate:
            spec:
              template:
                spec:
                  containers:
                    - name: report
                      image: registry.example.com/library/python:3.7.17-slim
                    - name: templated
                      image: python:{{ .Values.python }}
                    - name: custom
                      image: registry.example.com/team/report:3.7
        """}, "PM505", on("2026-11-21"))
    assert at(found) == [("k8s.yaml", 12, 22)]
    assert found[0].message.startswith("container 'report' runs 'registry.example.com/library/python:3.7.17-slim': "
                                       "Python 3.7 reached end of life on 2023-06-27")


@pytest.mark.parametrize("product, version, date", [
    ("python", "3.8", "2024-10"), ("python", "3.9", "2025-10"), ("node", "16", "2023-09"), ("node", "18", "2025-04"),
    ("node", "20", "2026-04"), ("ubuntu", "18.04", "2023-05"), ("ubuntu", "20.04", "2025-05"),
    ("debian", "10", "2024-06"), ("debian", "11", "2026-08"), ("go", "1.22", "2025-02"), ("alpine", "3.18", "2025-05")])
def test_eol_table_dates(product, version, date):
    assert _eol.PRODUCTS[product][2][version].startswith(date)


def test_eol_table_is_well_formed():
    assert _eol.LAST_UPDATED == dt.date(2026, 11, 21)
    for label, source, table in _eol.PRODUCTS.values():
        for version, date in table.items():
            _eol.Eol(label, version, date, source).ends()  # parses
    assert [e.version for e in _eol.versions_of("golang", "1.9-alpine")] == ["1.9"]
    assert _eol.versions_of("golang", "1.9-alpine")[0].before  # older than the table: ended before its oldest


# ---- PM506 --------------------------------------------------------------------------------------
def test_pm506_fixtures_with_their_config():
    d = FIXTURES / "PM506"
    bad = run_scan(d / "bad", select=["PM506"], config=load_config(str(d / "bad" / ".premortem.yaml"), load_rules()))
    assert at(bad.findings) == [("Dockerfile", 4, 6), ("Dockerfile", 8, 6), ("Dockerfile", 11, 6),
                                ("cache.Dockerfile", 2, 6)]
    assert bad.findings[2].message == (
        "the final stage pulls 'nginx:1.27.3-alpine' (ARG RUNTIME defaults to 'nginx:1.27.3-alpine') from Docker Hub "
        "although this project pulls through registry.example.com/hub: a Hub outage or rate limit stops every build; "
        "use FROM registry.example.com/hub/library/nginx:1.27.3-alpine")
    assert "use FROM registry.example.com/hub/bitnami/redis:7.2.5" in bad.findings[3].message
    good = run_scan(d / "good", select=["PM506"], config=load_config(str(d / "good" / ".premortem.yaml"), load_rules()))
    assert good.findings == [] and good.errors == []


def test_pm506_is_silent_without_registries_and_honours_docker_io_when_allowed(tmp_path):
    files = {"Dockerfile": "FROM node:20.11.1-alpine\n"}
    assert scan(tmp_path, files, "PM506") == []
    assert scan(tmp_path, files, "PM506", Config(allowed_registries=["docker.io", "ghcr.io"])) == []
    f, = scan(tmp_path, files, "PM506", Config(allowed_registries=["ecr.example.com/hub"]))
    assert f.message.endswith("use FROM ecr.example.com/hub/library/node:20.11.1-alpine")
