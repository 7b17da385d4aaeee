"""Benchmark `premortem scan` (and checkov, side by side) on a small file, the shared corpus and
generated repositories at 1x, 10x and 100x. Run it with `make bench`; see bench/README.md.

    python bench/run.py [--scales 1,10,100] [--no-checkov] [--timeout 600] [--profile 10]

Every measurement runs the tool as a fresh subprocess in its own session and reaps it with
os.wait4(), which gives that process's own rusage: CPU time and ru_maxrss, the peak RSS of the
largest single process among it and the descendants it waited for. Workers started by a forkserver
are not always waited for, so a sampler thread also walks the process tree every 25 ms through
/proc: each process's CPU time and VmHWM (its kernel-kept peak RSS) fold into the CPU and peak-RSS
figures, and the summed PSS of the tree (proportional set size: pages shared between forked
workers counted once, not once per process as a sum of RSS would) gives the tree's peak memory.
RUSAGE_CHILDREN deltas are not used: its ru_maxrss is a maximum over every child the benchmark ever
reaped, so a small run after a big one would report the big one's peak.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GENERATED = os.path.join(HERE, "generated")
RESULTS = os.path.join(HERE, "results")
CHECKOV_VENV = os.path.join(HERE, ".venv-checkov")
CORPUS = os.path.join(os.path.dirname(ROOT), "shared", "corpus")
PREMORTEM = os.path.join(os.path.dirname(sys.executable), "premortem")

sys.path.insert(0, HERE)
import generate  # noqa: E402
import generate_terraform  # noqa: E402

TARGETS = {"small_wall_s": 0.3, "corpus_wall_s": 2.0, "mem_100x_mb": 200}


# ---- measuring one process tree ----------------------------------------------------------------
def _children(pid: int) -> list:
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out.extend(int(c) for c in fh.read().split())
    except OSError:
        pass
    return out


_TICK = os.sysconf("SC_CLK_TCK")


def _sample_tree(pid: int, cpu: dict, hwm: dict) -> int:
    """Summed PSS (kB) of pid and its descendants now; records each process's CPU seconds so far and
    its VmHWM (the kernel's own peak-RSS mark for that process) into cpu/hwm, keyed by pid."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            cpu[p] = (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        hwm[p] = max(hwm.get(p, 0), int(line.split()[1]))
                        break
        except (OSError, IndexError, ValueError):
            continue
        todo.extend(_children(p))
    return total


# Both tools run as users run them: with Python's bytecode cache on. A sandbox that sets
# PYTHONDONTWRITEBYTECODE would make every run recompile every module (premortem's start-up:
# 0.13-0.21 s with the cache, 0.33 s without).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def measure(cmd: list, timeout: float, cwd: str | None = None, stdout=subprocess.DEVNULL) -> dict:
    """Run cmd once: wall and CPU seconds (whole tree), peak RSS of the largest process, peak PSS of the tree."""
    err = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=err, cwd=cwd, start_new_session=True)
    peak = {"pss": 0}
    cpu: dict = {}
    hwm: dict = {}
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak["pss"] = max(peak["pss"], _sample_tree(proc.pid, cpu, hwm))
            done.wait(0.025)

    def kill():
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    timer = threading.Timer(timeout, kill)
    timer.start()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    timer.cancel()
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen from waiting again
    err.seek(0)
    stderr = err.read().decode(errors="replace")
    # wait4 covers the child and the descendants that were waited for; a forkserver's workers can
    # outlive their parent unreaped, so the sampled per-process figures (each a little short: up to
    # 25 ms missed at the end) are the floor: take the larger of the two.
    return {"wall": wall, "cpu": max(ru.ru_utime + ru.ru_stime, sum(cpu.values())),
            "rss_mb": max(ru.ru_maxrss, max(hwm.values(), default=0)) / 1024,
            "pss_mb": peak["pss"] / 1024, "rc": proc.returncode, "timeout": wall >= timeout and proc.returncode < 0,
            "stderr_tail": stderr[-600:]}


