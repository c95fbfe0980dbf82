"""The benchmark behind `bin/bench`: the group-writable pass against what a user would run
instead (`chmod -R g+w`, `find -name '*.log' -exec chmod g+w {} +`, and, for what the pass
sees of the writable surface, the same `find` with `-o -perm /022 -print`), on
node_modules-shaped trees. BENCHMARKS.md explains the method.

The report is made of sections, each measuring one thing and rendering its own part:
- `binary`: the size of the buildpack binary;
- `walk`: the pass on each tree (time, CPU time, memory, system calls) against the
  baselines, and the targets of issue #5;
- `helper`: the exec.d helper's start-to-exit time against static no-op programs and an
  equivalent shell script, its system calls, and its size;
- `audit`: `group-writable-audit` on a 200 MB image against `tar -tzvf` (audit_image.py).
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys

import audit_image
import runner as run
import tree

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(BENCH_DIR)))

# The CNB lifecycle runs `bin/build` with this environment (Buildpack API 0.10), cleared
# of everything else; tests/support/mod.rs does the same. The baselines get the same PATH
# and nothing else (so the C locale, as the buildpack).
PATH = "/usr/local/bin:/usr/bin:/bin"
TARGET_ENV = {
    "CNB_TARGET_OS": "linux",
    "CNB_TARGET_ARCH": "amd64",
    "CNB_TARGET_DISTRO_NAME": "ubuntu",
    "CNB_TARGET_DISTRO_VERSION": "22.04",
}

# The pattern sets, passed as `BP_GROUP_WRITABLE_PATHS` through the platform directory
# (as `pack build --env` does), so the app tree is the same for all of them.
PATTERN_SETS = {
    # One directory covering the whole tree (all of it but the app's package.json).
    "whole": "/node_modules/",
    # About 1% of the files.
    "sparse": "*.log",
    # A basename pattern can match at any depth, so the whole tree is still walked: this
    # is walking and matching alone.
    "nothing": "*.never-matches\n/no-such-directory/\nnode_modules/**/no-such-cache/",
    # Anchored patterns that match nothing: only the directories on their paths are read
    # (the app directory and node_modules), so this is the buildpack's fixed cost.
    "pruned": "/node_modules/no-such-package/\n/log/",
}

TARGETS = {
    "whole_first_ratio": 1.0,
    "idempotent_ratio": 0.6,
    "sparse_ratio": 1.3,
    "beyond_first": 2.1,
    "beyond_idempotent": 1.1,
    "peak_rss_mib_at_1m": 32,
    "helper_vs_noop": 1.3,
    "shell_vs_helper": 3.0,
    "helper_kib": 600,
}

STAT_CALLS = {"stat", "lstat", "fstat", "newfstatat", "fstatat64", "statx"}
CHMOD_CALLS = {"chmod", "fchmod", "fchmodat", "fchmodat2"}
DIRECTORY_READING_CALLS = {"openat", "getdents64", "close"}

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
PASS_SUMMARY = re.compile(
    r"Group-writable: (?:nothing|(?:(\d+) director(?:y|ies))?(?: and )?(?:(\d+) files?)?), (\d+) changed"
)


def say(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def parse_sizes(text):
    sizes = []
    for size in text.split(","):
        match = re.fullmatch(r"(\d+)([kKmM]?)", size.strip())
        if not match or int(match.group(1)) == 0:
            raise argparse.ArgumentTypeError(f"not a size: {size} (use e.g. 10k, 100k, 1M)")
        sizes.append(int(match.group(1)) * {"": 1, "k": 1000, "m": 1000000}[match.group(2).lower()])
    return sizes


def size_name(entries):
    if entries % 1000000 == 0:
        return f"{entries // 1000000}M"
    if entries % 1000 == 0:
        return f"{entries // 1000}k"
    return str(entries)


def pass_counts(output):
    """(matched, changed) from the build log's summary line, or None."""
    match = PASS_SUMMARY.search(ANSI_ESCAPE.sub("", output))
    if not match:
        return None
    directories, files, changed = (int(group) if group else 0 for group in match.groups())
    return directories + files, changed


def expect_pass(matched, changed):
    """A check that the build log reports exactly these counts."""

    def check(output):
        found = pass_counts(output)
        if found != (matched, changed):
            return f"expected {matched} matched and {changed} changed, the build log says {found}"
        return None

    return check


