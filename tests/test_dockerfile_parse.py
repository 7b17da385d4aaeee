"""Dockerfiles through BuildKit's parser: names, continuation lines, heredocs, ARG-substituted FROM,
stages and what they inherit, and the positions every rule reports at."""
import textwrap

import pytest

from premortem.discover import classify, is_dockerfile
from premortem.parse.dockerfile import parse_dockerfile, substitute

from .conftest import run_scan


def stages(text):
    found, errors = parse_dockerfile(textwrap.dedent(text).lstrip("\n"), "Dockerfile")
    assert errors == []
    return found


def commands(stage, i):
    return [(c["argv"], c["line"], c["column"]) for c in stage.data["instructions"][i]["commands"]]


# ---- which files are Dockerfiles ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Dockerfile", "dockerfile", "Dockerfile.prod", "Dockerfile-alpine", "Dockerfile_worker",
                                  "api.dockerfile", "api.Dockerfile", "Containerfile", "Containerfile.ubi9",
                                  "web.containerfile"])
def test_dockerfile_names(name):
    assert is_dockerfile(name) and classify(name, f"svc/{name}") == "dockerfile"


@pytest.mark.parametrize("name", ["dockerfile.go", "dockerfile_test.go", "Dockerfile.md", "Dockerfile.j2",
                                  "Dockerfile.tmpl", "Dockerfile.dockerignore", "Dockerfiles", "dockerfile.py",
                                  "docker-compose.yml", "my-dockerfile-notes.txt"])
def test_files_named_after_dockerfiles_are_not_parsed_as_one(name):
    assert not is_dockerfile(name)


def test_code_about_dockerfiles_is_no_parse_error(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "dockerfile.go").write_text("package pkg\n\nfunc Parse() {}\n")
    (tmp_path / "Dockerfile.j2").write_text("FROM {{ base_image }}\n{% if debug %}RUN echo\n{% endif %}\n")
    (tmp_path / "Dockerfile-worker").write_text("FROM alpine:3.22\n")
    result = run_scan(tmp_path)
    assert result.errors == []
    assert [(e.kind, e.file) for e in result.project.of_kind("DockerStage")] == [("DockerStage", "Dockerfile-worker")]


def test_a_comment_only_dockerfile_is_empty_not_broken():
    assert parse_dockerfile("# placeholder, filled in by CI\n", "Dockerfile") == ([], [])
    found, errors = parse_dockerfile("package main\n", "Dockerfile")
    assert found == [] and errors[0].message == "invalid Dockerfile: no FROM instruction"


# ---- continuation lines and heredocs ---------------------------------------------------------------
def test_continuation_lines_keep_each_commands_line_and_column():
    st, = stages("""
        FROM debian:bookworm-slim
        RUN --mount=type=cache,target=/var/cache/apt \\
            apt-get update && \\
            # a comment inside the continuation is dropped by BuildKit

            apt-get install -y --no-install-recommends curl \\
         && rm -rf /var/lib/apt/lists/*
        """)
    run = st.data["instructions"][0]
    assert (run["line"], run["end_line"], run["flags"]) == (2, 7, ["--mount=type=cache,target=/var/cache/apt"])
    assert commands(st, 0) == [(["apt-get", "update"], 3, 5),
                               (["apt-get", "install", "-y", "--no-install-recommends", "curl"], 6, 5),
                               (["rm", "-rf", "/var/lib/apt/lists/*"], 7, 5)]


def test_heredoc_bodies_are_shell_when_a_shell_runs_them():
    st, = stages("""
        FROM alpine:3.22
        RUN <<EOF
        set -e
          apk add --no-cache curl
        EOF
        RUN python3 <<EOF
        import os
        EOF
        COPY <<EOF /etc/motd
        apk add not-a-command
        EOF
        RUN <<-EOT bash && <<EOT2 sh
        	pip install x
        	EOT
        echo second
        EOT2
        RUN ["pip", "install", "--no-cache-dir", "y"]
        """)
    assert commands(st, 0) == [(["set", "-e"], 3, 1), (["apk", "add", "--no-cache", "curl"], 4, 3)]
    assert commands(st, 1) == [(["python3"], 6, 5)]  # the body is Python, fed to python3
    assert "commands" not in st.data["instructions"][2]  # COPY: a file's content
    assert commands(st, 3) == [(["bash"], 12, 12), (["sh"], 12, 27), (["pip", "install", "x"], 13, 2),
                               (["echo", "second"], 15, 1)]
    assert commands(st, 4) == [(["pip", "install", "--no-cache-dir", "y"], 17, 7)]


# ---- ARG-substituted FROM -------------------------------------------------------------------------
def test_from_is_resolved_from_arg_defaults_and_points_at_the_arg():
    st, = stages("""
        ARG PY=3.12
        ARG BASE=python:${PY}-slim
        FROM ${BASE}
        """)
    d = st.data
    assert (d["from"], d["from_raw"], d["from_args"]) == ("python:3.12-slim", "${BASE}", {"BASE": "python:3.12-slim"})
    assert st.locate(("from",)).line == 3 and st.locate(("from",)).column == 6
    assert st.locate(("args", "BASE")).line == 2 and st.locate(("args", "BASE")).column == 5


