"""PM504: the image that ships carries compilers, SDKs or package caches (a bloated runtime image)."""
import re

from ...k8s.images import parse_image
from ...model import Source
from ..registry import Hit, rule
from ._packages import CACHE_FIX, CACHE_WHAT, analyse, matching
from ._stages import dev_image, family, lineage, tag_parts

BUILD_PACKAGES = ["build-essential", "build-base", "alpine-sdk", "gcc", "gcc-*", "g++", "g++-*", "gcc-c++", "clang",
                  "clang-*", "make", "cmake", "autoconf", "automake", "libtool", "pkg-config", "pkgconf", "musl-dev",
                  "linux-headers", "maven", "gradle", "ant", "golang", "golang-*", "go", "rustc", "cargo", "rust",
                  "default-jdk", "default-jdk-headless", "openjdk-*-jdk", "openjdk-*-jdk-headless", "openjdk*-jdk",
                  "java-*-openjdk-devel", "dotnet-sdk-*", "git", "*-dev", "*-devel", "development tools",
                  "@development tools"]
RUNTIME_PACKAGES = ["openjdk-*-jre*", "default-jre*", "openjdk*-jre", "java-*-openjdk", "java-*-openjdk-headless",
                    "python3", "python3.*", "python", "nodejs", "ruby", "ruby*.*", "dotnet-runtime-*",
                    "aspnetcore-runtime-*"]
FULL_OS = ["ubuntu", "debian", "centos", "fedora", "amazonlinux", "rockylinux", "almalinux", "oraclelinux", "ubi",
           "ubi8", "ubi9", "leap"]
_SDK = {"maven": "Maven and a full JDK", "gradle": "Gradle and a full JDK", "golang": "the Go toolchain",
        "rust": "the Rust toolchain", "gcc": "GCC", "buildpack-deps": "compilers and headers (buildpack-deps)"}
_JDKS = ("eclipse-temurin", "openjdk", "amazoncorretto", "sapmachine", "ibm-semeru-runtimes")
_FULL_LANG = ("python", "node", "ruby")


def sdk_base(ref) -> str:
    """What build tooling an image brings ('' for a runtime image)."""
    fam, parts = family(ref), tag_parts(ref)
    if fam in _SDK:
        return _SDK[fam]
    if fam == "sdk" and "dotnet" in ref.repository:
        return "the .NET SDK"
    if fam in _JDKS and "jre" not in parts and (fam != "ibm-semeru-runtimes" or "jdk" in parts):
        return "a full JDK (javac, jlink, jshell)"
    if fam in _FULL_LANG and not any(p in ("slim", "distroless") or p.startswith("alpine") or "windows" in p
                                     or p == "nanoserver" for p in parts):
        return "the full image built on buildpack-deps (gcc, make, headers, git; ~1 GB)"
    return ""


def runtime_for(ref) -> str:
    fam, version = family(ref), (ref.tag.split("-")[0] if ref.tag else "")
    if fam in _FULL_LANG:
        return f"`{fam}:{version or '<version>'}-slim`"
    if fam in ("maven", "gradle") or fam in _JDKS:
        m = re.search(r"(?:temurin|jdk|corretto|semeru)-?(\d+)", ref.tag) or (
            re.match(r"(\d+)", ref.tag) if fam in _JDKS else None)
        java = m.group(1) if m else "<N>"
        return f"a JRE image (`eclipse-temurin:{java}-jre`) or `gcr.io/distroless/java{java}-debian12`"
    if fam == "sdk":
        return "`mcr.microsoft.com/dotnet/aspnet` or `.../dotnet/runtime`"
    return "`gcr.io/distroless/static-debian12` (or `scratch`) for a static binary, `debian:bookworm-slim` otherwise"


def _full_os(ref, names) -> bool:
    fam = family(ref)
    return fam in names and not (fam == "debian" and "slim" in tag_parts(ref)) and "minimal" not in ref.repository \
        and "micro" not in ref.repository


@rule(id="PM504", name="build-tools-in-runtime-image", severity="medium",
      severity_reason="A bloated image slows every pull, scale-out and cold start and carries more CVEs; it does not "
                      "break the service by itself.",
      incidents=["5.2"], title="Runtime image ships build tools, SDKs or package caches",
      formats=("dockerfile",), kinds=("DockerStage",),
      options={"build_packages": BUILD_PACKAGES, "runtime_packages": RUNTIME_PACKAGES, "full_os_images": FULL_OS,
               "dev_words": ["dev", "devel", "development", "test", "tests", "testing", "ci", "build", "builder",
                             "local", "debug", "devcontainer", "e2e"]},
      fix="Build in a first stage and copy only the artifact into a slim or distroless runtime stage; in RUNs that "
          "stay, clean the package manager's cache in the same RUN.")