class Context:
    """Where things are, and how the commands are made."""

    def __init__(self, args):
        self.args = args
        self.scratch = os.path.abspath(args.scratch)
        self.buildpack = os.path.abspath(args.buildpack)
        self.runner = run.Runner(self.scratch)
        self.cnb = os.path.join(self.scratch, "cnb")
        self.layers = os.path.join(self.cnb, "layers", "cnb-utils_group-writable")
        self.plan = os.path.join(self.cnb, "plan.toml")
        self.one_cpu = {min(os.sched_getaffinity(0))}

    def prepare_cnb_dirs(self):
        """The layers directory, the plan, and one platform directory per pattern set."""
        os.makedirs(self.layers, exist_ok=True)
        with open(self.plan, "w") as plan:
            plan.write("entries = []\n")
        for name, patterns in PATTERN_SETS.items():
            env_dir = os.path.join(self.platform(name), "env")
            os.makedirs(env_dir, exist_ok=True)
            # This section measures the group-writable pass alone. The launch-time
            # redirects would also change the app (a Node.js app gets a
            # `node_modules/.cache` symlink), so a first run would no longer find the
            # tree a reset leaves.
            for variable, value in [("BP_GROUP_WRITABLE_PATHS", patterns), ("BP_GROUP_WRITABLE_REDIRECTS", "off")]:
                with open(os.path.join(env_dir, variable), "w") as variable_file:
                    variable_file.write(value)

    def platform(self, pattern_set):
        return os.path.join(self.cnb, f"platform-{pattern_set}")

    def build(self, key, label, app, pattern_set, check, prepare=None, cpus=None):
        """The packaged `bin/build`, run as the lifecycle runs it: by path, with the layers,
        platform and plan arguments, the `CNB_*` variables, in the app directory."""
        platform_dir = self.platform(pattern_set)
        env = dict(
            TARGET_ENV,
            PATH=PATH,
            CNB_BUILDPACK_DIR=self.buildpack,
            CNB_PLATFORM_DIR=platform_dir,
            CNB_LAYERS_DIR=self.layers,
            CNB_BP_PLAN_PATH=self.plan,
        )
        argv = [os.path.join(self.buildpack, "bin", "build"), self.layers, platform_dir, self.plan]
        return run.Command(key, label, argv, app, env, prepare=prepare, check=check, cpus=cpus)

    @staticmethod
    def baseline(key, label, app, argv, prepare=None):
        """A baseline, run in the app directory as a user would."""
        return run.Command(key, label, argv, app, {"PATH": PATH}, prepare=prepare)


def reset_tree(app):
    """Back to the modes umask 022 gave, which a first run finds: the same untimed step
    before every first run, buildpack or baseline, which also leaves the tree's inodes and
    directory entries in the cache for both."""

    def reset():
        run.run_untimed(["chmod", "-R", "g-w,g-s", app], env={"PATH": PATH})

    return reset


def read_every_directory(app):
    """Reads every directory of the tree, untimed. With `relatime`, the first read of a
    directory whose inode changed writes its access time; `chmod -R` changes every
    inode, even to the same mode, so without this the command after it in a second-run
    repetition (nearly always the same one) would pay for those writes."""

    def read():
        run.run_untimed(["find", app, "-false"], env={"PATH": PATH})

    return read


def ratio_summary(series, key, baseline):
    """The ratio of the medians, the range of the ratios paired by repetition (the two
    ran back to back in each), and the ratio of the CPU-time medians."""
    ours, theirs = series[key], series[baseline]
    paired = [a / b for a, b in zip(ours.samples, theirs.samples)]
    return {
        "command": key,
        "baseline": baseline,
        "ratio_of_medians": ours.median() / theirs.median(),
        "paired_min": min(paired),
        "paired_max": max(paired),
        "cpu_ratio_of_medians": statistics.median(ours.cpu_samples) / statistics.median(theirs.cpu_samples),
    }


def syscall_summary(counts, entries, floor_calls, changed):
    """System calls by kind, per tree entry, against the floor beyond directory reading
    (one stat-family call per entry whose mode must be known, one chmod per entry that
    changes)."""
    total = sum(counts.values())
    directory_reading = sum(counts.get(name, 0) for name in DIRECTORY_READING_CALLS)
    stats = sum(counts.get(name, 0) for name in STAT_CALLS)
    chmods = sum(counts.get(name, 0) for name in CHMOD_CALLS)
    return {
        "total": total,
        "directory_reading": directory_reading,
        "stat": stats,
        "chmod": chmods,
        "other": total - directory_reading - stats - chmods,
        "beyond_per_entry": (total - directory_reading) / entries,
        "floor_per_entry": floor_calls / entries,
        "chmod_on_unchanged": chmods - changed,
        "calls": counts,
    }


# ---------------------------------------------------------------------------------------
# Section `walk`


