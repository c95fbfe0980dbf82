"""Benchmark trees: an app directory whose `node_modules` has a given number of entries.

The shape follows what `npm install` leaves: many packages (some scoped), each with a
`package.json`, a README, a licence and a few source directories several levels deep; some
packages carry their own nested `node_modules`; packages with executables are linked from
`node_modules/.bin`; a few other symlinks (`index.d.ts -> dist/index.d.ts`, a workspace
package linked as a directory, a dangling one). About 1% of the files are `*.log`.

Everything derives from one seeded generator, so a given size and seed always make the
same tree. Files are empty: the walk and `chmod` never read contents, and a million
non-empty files would need gigabytes of data blocks. Modes are what umask 022 gives
(directories 0755, files 0644, executables 0755).

A generated tree is kept (with a stamp recording the generator's own source hash, the
seed and the size) and reused while none of them changed.
"""

import hashlib
import json
import os
import random
import shutil

SEED = 20240605
LOG_FRACTION = 0.01

SOURCE_DIRS = ["lib", "dist", "src", "build", "types", "esm", "cjs", "es", "internal", "utils"]
SOURCE_STEMS = ["index", "util", "parse", "core", "main", "helpers", "types", "compat",
                "stream", "errors", "constants", "format", "plugin", "runtime", "polyfill"]
SOURCE_EXTENSIONS = [".js", ".js", ".js", ".cjs", ".mjs", ".d.ts", ".js.map", ".json", ".ts"]
LOG_STEMS = ["npm-debug", "yarn-error", "build", "install", "test-output"]
WORDS = ["lodash", "react", "chalk", "debug", "semver", "glob", "minimatch", "yargs", "uuid",
         "ms", "acorn", "babel", "eslint", "postcss", "webpack", "rollup", "esbuild", "jest",
         "tslib", "rxjs", "axios", "express", "ws", "mime", "qs", "bn", "colors", "commander"]
SCOPES = ["@babel", "@types", "@jest", "@eslint", "@smithy", "@aws-sdk", "@rollup", "@vue"]


class Full(Exception):
    """The tree has reached its number of entries."""


