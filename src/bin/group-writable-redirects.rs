//! The exec.d helper (`<layer>/exec.d/group-writable-redirects`): the CNB launcher runs it
//! before every app process. Everything but the process's edges (its arguments, file
//! descriptor 3) lives in the library (`group_writable_launch::helper`, crate `crates/launch`).
//!
//! It runs at every container start, so it takes the shortest way there:
//!
//! - the C entry point instead of Rust's `main`: the standard runtime's set-up (checking
//!   the standard descriptors, an alternate signal stack for stack-overflow reports,
//!   ignoring SIGPIPE) costs as many system calls as the helper's own work, and it needs
//!   none of it: it reports its own panics (below), and writes only to fd 3, which the
//!   launcher reads to the end, and to stderr, which is the app's own;
//! - the environment read in place from `main`'s `envp`: `std::env::var_os` takes a lock
//!   and copies each value to the heap, and the allocator's set-up alone costs more than
//!   the rest of the helper (measured: see BENCHMARKS.md).
#![no_main]
// The library's dependencies are not all this binary's.
#![allow(unused_crate_dependencies)]

use group_writable_launch::helper::{self, OutputError, Process};
use group_writable_launch::messages::{self, Problem};
use std::ffi::{CStr, OsStr, c_char, c_int};
use std::io::Write as _;
use std::marker::PhantomData;
use std::os::fd::BorrowedFd;
use std::os::unix::ffi::OsStrExt as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The descriptor the launcher opens for an exec.d program's output.
const OUTPUT_FD: i32 = 3;

/// The environment the process started with, as the C runtime passed it to `main`.
struct StartEnvironment {
    entries: *const *const c_char,
    /// The strings live as long as the process.
    lifetime: PhantomData<&'static CStr>,
}

impl StartEnvironment {
    /// The value of the first `name=value` entry, as `getenv` finds it.
    fn get(&self, name: &str) -> Option<&'static OsStr> {
        let mut entry = self.entries;
        if entry.is_null() {
            return None;
        }
        loop {
            // SAFETY: `entries` is the NULL-terminated `envp` array the C runtime passed
            // to `main`: every element up to the NULL one points to a NUL-terminated
            // string that lives, unchanged (nothing in this process sets variables), as
            // long as the process; the loop stops at the NULL element.
            #[allow(unsafe_code)]
            let text = unsafe {
                let pointer = *entry;
                if pointer.is_null() {
                    return None;
                }
                entry = entry.add(1);
                CStr::from_ptr(pointer)
            };
            if let Some(value) = text
                .to_bytes()
                .strip_prefix(name.as_bytes())
                .and_then(|rest| rest.strip_prefix(b"="))
            {
                return Some(OsStr::from_bytes(value));
            }
        }
    }
}

/// The process's entry point, called by the C runtime. Always returns 0: a non-zero exit
/// would make the launcher abort and the app not start.
// `no_mangle` names the symbol `main`, which the C runtime calls; this binary links no
// other definition of it (that is what `#![no_main]` is for).
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
extern "C" fn main(
    argument_count: c_int,
    arguments: *const *const c_char,
    environment: *const *const c_char,
) -> c_int {
    // SAFETY: the C runtime passes `argument_count` pointers in `arguments`, each to a
    // NUL-terminated string that lives as long as the process; the first is argv[0].
    let argv0 = (argument_count > 0 && !arguments.is_null())
        .then(|| unsafe { *arguments })
        .filter(|first| !first.is_null())
        .map(|first| OsStr::from_bytes(unsafe { CStr::from_ptr(first) }.to_bytes()));
    let environment = StartEnvironment {
        entries: environment,
        lifetime: PhantomData,
    };
    let run = catch_unwind(AssertUnwindSafe(|| {
        let mut write_output = |bytes: &[u8]| -> Result<(), OutputError> {
            // SAFETY: `borrow_raw` asks that fd 3 stay open while borrowed.
            // `write_all_to` first asks the kernel with fcntl(F_GETFD), which answers
            // EBADF for a closed number without acting on any file, and returns `NotOpen`
            // then; once it answers, fd 3 is open, and nothing in this single-threaded
            // process closes it before the borrow ends with this call.
            #[allow(unsafe_code)]
            let fd = unsafe { BorrowedFd::borrow_raw(OUTPUT_FD) };
            helper::write_all_to(fd, bytes)
        };
        helper::run(Process {
            argv0,
            env: &|name| environment.get(name),
            write_output: &mut write_output,
            stderr: &mut std::io::stderr(),
        });
    }));
    if run.is_err() {
        // The panic message is already on stderr; say what it means for the app.
        let line = messages::line(&Problem::Panicked.to_string(), 0);
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
    0
}