def measure_walk(context, entries):
    """The pass on one tree, against the baselines."""
    tree_dir = os.path.join(context.scratch, "trees", str(entries))
    stamp = tree.ensure_tree(tree_dir, entries, log=say)
    app = os.path.join(tree_dir, "app")
    # `/node_modules/` matches every entry but the app's own package.json (and symlinks,
    # which are never changed, are not counted as matched).
    whole = stamp["directories"] + stamp["files"] - 1
    logs = stamp["logs"]
    reset = reset_tree(app)
    build, baseline = context.build, context.baseline
    chmod_argv = ["chmod", "-R", "g+w", "node_modules"]
    find_argv = ["find", ".", "-name", "*.log", "-exec", "chmod", "g+w", "{}", "+"]
    # What the buildpack does with `*.log`: change the `*.log` files, and see the mode of
    # every other entry, listing the group- or other-writable ones (the writable surface):
    # `-perm /022` stats every entry, as the pass does.
    surface_argv = ["find", ".", "(", "-name", "*.log", "-exec", "chmod", "g+w", "{}", "+", ")",
                    "-o", "(", "-perm", "/022", "-print", ")"]
    surface_label = "`find . ( -name '*.log' -exec chmod g+w {} + ) -o ( -perm /022 -print )`"

    first = [
        build("bp_whole", "buildpack `/node_modules/`", app, "whole", expect_pass(whole, whole), reset),
        build("bp_whole_1cpu", "buildpack `/node_modules/`, 1 CPU", app, "whole",
              expect_pass(whole, whole), reset, cpus=context.one_cpu),
        baseline("chmod", "`chmod -R g+w node_modules`", app, chmod_argv, reset),
        build("bp_sparse", "buildpack `*.log`", app, "sparse", expect_pass(logs, logs), reset),
        baseline("find", "`find . -name '*.log' -exec chmod g+w {} +`", app, find_argv, reset),
        baseline("find_surface", surface_label, app, surface_argv, reset),
    ]
    # The second runs find the tree as the buildpack's first run left it: nothing is left
    # to change, for the buildpack or for `chmod -R g+w` (the tree has g+w everywhere).
    read = read_every_directory(app)
    second = [
        build("bp_whole_again", "buildpack `/node_modules/`, again", app, "whole", expect_pass(whole, 0), read),
        build("bp_whole_again_1cpu", "buildpack `/node_modules/`, again, 1 CPU", app, "whole",
              expect_pass(whole, 0), read, cpus=context.one_cpu),
        baseline("chmod_again", "`chmod -R g+w node_modules`, again", app, chmod_argv, read),
        build("bp_sparse_again", "buildpack `*.log`, again", app, "sparse", expect_pass(logs, 0), read),
        baseline("find_again", "`find . -name '*.log' -exec chmod g+w {} +`, again", app, find_argv, read),
        baseline("find_surface_again", f"{surface_label}, again", app, surface_argv, read),
        build("bp_nothing", "buildpack, patterns matching nothing", app, "nothing", expect_pass(0, 0), read),
        build("bp_pruned", "buildpack, anchored patterns matching nothing", app, "pruned", expect_pass(0, 0), read),
    ]

    def leave_as_first_run_does():
        reset()
        context.runner.run_once(first[0])

    runs = context.args.runs
    name = size_name(entries)
    say(f"{name}: first runs, {runs} repetitions of {len(first)} commands (the tree reset before each)")
    series = context.runner.alternate(first, runs)
    say(f"{name}: second runs, {runs} repetitions of {len(second)} commands")
    leave_as_first_run_does()
    series.update(context.runner.alternate(second, runs))

    say(f"{name}: system calls (strace -f -c) and peak memory (GNU time), one run of each")
    by_key = {command.key: command for command in first + second}
    syscalls = {}
    # (command, entries whose mode it must know, entries it changes). The first runs reset
    # the tree themselves; the second runs find it as the buildpack's first run left it.
    # Every directory and file: the pass knows the mode of each (the writable surface).
    every = whole + 1
    for key, stats, changed in [
        ("bp_whole", whole, whole),
        ("chmod", whole, whole),
        ("bp_sparse", every, logs),
        ("find", logs, logs),
        ("find_surface", every, logs),
    ]:
        counts = context.runner.syscalls(by_key[key])
        syscalls[key] = syscall_summary(counts, entries, stats + changed, changed)
    for command in first:
        series[command.key].peak_rss_kib = context.runner.peak_memory(command)
    leave_as_first_run_does()
    for key, stats in [
        ("bp_whole_again", whole),
        ("chmod_again", whole),
        ("bp_sparse_again", every),
        ("find_again", logs),
        ("find_surface_again", every),
        ("bp_nothing", every),
        ("bp_pruned", every),
    ]:
        counts = context.runner.syscalls(by_key[key])
        syscalls[key] = syscall_summary(counts, entries, stats, 0)
    for command in second:
        series[command.key].peak_rss_kib = context.runner.peak_memory(command)

    comparisons = {
        key: ratio_summary(series, command, against)
        for key, (command, against) in {
            "whole_first": ("bp_whole", "chmod"),
            "whole_first_1cpu": ("bp_whole_1cpu", "chmod"),
            "sparse_first": ("bp_sparse", "find"),
            "sparse_first_surface": ("bp_sparse", "find_surface"),
            "whole_again": ("bp_whole_again", "chmod_again"),
            "whole_again_1cpu": ("bp_whole_again_1cpu", "chmod_again"),
            "sparse_again": ("bp_sparse_again", "find_again"),
            "sparse_again_surface": ("bp_sparse_again", "find_surface_again"),
            "sparse_again_vs_chmod": ("bp_sparse_again", "chmod_again"),
            "nothing": ("bp_nothing", "find_again"),
            "nothing_vs_chmod": ("bp_nothing", "chmod_again"),
            "pruned": ("bp_pruned", "chmod_again"),
            "pruned_vs_whole_again": ("bp_pruned", "bp_whole_again"),
            "whole_first_scaling": ("bp_whole", "bp_whole_1cpu"),
            "whole_again_scaling": ("bp_whole_again", "bp_whole_again_1cpu"),
        }.items()
    }
    return {
        "entries": entries,
        "tree": stamp,
        "runs": runs,
        "commands": {key: value.summary() for key, value in series.items()},
        "comparisons": comparisons,
        "syscalls": syscalls,
    }