def repeat(cmd: list, n: int, timeout: float, cwd=None) -> dict:
    """Median wall/CPU over n runs (fewer when a run is slow), max of the memory peaks."""
    runs = [measure(cmd, timeout, cwd)]
    while len(runs) < n and not runs[-1]["timeout"] and runs[0]["wall"] < 10:
        runs.append(measure(cmd, timeout, cwd))
    out = dict(runs[-1])
    out.update(wall=statistics.median(r["wall"] for r in runs), cpu=statistics.median(r["cpu"] for r in runs),
               rss_mb=max(r["rss_mb"] for r in runs), pss_mb=max(r["pss_mb"] for r in runs), runs=len(runs))
    return out


# ---- inputs -----------------------------------------------------------------------------------
def _generator_digest() -> str:
    with open(os.path.join(HERE, "generate.py"), "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()[:12]


def generated(scale: float) -> str:
    """bench/generated/<scale>x, regenerated only when the generator or the scale changed."""
    out = os.path.join(GENERATED, f"{scale:g}x")
    stamp = os.path.join(out, ".stamp")
    want = f"{scale:g} {_generator_digest()}"
    try:
        with open(stamp) as fh:
            if fh.read() == want:
                return out
    except OSError:
        pass
    t = time.perf_counter()
    meta = generate.generate(scale, out)
    with open(stamp, "w") as fh:
        fh.write(want)
    print(f"  generated {out}: {meta['files']} files, {meta['objects']} objects in {time.perf_counter() - t:.1f}s",
          file=sys.stderr)
    return out


def terraform_repo() -> str:
    """bench/generated/terraform: a repository shaped like terraform-aws-modules/eks (generate_terraform.py)."""
    out = os.path.join(GENERATED, "terraform")
    meta = generate_terraform.generate(out)
    print(f"  generated {out}: {meta['files']} .tf files, {meta['lines']} lines", file=sys.stderr)
    return out


def small_file() -> str:
    d = os.path.join(GENERATED, "small")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "deployment.yaml")
    src = os.path.join(generated(1), "clusters", "payments-prod", "api", "workload.yaml")
    shutil.copyfile(src, path)
    return path


