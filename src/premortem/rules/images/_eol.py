"""End-of-life dates of the base images premortem recognises (catalog 5.3), and how an image
reference maps to a product version.

`LAST_UPDATED` is the day the table was last checked against its sources; PM505 says so when it
is more than a year old, because versions released since have no entry. A date is the day
security updates stop for good (for Debian: the end of LTS; for Ubuntu: the end of standard,
free support; ESM is paid). "YYYY-MM" means some day of that month (counted from the month's
end). Dates marked (sched.) are published schedules that had not passed when the table was
written.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

LAST_UPDATED = dt.date(2026, 11, 21)

# product -> (what to call it, where the dates come from, {version: end of life})
PRODUCTS = {
    # https://devguide.python.org/versions/ (3.10 on: the PEPs' schedules, sched.)
    "python": ("Python", "devguide.python.org/versions", {
        "2.7": "2020-01-01", "3.0": "2009-06-27", "3.1": "2012-04-09", "3.2": "2016-02-20", "3.3": "2017-09-29",
        "3.4": "2019-03-18", "3.5": "2020-09-30", "3.6": "2021-12-23", "3.7": "2023-06-27", "3.8": "2024-10-07",
        "3.9": "2025-10", "3.10": "2026-10", "3.11": "2027-10", "3.12": "2028-10", "3.13": "2029-10",
        "3.14": "2030-10", "3.15": "2031-10"}),
    # https://github.com/nodejs/Release#release-schedule (odd majors live about 8 months; 22 on: sched.)
    "node": ("Node.js", "github.com/nodejs/Release", {
        "4": "2018-04-30", "5": "2016-06-30", "6": "2019-04-30", "7": "2017-06-30", "8": "2019-12-31",
        "9": "2018-06-30", "10": "2021-04-30", "11": "2019-06-01", "12": "2022-04-30", "13": "2020-06-01",
        "14": "2023-04-30", "15": "2021-06-01", "16": "2023-09-11", "17": "2022-06-01", "18": "2025-04-30",
        "19": "2023-06-01", "20": "2026-04-30", "21": "2024-06-01", "22": "2027-04-30", "23": "2025-06-01",
        "24": "2028-04-30", "25": "2026-06-01", "26": "2029-04-30"}),
    # https://go.dev/doc/devel/release#policy: a release is supported until two newer majors ship,
    # so 1.N ends on the release day of 1.N+2 (1.24 on: the Feb/Aug cadence, sched.)
    "go": ("Go", "go.dev/doc/devel/release", {
        "1.10": "2019-02-25", "1.11": "2019-09-03", "1.12": "2020-02-25", "1.13": "2020-08-11",
        "1.14": "2021-02-16", "1.15": "2021-08-16", "1.16": "2022-03-15", "1.17": "2022-08-02",
        "1.18": "2023-02-01", "1.19": "2023-08-08", "1.20": "2024-02-06", "1.21": "2024-08-13",
        "1.22": "2025-02-11", "1.23": "2025-08-12", "1.24": "2026-02", "1.25": "2026-08", "1.26": "2027-02",
        "1.27": "2027-08"}),
    # https://adoptium.net/support/: a feature release ends when the next one ships (every
    # March/September); LTS lines "at least until" the dates given there (sched.)
    "temurin": ("Eclipse Temurin (Java)", "adoptium.net/support", {
        "8": "2030-12", "11": "2027-10", "16": "2021-09", "17": "2027-10", "18": "2022-09", "19": "2023-03",
        "20": "2023-09", "21": "2029-12", "22": "2024-09", "23": "2025-03", "24": "2025-09", "26": "2026-09"}),
    # https://aws.amazon.com/corretto/faqs/ (support roadmap; LTS lines sched.); feature releases as OpenJDK's
    "corretto": ("Amazon Corretto (Java)", "aws.amazon.com/corretto/faqs", {
        "8": "2030-12", "11": "2032-01", "15": "2021-03", "16": "2021-09", "17": "2029-10", "18": "2022-09",
        "19": "2023-03", "20": "2023-09", "21": "2030-10", "22": "2024-09",
        "23": "2025-03", "24": "2025-09", "26": "2026-09"}),
    # https://hub.docker.com/_/openjdk: the image is deprecated; only early-access tags were
    # updated after July 2022, so every GA tag is frozen with the CVEs of that month
    "openjdk": ("openjdk image (deprecated)", "hub.docker.com/_/openjdk", {"*": "2022-07"}),
    # https://ubuntu.com/about/release-cycle, https://wiki.ubuntu.com/Releases (standard support;
    # 22.04, 24.04, 26.04: sched.)
    "ubuntu": ("Ubuntu", "ubuntu.com/about/release-cycle", {
        "12.04": "2017-04-28", "14.04": "2019-04-25", "16.04": "2021-04-30", "16.10": "2017-07-20",
        "17.04": "2018-01-13", "17.10": "2018-07-19", "18.04": "2023-05-31", "18.10": "2019-07-18",
        "19.04": "2020-01-23", "19.10": "2020-07-17", "20.04": "2025-05", "20.10": "2021-07-22",
        "21.04": "2022-01-20", "21.10": "2022-07-14", "22.04": "2027-06", "22.10": "2023-07-20",
        "23.04": "2024-01-25", "23.10": "2024-07-11", "24.04": "2029-05", "24.10": "2025-07-10",
        "25.04": "2026-01", "25.10": "2026-07", "26.04": "2031-05"}),
    # https://wiki.debian.org/LTS (end of LTS; 12 and 13: sched.), https://www.debian.org/releases/
    "debian": ("Debian", "wiki.debian.org/LTS", {
        "6": "2016-02-29", "7": "2018-05-31", "8": "2020-06-30", "9": "2022-06-30", "10": "2024-06-30",
        "11": "2026-08-31", "12": "2028-06-30", "13": "2030-06-30"}),
    # https://alpinelinux.org/releases/ (each branch: two years; 3.22 on: sched.)
    "alpine": ("Alpine Linux", "alpinelinux.org/releases", {
        "3.5": "2018-11-01", "3.6": "2019-05-01", "3.7": "2019-11-01", "3.8": "2020-05-01",
        "3.9": "2021-01-01", "3.10": "2021-05-01", "3.11": "2021-11-01", "3.12": "2022-05-01",
        "3.13": "2022-11-01", "3.14": "2023-05-01", "3.15": "2023-11-01", "3.16": "2024-05-23",
        "3.17": "2024-11-22", "3.18": "2025-05-09", "3.19": "2025-11-01", "3.20": "2026-04-01",
        "3.21": "2026-11-01", "3.22": "2027-05-01", "3.23": "2027-11-01",
        "3.24": "2028-05-01"}),
}
CODENAMES = {
    "debian": {"squeeze": "6", "wheezy": "7", "jessie": "8", "stretch": "9", "buster": "10", "bullseye": "11",
               "bookworm": "12", "trixie": "13", "forky": "14"},
    "ubuntu": {"precise": "12.04", "trusty": "14.04", "xenial": "16.04", "yakkety": "16.10", "zesty": "17.04",
               "artful": "17.10", "bionic": "18.04", "cosmic": "18.10", "disco": "19.04", "eoan": "19.10",
               "focal": "20.04", "groovy": "20.10", "hirsute": "21.04", "impish": "21.10", "jammy": "22.04",
               "kinetic": "22.10", "lunar": "23.04", "mantic": "23.10", "noble": "24.04", "oracular": "24.10",
               "plucky": "25.04", "questing": "25.10"},
    "node": {"argon": "4", "boron": "6", "carbon": "8", "dubnium": "10", "erbium": "12", "fermium": "14",
             "gallium": "16", "hydrogen": "18", "iron": "20", "jod": "22", "krypton": "24"},
}
# image (last part of the repository) -> product, and how its tag names the version
IMAGES = {"python": "python", "node": "node", "golang": "go", "eclipse-temurin": "temurin",
          "amazoncorretto": "corretto", "openjdk": "openjdk", "ubuntu": "ubuntu", "debian": "debian",
          "alpine": "alpine"}
_VERSION = {"python": r"(\d+\.\d+)", "go": r"(1\.\d+)", "ubuntu": r"(\d{2}\.\d{2})", "alpine": r"(3\.\d+)",
            "node": r"(\d+)", "debian": r"(\d+)", "temurin": r"(\d+)", "corretto": r"(\d+)"}


@dataclass(frozen=True)
class Eol:
    product: str  # "Python"
    version: str  # "3.8"
    date: str  # as in the table: "2024-10-07" or "2025-10"
    source: str
    known: bool = True  # False: a version the table has no entry for
    before: bool = False  # older than every listed version: ended before `date`

    def ends(self) -> dt.date:
        """The first day the version is certainly out of support."""
        y, m, *d = (int(x) for x in self.date.split("-"))
        if d:
            return dt.date(y, m, d[0])
        return dt.date(y + (m == 12), m % 12 + 1, 1)


def _key(v: str) -> tuple:
    return tuple(int(x) for x in v.split("."))


def _lookup(product: str, version: str) -> Eol:
    label, source, table = PRODUCTS[product]
    if "*" in table:
        return Eol(label, version, table["*"], source)
    if version in table:
        return Eol(label, version, table[version], source)
    oldest = min(table, key=_key)
    if _key(version) < _key(oldest):  # older than anything listed: ended before the oldest did
        return Eol(label, version, table[oldest], source, before=True)
    return Eol(label, version, "", source, known=False)


def versions_of(repository: str, tag: str) -> list:
    """The products an image reference names a version of: its own (python 3.8) and the OS variant
    in its tag (`-alpine3.16`, `-buster`, `-focal`). Tags without a version (`latest`, `3`) give none."""
    product = IMAGES.get(repository.rsplit("/", 1)[-1].lower())
    tag = tag.lower()
    out = []
    if product == "openjdk":
        if tag and "-ea" not in tag and not tag.startswith("ea"):
            out.append(_lookup("openjdk", tag.split("-")[0]))
        return out
    parts = tag.split("-")
    if product:
        name = CODENAMES.get(product, {}).get(parts[0]) or CODENAMES.get(product, {}).get(parts[-1])
        m = re.match(_VERSION[product] + r"(?![\d])", parts[0]) if not name else None
        if name or m:
            out.append(_lookup(product, name or m.group(1)))
    if product in ("debian", "ubuntu", "alpine"):
        return out
    for p in parts[1:]:  # the OS under a language image: python:3.12-slim-buster, node:20-alpine3.18
        m = re.fullmatch(r"alpine(3\.\d+)", p)
        if m:
            out.append(_lookup("alpine", m.group(1)))
        for os_name in ("debian", "ubuntu"):
            if p in CODENAMES[os_name]:
                out.append(_lookup(os_name, CODENAMES[os_name][p]))
    return out