def measure_walks(context):
    return [measure_walk(context, entries) for entries in context.args.sizes]


def ms(seconds):
    return f"{seconds * 1000:.1f}"


def ratio_text(ratio):
    """Two decimals, or three below 0.1 (the fixed cost against a whole-tree chmod)."""
    return f"{ratio:.3f}" if ratio < 0.1 else f"{ratio:.2f}"


def verdict(holds):
    return "yes" if holds else "**no**"


# (comparison, what is compared, target)
COMPARISON_ROWS = [
    ("whole_first", "first run, whole tree", "whole_first_ratio"),
    ("whole_first_1cpu", "first run, whole tree, buildpack on 1 CPU", None),
    ("sparse_first", "first run, `*.log`", None),
    ("sparse_first_surface", "first run, `*.log`", "sparse_ratio"),
    ("whole_again", "second run, whole tree", "idempotent_ratio"),
    ("whole_again_1cpu", "second run, whole tree, buildpack on 1 CPU", None),
    ("sparse_again", "second run, `*.log`", None),
    ("sparse_again_surface", "second run, `*.log`", "sparse_ratio"),
    ("sparse_again_vs_chmod", "second run, `*.log`", None),
    ("nothing", "patterns matching nothing", None),
    ("nothing_vs_chmod", "patterns matching nothing", None),
    ("pruned", "anchored patterns matching nothing (fixed cost)", None),
    ("pruned_vs_whole_again", "anchored patterns matching nothing (fixed cost)", None),
    ("whole_first_scaling", "first run, whole tree: 2 CPUs against 1", None),
    ("whole_again_scaling", "second run, whole tree: 2 CPUs against 1", None),
]

SYSCALL_ROWS = ["bp_whole", "chmod", "bp_sparse", "find", "find_surface", "bp_whole_again",
                "chmod_again", "bp_sparse_again", "find_again", "find_surface_again", "bp_nothing",
                "bp_pruned"]


def render_walk(result):
    commands = result["commands"]
    stamp = result["tree"]
    lines = [
        f"### {size_name(result['entries'])} entries",
        "",
        f"{stamp['directories']} directories, {stamp['files']} files ({stamp['logs']} `*.log`), "
        f"{stamp['symlinks']} symlinks; {result['runs']} runs of each command, alternating.",
        "",
        "| | against | time: ratio of medians (paired min–max) | target | CPU time: ratio of medians |",
        "|---|---|---|---|---|",
    ]
    for key, title, target in COMPARISON_ROWS:
        comparison = result["comparisons"][key]
        ratio = comparison["ratio_of_medians"]
        target_cell = ""
        if target:
            target_cell = f"≤ {TARGETS[target]} ({verdict(ratio <= TARGETS[target])})"
        lines.append(
            f"| {title} | {commands[comparison['baseline']]['label']} "
            f"| {ratio_text(ratio)} ({ratio_text(comparison['paired_min'])}–{ratio_text(comparison['paired_max'])}) "
            f"| {target_cell} | {ratio_text(comparison['cpu_ratio_of_medians'])} |"
        )
    lines += [
        "",
        "| command | time: median ms | min–max ms | CPU time: median ms | peak RSS MiB |",
        "|---|---|---|---|---|",
    ]
    for summary in commands.values():
        lines.append(
            f"| {summary['label']} | {ms(summary['median_s'])} | {ms(summary['min_s'])}–{ms(summary['max_s'])} "
            f"| {ms(summary['cpu_median_s'])} | {summary['peak_rss_kib'] / 1024:.1f} |"
        )
    lines += [
        "",
        "System calls per entry (one `strace -f -c` run of each; all threads, process start included):",
        "",
        "| command | directory reading | stat | chmod | other | beyond directory reading | floor | chmod of unchanged entries |",
        "|---|---|---|---|---|---|---|---|",
    ]
    entries = result["entries"]
    for key in SYSCALL_ROWS:
        calls = result["syscalls"][key]
        lines.append(
            f"| {commands[key]['label']} | {calls['directory_reading'] / entries:.3f} | {calls['stat'] / entries:.3f} "
            f"| {calls['chmod'] / entries:.3f} | {calls['other'] / entries:.3f} | **{calls['beyond_per_entry']:.3f}** "
            f"| {calls['floor_per_entry']:.3f} | {calls['chmod_on_unchanged']} |"
        )
    return lines


