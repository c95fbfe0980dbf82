//! The exec.d helper (`<layer>/exec.d/group-writable-redirects`): the CNB launcher runs it
//! before every app process. Everything but taking file descriptor 3 lives in the library
//! (`group_writable::helper`).

// The library's dependencies are not all this binary's.
#![allow(unused_crate_dependencies)]

use group_writable::helper::{self, OutputError, Process};
use std::os::fd::BorrowedFd;

/// The descriptor the launcher opens for an exec.d program's output.
const OUTPUT_FD: i32 = 3;

fn main() {
    let argv0 = std::env::args_os().next();
    let mut write_output = |bytes: &[u8]| -> Result<(), OutputError> {
        // SAFETY: `borrow_raw` asks that fd 3 stay open while borrowed. `write_all_to`
        // first asks the kernel with fcntl(F_GETFD), which answers EBADF for a closed
        // number without acting on any file, and returns `NotOpen` then; once it answers,
        // fd 3 is open, and nothing in this single-threaded process closes it before the
        // borrow ends with this call.
        #[allow(unsafe_code)]
        let fd = unsafe { BorrowedFd::borrow_raw(OUTPUT_FD) };
        helper::write_all_to(fd, bytes)
    };
    helper::main(Process {
        argv0: argv0.as_deref(),
        env: &|name| std::env::var_os(name),
        write_output: &mut write_output,
        stderr: &mut std::io::stderr(),
    });
}
