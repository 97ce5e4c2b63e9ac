/* tap.h: the few TAP helpers the C unit tests need. Each t/unit/test_*.c
 * is a TAP program of its own: its checks, then the plan (tap_done).
 * Inline, so that a program that uses only some of them builds without
 * warnings. */
#ifndef TAP_H
#define TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, name) \
    tap_is_str((got), (want), (name), __FILE__, __LINE__)

static inline void tap_ok(int pass, const char *file, int line, const char *name)
{
    tap_n++;
    printf("%sok %d - %s\n", pass ? "" : "not ", tap_n, name);
    if (!pass) {
        tap_failed++;
        printf("#   failed at %s line %d\n", file, line);
    }
}

static inline void tap_is_str(const char *got, const char *want, const char *name,
                       const char *file, int line)
{
    int pass = got && want ? !strcmp(got, want) : got == want;

    tap_ok(pass, file, line, name);
    if (!pass) {
        printf("#   got: %s\n#   expected: %s\n", got ? got : "(null)",
               want ? want : "(null)");
    }
}

static inline int tap_done(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