def target_checks(walks):
    """Each target of issue #5: (what, the figure it is judged on or None when that was
    not measured, its unit, whether it holds)."""
    by_size = {walk["entries"]: walk for walk in walks}
    checks = []
    walk = by_size.get(100000)
    for key, comparison, what in [
        ("whole_first_ratio", "whole_first", "first run, whole tree, 100k: × `chmod -R g+w`"),
        ("idempotent_ratio", "whole_again", "second run, whole tree, 100k: × `chmod -R g+w` on a group-writable tree"),
    ]:
        value = walk["comparisons"][comparison]["ratio_of_medians"] if walk else None
        checks.append((f"{what} ≤ {TARGETS[key]}", value, "", value is not None and value <= TARGETS[key]))
    for walk in walks:
        name = size_name(walk["entries"])
        value = walk["comparisons"]["sparse_first_surface"]["ratio_of_medians"]
        checks.append((f"first run, `*.log`, {name}: × `find ( -name '*.log' -exec chmod ) -o -perm /022` "
                       f"≤ {TARGETS['sparse_ratio']}", value, "", value <= TARGETS["sparse_ratio"]))
    for walk in walks:
        name = size_name(walk["entries"])
        for key, command, what in [
            ("beyond_first", "bp_whole", "first run"),
            ("beyond_idempotent", "bp_whole_again", "second run"),
        ]:
            value = walk["syscalls"][command]["beyond_per_entry"]
            checks.append((f"system calls beyond directory reading, {what}, {name}: ≤ {TARGETS[key]} per entry",
                           value, "", value <= TARGETS[key]))
        unchanged = sum(calls["chmod_on_unchanged"] for key, calls in walk["syscalls"].items() if key.startswith("bp_"))
        checks.append((f"chmod of an unchanged entry by the buildpack, {name}: none", unchanged, "", unchanged == 0))
    walk = by_size.get(1000000)
    peak = None
    if walk:
        peak = max(summary["peak_rss_kib"] for key, summary in walk["commands"].items() if key.startswith("bp_")) / 1024
    limit = TARGETS["peak_rss_mib_at_1m"]
    checks.append((f"peak memory of the buildpack, 1M: < {limit} MiB", peak, " MiB", peak is not None and peak < limit))
    return checks


def render_walks(walks):
    lines = [
        "### Targets",
        "",
        "| target | measured | holds |",
        "|---|---|---|",
    ]
    for what, value, unit, holds in target_checks(walks):
        if value is None:
            lines.append(f"| {what} | not measured | |")
        else:
            figure = str(value) if isinstance(value, int) else f"{value:.2f}"
            lines.append(f"| {what} | {figure}{unit} | {verdict(holds)} |")
    for walk in walks:
        lines += [""] + render_walk(walk)
    return lines


# ---------------------------------------------------------------------------------------
# Section `binary`


def measure_binary(context):
    """The buildpack binary as packaged, and with every symbol stripped."""
    binary = os.path.join(context.buildpack, "bin", "build")
    stripped = os.path.join(context.scratch, "build.stripped")
    run.run_untimed(["strip", "-o", stripped, binary])
    return {"path": binary, "bytes": os.path.getsize(binary), "stripped_bytes": os.path.getsize(stripped)}


def render_binary(binary):
    return [
        "### Binary",
        "",
        f"`bin/build`: {binary['stripped_bytes']} bytes ({binary['stripped_bytes'] / 1024:.0f} KiB) stripped, "
        f"{binary['bytes']} bytes as packaged.",
    ]


# ---------------------------------------------------------------------------------------
# The exec.d helper


