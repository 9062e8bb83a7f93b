#!/usr/bin/env python3
"""Whole-process timings of `host`, side by side with the process-per-test model.

Run from the repository root:  python3 bench/compare.py  [--cases 1000] [--runs 5]

It builds `host` (release), the test packages and a trivial native test binary, then
prints one table: per-case overhead (warm) vs one process per test, 1,000 trivial cases
against the same 1,000 tests run in-process by libtest with as many threads, 100,000 cases
(time and peak RSS), time to the first result on a cold vs a warm compile cache, warm
`host run` and `host list` of the language suite (Python, JavaScript, C, Go packages: needs
`scripts/install-tools`), node readiness latency, event-pipe throughput, and host's peak
RSS for a 1,000-case run. Numbers are medians of --runs runs.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = os.path.join(ROOT, "target", "release", "host")
BENCH_WASM = os.path.join(ROOT, "test-packages", "target", "wasm32-wasip2", "release", "bench_cases.wasm")
BENCH_100K_WASM = os.path.join(ROOT, "test-packages", "target", "wasm32-wasip2", "release", "bench_100k.wasm")
LANGUAGES = os.path.join(ROOT, "examples", "languages")
THREADS = os.cpu_count() or 1
NATIVE_TEST = "#[test]\nfn trivial() {}\n"


def sh(*args, **kwargs):
    return subprocess.run(args, check=True, cwd=kwargs.pop("cwd", ROOT), **kwargs)


def build():
    sh("rustup", "target", "add", "wasm32-wasip2", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sh("cargo", "build", "--release", "-q", "-p", "host", "-p", "kvnode")
    sh("cargo", "build", "--release", "-q", "--target", "wasm32-wasip2", "-p", "bench-cases", "-p", "bench-100k",
       cwd=os.path.join(ROOT, "test-packages"))


def write_suite(directory, text):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "tests.toml"), "w") as f:
        f.write(text)
    return directory


def timed(args, **kwargs):
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - started


def median_of(runs, measure):
    return statistics.median(measure() for _ in range(runs))


def per_case_overhead(work, cases, runs, cache, env=None):
    """(T(all cases) - T(one case)) / (cases - 1): what one more case costs."""
    suite = write_suite(os.path.join(work, "cases"), f'[[tests]]\nname = "bench"\ntest_package_paths = ["{BENCH_WASM}"]\n')
    base = [HOST, "run", suite, "--cache-dir", cache]
    environment = dict(os.environ, **(env or {}))
    timed(base, env=environment)  # warm the compile cache
    everything = median_of(runs, lambda: timed(base, env=environment))
    one = median_of(runs, lambda: timed(base + ["bench/bench_cases/case_0000"], env=environment))
    return (everything - one) / (cases - 1), everything


def per_process(work, cases, runs):
    """One process per test: a compiled libtest binary run once per case, as nextest does."""
    source = os.path.join(work, "native_case.rs")
    with open(source, "w") as f:
        f.write(NATIVE_TEST)
    binary = os.path.join(work, "native_case")
    sh("rustc", "-O", "--test", "--edition", "2021", source, "-o", binary)
    def all_cases():
        started = time.perf_counter()
        for _ in range(cases):
            subprocess.run([binary, "--exact", "trivial", "--quiet"], check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started
    return median_of(runs, all_cases) / cases


def against_libtest(work, runs, cache):
    """1,000 trivial cases run by host with `parallel = true` (one at a time per core) vs the
    same 1,000 empty #[test]s run in-process by libtest with as many threads: whole
    processes, warm."""
    crate = os.path.join(work, "libtest-1000")
    os.makedirs(os.path.join(crate, "src"), exist_ok=True)
    with open(os.path.join(crate, "Cargo.toml"), "w") as f:
        f.write('[package]\nname = "libtest1000"\nversion = "0.1.0"\nedition = "2021"\n[workspace]\n')
    with open(os.path.join(crate, "src", "lib.rs"), "w") as f:
        f.write("\n".join(f"#[test]\nfn case_{n:04}() {{}}" for n in range(1000)))
    output = sh("cargo", "test", "--release", "--no-run", "--message-format=json", "-q", cwd=crate, capture_output=True, text=True).stdout
    binary = next(json.loads(l)["executable"] for l in output.splitlines() if json.loads(l).get("executable"))
    results = []
    for threads in sorted({1, THREADS}):
        suite = write_suite(os.path.join(work, f"parallel-{threads}"),
                            f'[[tests]]\nname = "bench"\nparallel = {threads}\ntest_package_paths = ["{BENCH_WASM}"]\n')
        args = [HOST, "run", suite, "--cache-dir", cache]
        timed(args)
        # Interleaved, many samples: a run takes tens of milliseconds, and the machine's
        # drift between two blocks of runs was larger than the difference measured.
        host_times, libtest_times = [], []
        for _ in range(runs * 12):
            host_times.append(timed(args))
            libtest_times.append(timed([binary, "-q", f"--test-threads={threads}"]))
        results.append((threads, statistics.median(host_times), statistics.median(libtest_times)))
    return results


def measured(args):
    """(seconds, peak RSS in MiB) of one run of `args`, measured from a fresh wrapper
    process so the RSS is the command's own."""
    wrapper = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
               "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
               "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    output = subprocess.run([sys.executable, "-c", wrapper] + args, check=True, capture_output=True, text=True)
    seconds, rss = output.stdout.split()
    return float(seconds), int(rss) / 1024