def test_inline_defaults_apply_and_unknown_values_stay_unknown():
    a, b, c, d = stages("""
        ARG TAG
        ARG REGISTRY=registry.example.com
        FROM node:${TAG:-20.11.1}-alpine
        FROM python:$TAG
        FROM $REGISTRY/base:${TAG}
        FROM ${UNDECLARED}
        """)
    assert a.data["from"] == "node:20.11.1-alpine"  # what a build without --build-arg gets
    assert b.data["from"] == "python:$TAG" and b.data["from_args"] == {"TAG": None}
    assert c.data["from"] == "registry.example.com/base:${TAG}"
    assert d.data["from"] == "${UNDECLARED}"


def test_only_args_declared_before_the_first_from_reach_a_from():
    _, second = stages("""
        FROM alpine:3.22
        ARG BASE=python:3.12
        FROM ${BASE}
        """)
    assert second.data["from"] == "${BASE}"


def test_substitute_forms():
    v = {"A": "1", "E": "", "U": None}
    assert substitute("$A ${A} ${E:-d} ${E-d} ${U:-d} ${A:+x} ${U:+x} $Ab $U", v) == "1 1 d  d x ${U:+x} $Ab $U"


# ---- stages --------------------------------------------------------------------------------------
def test_stages_names_ancestors_and_what_is_inherited():
    build, runtime, final, other = stages("""
        FROM maven:3.9.6-eclipse-temurin-17 AS Build
        ENV MAVEN_OPTS=-Xmx1g
        RUN mvn package
        FROM eclipse-temurin:17.0.10_7-jre AS runtime
        ARG HEAP=2g
        ENV JAVA_OPTS="-Xmx${HEAP}" OLD=$JAVA_OPTS
        CMD ["--server"]
        ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS -jar /app.jar"]
        FROM runtime AS final
        COPY --from=build /target/app.jar /app.jar
        ENTRYPOINT java -jar /app.jar
        FROM final:1.0
        """)
    assert [s.name for s in (build, runtime, final, other)] == ["build", "runtime", "final", "stage3"]
    assert [s.data["final"] for s in (build, runtime, final, other)] == [False, False, False, True]
    # a variable no earlier ENV or ARG sets may come from the base image's config: left as written
    assert runtime.data["env"] == {"JAVA_OPTS": "-Xmx2g", "OLD": "$JAVA_OPTS"}
    assert runtime.data["cmd"] == ["--server"]  # CMD of the same stage survives its ENTRYPOINT
    assert final.data["base_stage"] == "runtime" and [a["name"] for a in final.data["ancestors"]] == ["runtime"]
    assert final.data["env"]["JAVA_OPTS"] == "-Xmx2g" and final.locate(("env", "JAVA_OPTS")).line == 6
    assert final.data["entrypoint"] == ["java", "-jar", "/app.jar"] and final.locate(("entrypoint",)).line == 11
    assert final.data["cmd"] == []  # an ENTRYPOINT resets the CMD inherited from the base
    assert final.data["instructions"][0]["flags"] == ["--from=build"]
    assert other.data["base_stage"] == "" and other.data["from"] == "final:1.0"  # an image, not the stage


def test_env_in_one_instruction_sees_the_values_from_before_it():
    st, = stages("""
        FROM alpine:3.22
        ENV A=1
        ENV A=2 B=$A
        ENV C 3 4
        """)
    assert st.data["env"] == {"A": "2", "B": "1", "C": "3 4"}
    assert st.locate(("env", "B")).column == 9


def test_bare_arg_in_a_stage_takes_the_global_default():
    st, = stages("""
        ARG VERSION=1.2.3
        FROM alpine:3.22
        ARG VERSION
        ENV APP_VERSION=$VERSION
        """)
    assert st.data["env"]["APP_VERSION"] == "1.2.3"


def test_positions_of_from_name_and_platform():
    st, = stages("""
        FROM --platform=$BUILDPLATFORM golang:1.23.4 AS build
        """)
    assert st.locate(("from",)).column == 32 and st.locate(("name",)).column == 49
    assert st.data["platform"] == "$BUILDPLATFORM" and st.data["from_pos"] == (1, 32)


def test_instructions_are_case_insensitive():
    build, final = stages("""
        from python:3.12-slim as Build
        run pip install --no-cache-dir x
        From build
        entrypoint ["python", "-m", "x"]
        """)
    assert (build.data["name"], final.data["base_stage"], final.data["entrypoint"]) == ("build", "build", ["python", "-m", "x"])
    assert commands(build, 0) == [(["pip", "install", "--no-cache-dir", "x"], 2, 5)]
