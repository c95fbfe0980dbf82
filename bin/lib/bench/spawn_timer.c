/*
 * spawn_timer ROUNDS PROGRAM...: times each program from spawn to exit, ROUNDS times,
 * alternating the programs (the order rotates every round, after one untimed warm-up
 * round), and prints one line per program: its path, then every sample in microseconds.
 *
 * Each program is started as the CNB launcher starts an exec.d program: by its absolute
 * path (argv[0]), with this process's environment, its standard output and error on
 * /dev/null, and file descriptor 3 open on a pipe. The pipe is read after the program
 * exits, untimed (a pipe holds far more than an exec.d program writes).
 *
 * Written in C rather than in the Python of the rest of the benchmark: a spawn from
 * Python costs more than the programs measured here, and would hide their differences.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

extern char **environ;

static double elapsed_us(const struct timespec *from, const struct timespec *to) {
    return (double)(to->tv_sec - from->tv_sec) * 1e6 + (double)(to->tv_nsec - from->tv_nsec) / 1e3;
}

/* One run of `program`; returns its time in microseconds, or a negative number if it
 * could not be started or did not exit 0. */
static double run_once(const char *program, int devnull) {
    int output[2];
    if (pipe(output) != 0) return -1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, output[1], 3);
    posix_spawn_file_actions_adddup2(&actions, devnull, 1);
    posix_spawn_file_actions_adddup2(&actions, devnull, 2);
    posix_spawn_file_actions_addclose(&actions, output[0]);
    char *argv[] = {(char *)program, NULL};
    struct timespec started, ended;
    pid_t pid;
    int status = 0;
    clock_gettime(CLOCK_MONOTONIC, &started);
    int spawned = posix_spawn(&pid, program, &actions, NULL, argv, environ);
    if (spawned == 0) waitpid(pid, &status, 0);
    clock_gettime(CLOCK_MONOTONIC, &ended);
    posix_spawn_file_actions_destroy(&actions);
    close(output[1]);
    char buffer[4096];
    while (read(output[0], buffer, sizeof buffer) > 0) {
    }
    close(output[0]);
    if (spawned != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
    return elapsed_us(&started, &ended);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s ROUNDS PROGRAM...\n", argv[0]);
        return 2;
    }
    int rounds = atoi(argv[1]);
    int programs = argc - 2;
    if (rounds < 1) {
        fprintf(stderr, "ROUNDS must be at least 1\n");
        return 2;
    }
    double *samples = calloc((size_t)rounds * (size_t)programs, sizeof *samples);
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (samples == NULL || devnull < 0) return 2;
    for (int round = -1; round < rounds; round++) {
        for (int turn = 0; turn < programs; turn++) {
            int program = (turn + (round < 0 ? 0 : round)) % programs;
            double sample = run_once(argv[2 + program], devnull);
            if (sample < 0) {
                fprintf(stderr, "%s could not be run, or did not exit 0\n", argv[2 + program]);
                return 1;
            }
            if (round >= 0) samples[(size_t)program * (size_t)rounds + (size_t)round] = sample;
        }
    }
    for (int program = 0; program < programs; program++) {
        printf("%s", argv[2 + program]);
        for (int round = 0; round < rounds; round++)
            printf(" %.1f", samples[(size_t)program * (size_t)rounds + (size_t)round]);
        printf("\n");
    }
    return 0;
}