def check(resource, ctx):
    """## What it checks
    The final stage of a Dockerfile, and the stages it is built FROM: what ships.
    - a base image that is an SDK: `maven`, `gradle`, `golang`, `rust`, `gcc`, the .NET `sdk`,
      a JDK (`eclipse-temurin:17`, `eclipse-temurin:17-jdk`, `openjdk:17`; `-jre` is fine), or the
      full `python`/`node`/`ruby` images (buildpack-deps; `-slim` and `-alpine` are fine);
    - packages from `build_packages` installed with apt, apk, yum/dnf (`build-essential`, `gcc`,
      `make`, `maven`, `golang`, a JDK, `git`, `*-dev` headers) and not removed again in the
      same RUN (`apk add --virtual .build-deps ... && apk del .build-deps` is fine);
    - download caches left in a layer: `apt-get update` with no `rm -rf /var/lib/apt/lists/*`
      in the same RUN, `apk add` without `--no-cache`, yum/dnf without `clean all`, `pip install`
      without `--no-cache-dir` (a `--mount=type=cache` on the cache directory is fine);
    - a full OS base (`ubuntu`, `debian` without `-slim`, `centos`, `fedora`, `ubi`...) onto which
      the image installs a language runtime (`openjdk-17-jre`, `python3`, `nodejs`).
    Builder stages are not judged. Dockerfiles for development, CI or tests (`Dockerfile.dev`,
    `test.Dockerfile`, `.devcontainer/`; words in `dev_words`) are skipped.

    ## Why it breaks production
    In catalog 5.2 a Spring Boot service shipped on a full Ubuntu base with Maven, Git and build
    dependencies: a 2.1 GB image that made CI slow, cold starts in Kubernetes slow (every new
    node pulls it while traffic waits) and image scans noisy with CVEs in tools the service
    never runs. A multi-stage build brought it to about 300 MB.

    ## Bad
    ```dockerfile
    FROM maven:3.9.6-eclipse-temurin-17
    WORKDIR /app
    COPY . .
    RUN mvn -q package -DskipTests
    ENTRYPOINT ["java", "-jar", "target/app.jar"]
    ```

    ## Good
    ```dockerfile
    FROM maven:3.9.6-eclipse-temurin-17 AS build
    WORKDIR /app
    COPY . .
    RUN mvn -q package -DskipTests

    FROM eclipse-temurin:17.0.10_7-jre
    COPY --from=build /app/target/app.jar /app/app.jar
    ENTRYPOINT ["java", "-jar", "/app/app.jar"]
    ```

    ## Fix
    Split the Dockerfile: a builder stage with the SDK and compilers, and a final stage from a
    slim, JRE or distroless image that copies the built artifact (`COPY --from=build`). Where a
    RUN must install packages in the final stage, install only runtime packages, with
    `--no-install-recommends`, and clean the cache in the same RUN.
    """
    if not resource.data.get("final") or dev_image(resource.file, ctx.options.get("dev_words")):
        return
    chain = lineage(resource)
    root = chain[-1]
    image = root.get("from") or ""
    ref = parse_image(image) if image and "$" not in image and image.lower() != "scratch" else None
    via = "" if root is resource.data else f" (via stage '{chain[1]['name']}')"
    sdk = sdk_base(ref) if ref else ""
    if sdk:
        yield Hit(path=(), at=_from_src(resource, root), identity="sdk",
                  message=f"the shipped image{via} is built FROM '{image}', which brings {sdk} into production: "
                          f"hundreds of MB more to pull on every scale-out and more CVEs to patch; build in a stage "
                          f"and run on {runtime_for(ref)}")
    build_pats = list(ctx.options.get("build_packages", BUILD_PACKAGES))
    runtime_pats = list(ctx.options.get("runtime_packages", RUNTIME_PACKAGES))
    full_os = ref is not None and _full_os(ref, set(ctx.options.get("full_os_images", FULL_OS)))
    env: dict = {}
    runtimes: list = []
    for stage in reversed(chain):
        for ins in stage.get("instructions") or []:
            if ins["cmd"] == "ENV":
                env.update(dict(zip(ins["value"][::2], ins["value"][1::2])))
            if ins["cmd"] != "RUN":
                continue
            run = analyse(ins, env)
            for inst in run.installs:
                kept = run.kept(inst)
                tools = matching(kept, build_pats)
                runtimes.extend((p, inst.command) for p in matching(kept, runtime_pats))
                if tools:
                    c = inst.command
                    base = f" on the full OS '{image}'" if full_os else ""
                    yield Hit(path=(), at=_src(resource, c["line"], c.get("column", 1)), identity="tools:" + ",".join(tools),
                              message=f"the shipped image{via} installs build tools ({', '.join(tools)}){base} and "
                                      f"keeps them (nothing in this RUN removes them): compilers and SDKs in "
                                      f"production add size and attack surface; install them in a builder stage")
            for manager, c in run.caches:
                yield Hit(path=(), at=_src(resource, c["line"], c.get("column", 1)), identity=f"cache:{c['text'][:60]}",
                          message=f"`{c['text'][:60]}` leaves {CACHE_WHAT[manager]} in the layer of the shipped "
                                  f"image: {CACHE_FIX[manager]}")
    if full_os and runtimes and not sdk:
        pkg, c = runtimes[0]
        yield Hit(path=(), at=_from_src(resource, root), identity="full-os",
                  message=f"the shipped image{via} is built FROM the full OS '{image}' to install the runtime '{pkg}' "
                          f"(line {c['line']}): a runtime image (`eclipse-temurin:<N>-jre`, `python:<v>-slim`, "
                          f"`node:<v>-slim`) or distroless ships the same app without a general-purpose OS")


def _from_src(resource, stage: dict) -> Source:
    """Where `stage` names its base image (the stage judged, or one it is built FROM)."""
    return _src(resource, *(stage.get("from_pos") or (resource.line, 1)))


def _src(resource, line, col) -> Source:
    return Source(resource.file, line, col)