def hundred_thousand(work, runs, cache):
    """100,000 trivial cases of one package, `parallel = true`: median time, peak RSS."""
    suite = write_suite(os.path.join(work, "100k"),
                        f'[[tests]]\nname = "bench"\nparallel = true\ntest_package_paths = ["{BENCH_100K_WASM}"]\n')
    args = [HOST, "run", suite, "--cache-dir", cache]
    timed(args)
    samples = [measured(args) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), max(s[1] for s in samples)


def languages(work, runs):
    """Warm `host run` and `host list` of the language suite, and `host list` on an empty
    compile cache (declared builds are cached there too, so Python and JS are built)."""
    if not os.path.exists(os.path.join(ROOT, ".tools", "venv")):
        return None
    env = dict(os.environ, PATH=os.pathsep.join([os.path.join(ROOT, ".tools", "cargo", "bin"),
                                                 os.path.join(ROOT, ".tools", "venv", "bin"), os.environ["PATH"]]))
    cache = os.path.join(work, "languages-cache")
    run = [HOST, "run", LANGUAGES, "--cache-dir", cache]
    listing = [HOST, "list", LANGUAGES, "--cache-dir", cache]
    cold_list = timed([HOST, "list", LANGUAGES, "--cache-dir", os.path.join(work, "languages-cold")], env=env)
    timed(run, env=env)
    return median_of(runs, lambda: timed(run, env=env)), median_of(runs, lambda: timed(listing, env=env)), cold_list