def counts(path: str, timeout: float) -> dict:
    """files/resources/findings/errors from one premortem run (also warms the page cache)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
        r = measure([PREMORTEM, "scan", path, "-f", "json", "-o", tmp.name, "--fail-on", "never"], timeout)
        try:
            with open(tmp.name) as fh:
                rep = json.load(fh)
        except (OSError, ValueError):
            return {"files": 0, "resources": 0, "findings": 0, "errors": 0, "error": r["stderr_tail"]}
    return {"files": rep["scanned"]["files"], "resources": rep["scanned"]["resources"],
            "findings": len(rep["findings"]), "errors": len(rep["errors"])}


# ---- checkov ----------------------------------------------------------------------------------
def checkov_bin(install: bool) -> str | None:
    exe = os.path.join(CHECKOV_VENV, "bin", "checkov")
    if os.path.exists(exe):
        return exe
    if not install:
        return None
    print("  installing checkov into bench/.venv-checkov (PyPI) ...", file=sys.stderr)
    py = shutil.which("python3") or sys.executable
    subprocess.run([py, "-m", "venv", CHECKOV_VENV], check=True)
    pip = os.path.join(CHECKOV_VENV, "bin", "pip")
    subprocess.run([pip, "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([pip, "install", "--quiet", "checkov"], check=True)
    return exe if os.path.exists(exe) else None


def checkov_version(exe: str) -> str:
    try:
        return subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=120,
                              env=checkov_env()).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def checkov_env() -> dict:
    # No platform account, no telemetry, no version check: nothing leaves the machine.
    return {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
            "ENABLE_SECRETS_SCAN_ALL_FILES": "false", "CKV_GITHUB_CONFIG_FETCH_DATA": "False",
            "BC_SKIP_VERSION_CHECK": "true", "LOG_LEVEL": "ERROR"}


def checkov_cmd(exe: str, path: str) -> list:
    target = ["-f", path] if os.path.isfile(path) else ["-d", path]
    return [exe, *target, "--framework", "kubernetes", "helm", "kustomize", "--skip-download", "--quiet",
            "--compact", "-o", "json", "--soft-fail"]


# ---- the run ----------------------------------------------------------------------------------
def row(name: str, c: dict, tool: str, mode: str, m: dict) -> dict:
    wall = m["wall"]
    # premortem exits 2 when the input has errors (the corpus has documented ones); a crash shows
    # as a traceback or a signal, a timeout as a kill.
    ok = not m["timeout"] and m["rc"] >= 0 and "Traceback" not in m["stderr_tail"]
    return {"input": name, "files": c["files"], "objects": c["resources"], "tool": tool, "mode": mode,
            "wall": None if m["timeout"] else wall, "cpu": m["cpu"], "rss_mb": m["rss_mb"], "pss_mb": m["pss_mb"],
            "files_s": c["files"] / wall if ok and wall else None,
            "objects_s": c["resources"] / wall if ok and wall else None,
            "rc": m["rc"], "timeout": m["timeout"], "runs": m.get("runs", 1),
            "note": ("" if m["rc"] in (0, 1) else f"exit {m['rc']}" + (f" ({c['errors']} input errors)" if tool == "premortem" else "")) if ok else
                    ("timeout" if m["timeout"] else f"exit {m['rc']}: {m['stderr_tail'][-200:]}")}


def _f(v, fmt):
    return "—" if v is None else format(v, fmt)


def markdown(rows: list, info: dict) -> str:
    out = [f"# premortem benchmark — {info['date']}", "",
           f"Machine: {info['cpus']} CPUs, {info['python']}, load average at start {info['load']}. "
           f"premortem {info['premortem']}; checkov {info['checkov']}.", "",
           "Wall and CPU are medians of up to 5 runs (small file: 5; runs over 10 s: 1). Peak RSS is the "
           "largest single process (wait4 ru_maxrss); peak PSS is the whole process tree, workers included "
           "(sampled every 25 ms). files/s and objects/s use premortem's counts of the same input for both "
           "tools.", "",
           "| input | files | objects | tool | mode | wall s | CPU s | files/s | objects/s | peak RSS MB | peak PSS MB | note |",
           "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        out.append(f"| {r['input']} | {r['files']} | {r['objects']} | {r['tool']} | {r['mode']} | "
                   f"{_f(r['wall'], '.2f') if not r['timeout'] else 'timeout'} | {_f(r['cpu'], '.2f')} | "
                   f"{_f(r['files_s'], ',.0f')} | {_f(r['objects_s'], ',.0f')} | {_f(r['rss_mb'], '.0f')} | "
                   f"{_f(r['pss_mb'], '.0f')} | {r['note'].replace('|', '/').replace(chr(10), ' ')} |")
    out += ["", "## Targets (premortem, default jobs)", ""]
    pm = {(r["input"], r["mode"]): r for r in rows if r["tool"] == "premortem"}

    def verdict(ok):
        return "met" if ok else "MISSED"

    s = pm.get(("small file", "default"))
    if s and s["wall"] is not None:
        out.append(f"- single small file < {TARGETS['small_wall_s']} s wall incl. start-up: "
                   f"{s['wall']:.2f} s — {verdict(s['wall'] < TARGETS['small_wall_s'])}")
    c = pm.get(("corpus", "default"))
    if c and c["wall"] is not None:
        out.append(f"- shared corpus < {TARGETS['corpus_wall_s']} s: {c['wall']:.2f} s — "
                   f"{verdict(c['wall'] < TARGETS['corpus_wall_s'])}")
    start = pm.get(("small file", "--jobs 1"))
    start_cpu = start["cpu"] if start else 0.0
    per = [(r["input"], (r["cpu"] - start_cpu) / r["objects"] * 1e6)
           for (name, mode), r in pm.items() if name.startswith("generated") and mode == "--jobs 1"
           and r["wall"] is not None and r["objects"]]
    if per:
        base = per[0][1]
        out.append(f"- cost linear in size (CPU µs per object, --jobs 1, less the {start_cpu:.2f} s start-up "
                   "of the small file): " + "; ".join(f"{n}: {cpu:.0f} µs ({cpu / base:.2f}×)" for n, cpu in per)
                   + f" — {verdict(max(c for _, c in per) <= 1.3 * base)} (within 1.3× of the smallest)")
    big = [r for (name, mode), r in pm.items() if name == "generated 100x"]
    for r in big:
        mem = max(r["pss_mb"], r["rss_mb"] if r["mode"] == "--jobs 1" else 0)
        out.append(f"- peak memory < {TARGETS['mem_100x_mb']} MB at 100× ({r['mode']}): {mem:.0f} MB — "
                   f"{verdict(mem < TARGETS['mem_100x_mb'])}")
    return "\n".join(out) + "\n"


def profile(scale: float, out_path: str) -> None:
    import cProfile
    import io
    import pstats

    sys.path.insert(0, os.path.join(ROOT, "src"))
    from premortem.config import Config
    from premortem.engine import ScanOptions, scan

    path = generated(scale)
    prof = cProfile.Profile()
    prof.enable()
    scan([path], path, Config(), ScanOptions(jobs=1))
    prof.disable()
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf).strip_dirs()
    buf.write(f"# cProfile of an in-process scan of generated {scale:g}x (--jobs 1)\n\n## by own time\n")
    st.sort_stats("tottime").print_stats(30)
    buf.write("\n## by cumulative time\n")
    st.sort_stats("cumulative").print_stats(40)
    with open(out_path, "w") as fh:
        fh.write(buf.getvalue())
    print(f"profile written to {out_path}", file=sys.stderr)


def main() -> int:
    p = argparse.ArgumentParser(description="premortem vs checkov benchmark")
    p.add_argument("--scales", default="1,10,100", help="generated repository scales (default 1,10,100)")
    p.add_argument("--no-checkov", action="store_true", help="premortem only")
    p.add_argument("--no-install", action="store_true", help="do not create bench/.venv-checkov")
    p.add_argument("--timeout", type=float, default=600, help="per run, seconds (default 600)")
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement under 10 s (small file: 5)")
    p.add_argument("--no-terraform", action="store_true", help="skip the generated Terraform repository")
    p.add_argument("--out", default=os.path.join(RESULTS, "latest.md"))
    p.add_argument("--profile", type=float, metavar="SCALE", help="only write a cProfile of generated SCALE")
    p.add_argument("--render", metavar="JSON", help="only re-render the Markdown of an earlier run's JSON")
    args = p.parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    if args.render:
        with open(args.render) as fh:
            saved = json.load(fh)
        text = markdown(saved["rows"], saved["info"])
        with open(args.out, "w") as fh:
            fh.write(text)
        print(text)
        return 0
    if args.profile:
        profile(args.profile, os.path.join(RESULTS, f"profile-{args.profile:g}x.txt"))
        return 0

    checkov = None if args.no_checkov else checkov_bin(install=not args.no_install)
    info = {"date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(),
            "python": f"Python {platform.python_version()}", "load": " ".join(open("/proc/loadavg").read().split()[:3]),
            "premortem": subprocess.run([PREMORTEM, "version"], capture_output=True, text=True).stdout.split()[-1],
            "checkov": checkov_version(checkov) if checkov else "not run"}

    inputs = [("small file", small_file(), 5)]
    if os.path.isdir(CORPUS):
        inputs.append(("corpus", CORPUS, args.repeat))
    else:
        print(f"  {CORPUS} not present: corpus skipped", file=sys.stderr)
    for s in (float(x) for x in args.scales.split(",") if x.strip()):
        inputs.append((f"generated {s:g}x", generated(s), args.repeat))
    if not args.no_terraform:
        inputs.append(("terraform (eks-sized)", terraform_repo(), args.repeat))

    rows = []
    for name, path, n in inputs:
        c = counts(path, args.timeout)
        print(f"{name}: {c['files']} files, {c['resources']} objects, {c['findings']} findings, {c['errors']} errors",
              file=sys.stderr)
        base = [PREMORTEM, "scan", path, "-f", "json", "-o", os.devnull, "--fail-on", "never"]
        for mode, extra in (("default", []), ("--jobs 1", ["--jobs", "1"])):
            rows.append(row(name, c, "premortem", mode, repeat(base + extra, n, args.timeout)))
            print(f"  premortem {mode}: {rows[-1]['wall'] or 'timeout'}", file=sys.stderr)
        if checkov:
            m = repeat(checkov_cmd(checkov, path), n if name == "small file" else 1, args.timeout)
            rows.append(row(name, c, "checkov", "default", m))
            print(f"  checkov: {rows[-1]['wall'] or 'timeout'}", file=sys.stderr)

    text = markdown(rows, info)
    with open(args.out, "w") as fh:
        fh.write(text)
    with open(os.path.splitext(args.out)[0] + ".json", "w") as fh:
        json.dump({"info": info, "rows": rows}, fh, indent=2)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