HELPER_RELATIVE = os.path.join("redirects", "exec.d", "group-writable-redirects")
# A Rails-shaped app: path redirects with seeds (tmp/, log/) and env redirects, as many
# as any catalog entry set gives.
HELPER_APP = os.path.join(REPOSITORY, "tests", "fixtures", "apps", "rails-shaped")
# Timed rounds: each runs every program once; the shell script takes most of the time.
HELPER_ROUNDS_PER_RUN = 200


def shell_equivalent(config_text, layer):
    """A POSIX shell script that does the helper's work for this configuration: the same
    directories, the same seed copies (once), the same variables on fd 3 under the same
    conditions. Its decisions are written out rather than read from the configuration at
    run time, which favours the shell."""
    lines = config_text.splitlines()
    base = lines[1].split(" ", 1)[1]
    own = f"{base}/group-writable"
    script = [
        "#!/bin/sh",
        "# The work of group-writable-redirects for one configuration, in POSIX sh.",
        '[ "${BPL_GROUP_WRITABLE_REDIRECTS:-}" = off ] && exit 0',
        f"mkdir -m 700 {own} 2>/dev/null || [ -d {own} ] || exit 0",
        'home_writable=no; [ -n "${HOME:-}" ] && [ -w "$HOME" ] && home_writable=yes',
    ]
    for line in lines[2:]:
        fields = line.split(" ")
        if fields[0] == "path":
            _, _, _, target, seed = fields
            copy = f" && cp -a {layer}/{seed}/. {target}/" if seed != "-" else ""
            script.append(f"mkdir -m 700 {target} 2>/dev/null{copy} || :")
        elif fields[0] == "env":
            _, _, variable, value, when = fields
            condition = f'[ -z "${{{variable}:-}}" ]'
            if when == "unless-home-writable":
                condition += " && [ $home_writable = no ]"
            make = "" if value == base else f"mkdir -m 700 {value} 2>/dev/null; "
            script.append(f"if {condition}; then {make}printf '%s = \"%s\"\\n' {variable} {value} >&3; fi")
    return "\n".join(script) + "\n"


def build_programs(context, work):
    """The spawn timer and the two no-op programs, built here so that every run of the
    benchmark measures against programs built on the same machine."""
    timer = os.path.join(work, "spawn_timer")
    noop_c = os.path.join(work, "noop-c")
    noop_rust = os.path.join(work, "noop-rust")
    run.run_untimed(["gcc", "-O2", "-o", timer, os.path.join(BENCH_DIR, "spawn_timer.c")])
    run.run_untimed(["musl-gcc", "-static", "-O2", "-s", "-o", noop_c, os.path.join(BENCH_DIR, "noop.c")])
    # The toolchain and flags of the helper: the musl target, non-PIE (.cargo/config.toml),
    # optimized, stripped.
    run.run_untimed([
        "rustc", "--edition", "2024", "--target", "x86_64-unknown-linux-musl", "-C", "opt-level=3",
        "-C", "relocation-model=static", "-C", "strip=symbols", "-o", noop_rust,
        os.path.join(BENCH_DIR, "noop.rs"),
    ])
    return timer, noop_c, noop_rust


def install_helper(context, work):
    """Builds the Rails-shaped app with the packaged buildpack (its tmp base in the
    scratch directory) and returns the installed helper and its configuration."""
    app = os.path.join(work, "app")
    layers = os.path.join(work, "layers", "cnb-utils_group-writable")
    platform_dir = os.path.join(work, "platform")
    tmp_base = os.path.join(work, "tmp")
    for directory in (app, os.path.dirname(layers), platform_dir, tmp_base):
        shutil.rmtree(directory, ignore_errors=True)
    shutil.copytree(HELPER_APP, app, symlinks=True)
    os.makedirs(layers)
    os.makedirs(os.path.join(platform_dir, "env"))
    os.makedirs(tmp_base)
    with open(os.path.join(platform_dir, "env", "BP_GROUP_WRITABLE_TMP"), "w") as variable:
        variable.write(tmp_base)
    env = dict(TARGET_ENV, PATH=PATH, CNB_BUILDPACK_DIR=context.buildpack, CNB_PLATFORM_DIR=platform_dir,
               CNB_LAYERS_DIR=layers, CNB_BP_PLAN_PATH=context.plan)
    argv = [os.path.join(context.buildpack, "bin", "build"), layers, platform_dir, context.plan]
    run.run_untimed(argv, cwd=app, env=env, stdout=subprocess.DEVNULL)
    helper = os.path.join(layers, HELPER_RELATIVE)
    with open(os.path.join(os.path.dirname(os.path.dirname(helper)), "redirects.conf")) as config:
        return helper, config.read(), os.path.dirname(os.path.dirname(helper))