def first_result(args):
    """Seconds from start until the first case_finished line of --format json."""
    started = time.perf_counter()
    process = subprocess.Popen(args + ["--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first = None
    events = []
    for line in process.stdout:
        event = json.loads(line)
        events.append(event)
        if first is None and event["type"] == "case_finished":
            first = time.perf_counter() - started
    process.wait()
    return first, events


def cold_and_warm(work, runs):
    """A first run (empty compile cache; guest packages already built by cargo) vs the
    second run with the same cache."""
    cold, warm = [], []
    args = [HOST, "run", os.path.join(ROOT, "tests.toml"), "replication"]
    for i in range(runs):
        cache = os.path.join(work, f"cold-cache-{i}")
        cold.append(first_result(args + ["--cache-dir", cache])[0])
        warm.append(first_result(args + ["--cache-dir", cache])[0])
    return statistics.median(cold), statistics.median(warm)


def fresh_clone_first_result(work):
    """A first run as on a fresh clone: guests and kvnode built by cargo from scratch
    (a new target directory), then compiled by wasmtime."""
    env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(work, "fresh-target"))
    started = time.perf_counter()
    process = subprocess.Popen([HOST, "run", os.path.join(ROOT, "tests.toml"), "replication", "--format", "json",
                                "--cache-dir", os.path.join(work, "fresh-cache")], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, env=env)
    first = None
    for line in process.stdout:
        if first is None and json.loads(line)["type"] == "case_finished":
            first = time.perf_counter() - started
    process.wait()
    return first


def readiness_latency(runs, cache):
    """From the node writing its `ready` event (its own timestamp) to the host starting the
    first package, for the root suite's 3-node test."""
    samples = []
    for _ in range(runs):
        _, events = first_result([HOST, "run", os.path.join(ROOT, "tests.toml"), "replication", "--cache-dir", cache])
        ready = [e for e in events if e["type"] == "node_ready" and e.get("signalled_at") is not None]
        started = [e for e in events if e["type"] == "package_started"]
        if ready and started:
            samples.append(started[0]["unix_time"] - max(e["signalled_at"] for e in ready))
    return statistics.median(samples) if samples else None


def event_throughput():
    output = sh("cargo", "bench", "-q", "-p", "host", "--bench", "event_pipe", capture_output=True, text=True).stdout
    line = next(l for l in output.splitlines() if l.startswith("event_pipe:"))
    return float(line.split("=")[1].split()[0])


def peak_rss(suite, cache):
    """Peak RSS of `host run` over the 1,000-case suite, in MiB. A fresh wrapper process
    runs it, so the maximum over its waited-for descendants is host's (the suite builds
    nothing: the package is a .wasm file), not cargo's from the build step."""
    wrapper = "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    output = subprocess.run([sys.executable, "-c", wrapper, HOST, "run", suite, "--cache-dir", cache], check=True, capture_output=True, text=True)
    return int(output.stdout.strip()) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1000, help="cases in the overhead run (the bench package has 1000)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-build", action="store_true")
    options = parser.parse_args()
    if not options.no_build:
        build()
    with tempfile.TemporaryDirectory() as work:
        cache = os.path.join(work, "cache")
        wasm_case, total = per_case_overhead(work, options.cases, options.runs, cache)
        on_demand_case, _ = per_case_overhead(work, options.cases, options.runs, cache, {"HOST_POOLING": "0"})
        libtest_rows = against_libtest(work, options.runs, cache)
        big_time, big_rss = hundred_thousand(work, options.runs, cache)
        language_times = languages(work, options.runs)
        rss = peak_rss(os.path.join(work, "cases"), cache)
        native_case = per_process(work, options.cases, options.runs)
        cold, warm = cold_and_warm(work, options.runs)
        latency = readiness_latency(options.runs, cache)
        clone = fresh_clone_first_result(work)
    throughput = event_throughput()
    rows = [
        ("per-case overhead, warm", f"{wasm_case * 1e3:.3f} ms/case", f"{native_case * 1e3:.3f} ms/process",
         f"{native_case / wasm_case:.1f}x lower", ">= 3x"),
        ("  same, on-demand allocation", f"{on_demand_case * 1e3:.3f} ms/case", "", f"{on_demand_case / wasm_case:.2f}x the pooled", "measure"),
    ] + [
        (f"1,000 cases, {threads} at once", f"{host:.3f} s", f"libtest {libtest:.3f} s ({threads} thread(s))",
         f"{host / libtest:.2f}x libtest", "<= 1.0x")
        for threads, host, libtest in libtest_rows
    ] + [
        ("100,000 cases, parallel", f"{big_time:.2f} s", f"peak RSS {big_rss:.1f} MiB", "", "< 5 s, < 64 MiB"),
        ("time to first result", f"cold {cold:.2f} s", f"warm {warm:.3f} s", f"{cold / warm:.1f}x faster warm", ">= 10x"),
        ("  first run of a fresh clone", f"{clone:.1f} s", "(cargo builds guests)", f"{clone / warm:.0f}x the warm run", ""),
        ("node readiness latency", "n/a" if latency is None else f"{latency * 1e3:.2f} ms", "", "", "< 5 ms"),
        ("event throughput", f"{throughput:,.0f} events/s", "", "", ">= 500k/s"),
        (f"host peak RSS, {options.cases} cases", f"{rss:.1f} MiB", f"({total:.2f} s run)", "", "< 64 MiB + guests"),
    ]
    if language_times:
        run, listing, cold_list = language_times
        rows.append(("language suite, warm run", f"{run:.3f} s", "(4 packages, 2 nodes)", "", ""))
        rows.append(("  host list, warm / cold", f"{listing:.3f} s", f"cold {cold_list:.1f} s (builds Python, JS)", "", "warm < 0.5 s"))
    widths = [max(len(row[i]) for row in rows + [("measure", "host", "process-per-test / other", "ratio", "target")]) for i in range(5)]
    header = ("measure", "host", "process-per-test / other", "ratio", "target")
    for row in [header] + rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)))


if __name__ == "__main__":
    sys.exit(main())
