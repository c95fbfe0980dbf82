# shellcheck shell=bash
# The users of every test stack, defined once: Paketo jammy's ids. The build user (1001)
# and the run user (1002) differ and share one group (1000), as CNB RFC 0085 recommends.
# Sourced by tests/e2e/lib/stack.sh and tests/pack/lib/images.sh; read by the Rust tests
# at compile time (tests/support/mod.rs), so the three cannot drift apart. One NAME=digits
# per line.

# shellcheck disable=SC2034 # these constants are read by the files that source this one
STACK_GROUP_ID=1000
BUILD_USER_ID=1001
RUN_USER_ID=1002