class TreeBuilder:
    """Creates entries relative to directory descriptors, counting them, until full."""

    def __init__(self, entries, seed):
        self.limit = entries
        self.rng = random.Random(seed)
        self.counts = {"directories": 0, "files": 0, "symlinks": 0, "logs": 0}
        self.package_serial = 0

    @property
    def total(self):
        return self.counts["directories"] + self.counts["files"] + self.counts["symlinks"]

    def _take(self, kind):
        if self.total >= self.limit:
            raise Full()
        self.counts[kind] += 1

    def directory(self, parent_fd, name):
        self._take("directories")
        os.mkdir(name, 0o777, dir_fd=parent_fd)
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=parent_fd)

    def file(self, parent_fd, name, executable=False):
        self._take("files")
        if name.endswith(".log"):
            self.counts["logs"] += 1
        mode = 0o777 if executable else 0o666
        os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode, dir_fd=parent_fd))

    def symlink(self, parent_fd, name, target):
        self._take("symlinks")
        os.symlink(target, name, dir_fd=parent_fd)

    def source_files(self, directory_fd, how_many):
        """`how_many` files with distinct names; each is a `*.log` with probability 1%."""
        for index in range(how_many):
            if self.rng.random() < LOG_FRACTION:
                name = f"{self.rng.choice(LOG_STEMS)}-{index}.log"
            else:
                name = f"{self.rng.choice(SOURCE_STEMS)}{index}{self.rng.choice(SOURCE_EXTENSIONS)}"
            self.file(directory_fd, name)

    def source_tree(self, directory_fd, depth):
        """Small files, and below them up to three subdirectories, fewer the deeper."""
        self.source_files(directory_fd, self.rng.randint(1, 12))
        if depth >= 6:
            return
        for index in range(self.rng.choice([0, 0, 1, 1, 2, 3])):
            child = self.directory(directory_fd, f"{self.rng.choice(SOURCE_DIRS)}{index}")
            try:
                self.source_tree(child, depth + 1)
            finally:
                os.close(child)

    def package(self, modules_fd, bin_fd, nesting):
        """One installed package, in `modules_fd` (a `node_modules` directory)."""
        self.package_serial += 1
        name = f"{self.rng.choice(WORDS)}-{self.package_serial}"
        parent_fd, scope_fd = modules_fd, None
        if self.rng.random() < 0.15:
            scope = self.rng.choice(SCOPES)
            try:
                scope_fd = os.open(scope, os.O_RDONLY | os.O_DIRECTORY, dir_fd=modules_fd)
            except FileNotFoundError:
                scope_fd = self.directory(modules_fd, scope)
            parent_fd = scope_fd
            link_prefix = f"../{scope}/{name}"
        else:
            link_prefix = f"../{name}"
        package_fd = None
        try:
            package_fd = self.directory(parent_fd, name)
            for metadata in ["package.json", "README.md", "LICENSE"]:
                self.file(package_fd, metadata)
            if self.rng.random() < 0.5:
                self.file(package_fd, "CHANGELOG.md")
            for index in range(self.rng.randint(1, 3)):
                child = self.directory(package_fd, f"{self.rng.choice(SOURCE_DIRS)}{index}")
                try:
                    self.source_tree(child, 1)
                finally:
                    os.close(child)
            if self.rng.random() < 0.1:
                self.symlink(package_fd, "index.d.ts", "dist/index.d.ts")
            if bin_fd is not None and self.rng.random() < 0.15:
                bin_dir = self.directory(package_fd, "bin")
                try:
                    self.file(bin_dir, f"{name}.js", executable=True)
                finally:
                    os.close(bin_dir)
                self.symlink(bin_fd, name, f"{link_prefix}/bin/{name}.js")
            if nesting < 2 and self.rng.random() < 0.12:
                nested = self.directory(package_fd, "node_modules")
                try:
                    for _ in range(self.rng.randint(1, 4)):
                        self.package(nested, None, nesting + 1)
                finally:
                    os.close(nested)
        finally:
            if package_fd is not None:
                os.close(package_fd)
            if scope_fd is not None:
                os.close(scope_fd)

    def app(self, app_fd):
        """The app directory: `package.json`, then `node_modules` until the tree is full."""
        self.file(app_fd, "package.json")
        modules = self.directory(app_fd, "node_modules")
        try:
            bin_fd = self.directory(modules, ".bin")
            try:
                # A workspace package linked as a directory, and a link that dangles: the
                # walk must neither follow nor change either.
                self.symlink(modules, "workspace-package", "..")
                self.symlink(modules, "dangling", "../does-not-exist")
                while True:
                    self.package(modules, bin_fd, 0)
            finally:
                os.close(bin_fd)
        finally:
            os.close(modules)


def generator_version():
    with open(__file__, "rb") as source:
        return hashlib.sha256(source.read()).hexdigest()[:16]


def generate(app_dir, entries, seed=SEED):
    """Creates `app_dir` with exactly `entries` entries below it; returns the counts."""
    old_umask = os.umask(0o022)
    try:
        os.mkdir(app_dir, 0o777)
        app_fd = os.open(app_dir, os.O_RDONLY | os.O_DIRECTORY)
        builder = TreeBuilder(entries, seed)
        try:
            builder.app(app_fd)
        except Full:
            pass
        finally:
            os.close(app_fd)
    finally:
        os.umask(old_umask)
    return dict(builder.counts, entries=builder.total)


def ensure_tree(directory, entries, log=print):
    """The stamp of the tree in `directory` (its app directory is `directory/app`),
    generating it first unless an identical one is already there."""
    stamp_path = os.path.join(directory, "tree.json")
    wanted = {"generator": generator_version(), "seed": SEED, "entries": entries}
    try:
        with open(stamp_path) as stamp_file:
            stamp = json.load(stamp_file)
        if all(stamp.get(key) == value for key, value in wanted.items()):
            return stamp
    except (OSError, ValueError):
        pass
    log(f"generating a tree of {entries} entries in {directory} (kept for later runs)")
    if os.path.lexists(directory):
        shutil.rmtree(directory)
    os.makedirs(directory)
    staging = os.path.join(directory, "app.partial")
    counts = generate(staging, entries)
    os.rename(staging, os.path.join(directory, "app"))
    stamp = dict(wanted, **counts)
    with open(stamp_path + ".partial", "w") as stamp_file:
        json.dump(stamp, stamp_file, indent=2)
    os.rename(stamp_path + ".partial", stamp_path)
    return stamp