def helper_syscalls(helper, env):
    """The helper's system calls in one run with nothing to seed, by name."""
    summary = subprocess.run(
        ["sh", "-c", 'exec 3>/dev/null; exec strace -c -o /dev/stdout "$0"', helper],
        capture_output=True, text=True, env=env, check=True,
    ).stdout
    return run.parse_strace_summary(summary)


def measure_helper(context):
    work = os.path.join(context.scratch, "helper")
    os.makedirs(work, exist_ok=True)
    timer, noop_c, noop_rust = build_programs(context, work)
    helper, config_text, layer = install_helper(context, work)
    shell = os.path.join(work, "helper.sh")
    with open(shell, "w") as script:
        script.write(shell_equivalent(config_text, layer))
    os.chmod(shell, 0o755)

    # The launch environment: $HOME not writable (the run user's, in an image), so the
    # XDG_* redirects apply too.
    env = {"PATH": PATH, "HOME": "/nonexistent"}
    # One untimed start each: the targets exist and are seeded, so every timed start has
    # nothing to seed, as every start after a container's first.
    for program in (helper, shell):
        subprocess.run(["sh", "-c", 'exec 3>/dev/null; exec "$0"', program], env=env, check=True)
    outputs = {}
    for name, program in (("helper", helper), ("shell", shell)):
        outputs[name] = subprocess.run(["sh", "-c", 'exec 3>&1 1>/dev/null; exec "$0"', program],
                                       env=env, capture_output=True, text=True, check=True).stdout
    if outputs["helper"] != outputs["shell"]:
        raise run.BenchError(f"the shell script does not write what the helper writes:\n{outputs}")

    programs = {"noop_c": noop_c, "noop_rust": noop_rust, "helper": helper, "shell": shell}
    rounds = HELPER_ROUNDS_PER_RUN * context.args.runs
    say(f"helper: {rounds} starts of each program, alternating")
    result = subprocess.run([timer, str(rounds)] + list(programs.values()), env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise run.BenchError(f"the spawn timer failed: {result.stderr}")
    samples = {}
    for line, key in zip(result.stdout.splitlines(), programs):
        samples[key] = [float(value) for value in line.split()[1:]]
    stripped = os.path.join(work, "helper.stripped")
    run.run_untimed(["strip", "-o", stripped, helper])
    return {
        "rounds": rounds,
        "samples_us": samples,
        "medians_us": {key: statistics.median(values) for key, values in samples.items()},
        "ranges_us": {key: (min(values), max(values)) for key, values in samples.items()},
        "syscalls": helper_syscalls(helper, env),
        "bytes": os.path.getsize(helper),
        "stripped_bytes": os.path.getsize(stripped),
        "noop_bytes": {"noop_c": os.path.getsize(noop_c), "noop_rust": os.path.getsize(noop_rust)},
        "output": outputs["helper"],
    }


def render_helper(helper):
    medians = helper["medians_us"]
    ranges = helper["ranges_us"]
    labels = {
        "noop_c": "static C no-op (`musl-gcc -static`)",
        "noop_rust": "static Rust no-op (the helper's toolchain and flags)",
        "helper": "**the helper**, nothing to seed",
        "shell": "equivalent POSIX shell script (`/bin/sh`)",
    }
    lines = [
        "### The exec.d helper",
        "",
        f"Start to exit, {helper['rounds']} starts of each, alternating; fd 3 on a pipe, argv[0] absolute, "
        "as the CNB launcher starts it; a Rails-shaped app's configuration (2 path redirects with seeds, "
        "4 env redirects), the targets already there.",
        "",
        "| program | median | min–max | helper ÷ program |",
        "|---|---|---|---|",
    ]
    for key, label in labels.items():
        low, high = ranges[key]
        lines.append(f"| {label} | {medians[key]:.0f} µs | {low:.0f}–{high:.0f} µs | "
                     f"{medians['helper'] / medians[key]:.2f} |")
    calls = helper["syscalls"]
    lines += [
        "",
        f"System calls per start: {sum(calls.values())} "
        f"({', '.join(f'{name} {count}' for name, count in sorted(calls.items()))}).",
        f"Size: {helper['stripped_bytes']} bytes ({helper['stripped_bytes'] / 1024:.0f} KiB) stripped; "
        f"the no-ops: C {helper['noop_bytes']['noop_c']} bytes, Rust {helper['noop_bytes']['noop_rust']} bytes.",
        "",
        "| target | figure | holds |",
        "|---|---|---|",
        f"| helper ≤ {TARGETS['helper_vs_noop']}× a static no-op (Rust, same toolchain) | "
        f"{medians['helper'] / medians['noop_rust']:.2f} | {verdict(medians['helper'] / medians['noop_rust'] <= TARGETS['helper_vs_noop'])} |",
        f"| helper ≤ {TARGETS['helper_vs_noop']}× a static no-op (C) | "
        f"{medians['helper'] / medians['noop_c']:.2f} | {verdict(medians['helper'] / medians['noop_c'] <= TARGETS['helper_vs_noop'])} |",
        f"| shell script ≥ {TARGETS['shell_vs_helper']:.0f}× slower than the helper | "
        f"{medians['shell'] / medians['helper']:.1f} | {verdict(medians['shell'] / medians['helper'] >= TARGETS['shell_vs_helper'])} |",
        f"| helper ≤ {TARGETS['helper_kib']} KiB stripped | {helper['stripped_bytes'] / 1024:.0f} KiB | "
        f"{verdict(helper['stripped_bytes'] <= TARGETS['helper_kib'] * 1024)} |",
    ]
    return lines


# Every section: its name, how it measures, and how it renders what it measured.
SECTIONS = [
    ("binary", measure_binary, render_binary),
    ("walk", measure_walks, render_walks),
    ("helper", measure_helper, render_helper),
    ("audit", lambda context: audit_image.measure(context, context.args.audit, say), audit_image.render),
]


# ---------------------------------------------------------------------------------------
# The report


def machine(scratch):
    def first_line(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.splitlines()[0]
        except (OSError, subprocess.CalledProcessError, IndexError):
            return "unknown"

    cpu = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpus_online": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "scratch_filesystem": " ".join(first_line(["findmnt", "-n", "-o", "FSTYPE,OPTIONS", "-T", scratch]).split()),
        "memory_gib": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
        "chmod": first_line(["chmod", "--version"]),
        "find": first_line(["find", "--version"]),
        "strace": first_line(["strace", "--version"]),
        "user": f"uid {os.geteuid()}",
        "load_average_at_start": os.getloadavg(),
    }


def render(results):
    info = results["machine"]

    def loads(values):
        return ", ".join(f"{load:.2f}" for load in values)

    lines = [
        f"## Results ({results['date']})",
        "",
        f"- Machine: `nproc` {info['nproc']} ({info['cpus_online']} online), {info['cpu']}, "
        f"{info['memory_gib']:.0f} GiB of memory; Linux {info['kernel']}",
        f"- Scratch directory: {info['scratch_filesystem']}",
        f"- Baselines: {info['chmod']}; {info['find']}; {info['strace']}",
        f"- Run as {info['user']}; load average {loads(info['load_average_at_start'])} at the start, "
        f"{loads(info['load_average_at_end'])} at the end",
    ]
    for name, _, render_section in SECTIONS:
        if name in results:
            lines += [""] + render_section(results[name])
    return lines


def main():
    if sys.version_info < (3, 9):
        sys.exit(f"bin/bench needs Python 3.9 or later, not {platform.python_version()}")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildpack", required=True, help="the packaged buildpack directory")
    parser.add_argument("--scratch", required=True, help="where trees and temporary files go")
    parser.add_argument("--sizes", type=parse_sizes, required=True, help="tree sizes in entries, e.g. 10k,100k,1M")
    parser.add_argument("--runs", type=int, required=True, help="timed runs of each command")
    parser.add_argument("--audit", help="the group-writable-audit binary (for the audit section)")
    parser.add_argument("--sections", default=",".join(name for name, _, _ in SECTIONS),
                        help="the sections to run, comma-separated (default: all)")
    parser.add_argument("--output", required=True,
                        help="the Markdown report; the raw figures go beside it, with the extension .json")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    known = [name for name, _, _ in SECTIONS]
    args.sections = [name.strip() for name in args.sections.split(",") if name.strip()]
    unknown = [name for name in args.sections if name not in known]
    if unknown or not args.sections:
        parser.error(f"--sections: unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(known)}")

    if "audit" in args.sections and not args.audit:
        parser.error("the audit section needs --audit BINARY")
    context = Context(args)
    os.makedirs(context.scratch, exist_ok=True)
    context.prepare_cnb_dirs()
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(context.scratch),
        "options": {"sizes": args.sizes, "runs": args.runs},
    }
    try:
        for name, measure, _ in SECTIONS:
            if name in args.sections:
                results[name] = measure(context)
    except run.BenchError as error:
        say(f"error: {error}")
        sys.exit(1)
    results["machine"]["load_average_at_end"] = os.getloadavg()

    report = "\n".join(render(results)) + "\n"
    output = os.path.abspath(args.output)
    raw = os.path.splitext(output)[0] + ".json"
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w") as report_file:
        report_file.write(report)
    with open(raw, "w") as raw_file:
        json.dump(results, raw_file, indent=2)
    print(report)
    say(f"report written to {args.output}, raw figures to {os.path.relpath(raw)}")


if __name__ == "__main__":
    main()
