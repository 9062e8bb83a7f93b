/*
 * The suite shape of the 0.2 world, the C edition of the suite every SDK implements alike
 * (see host/tests/suite_structure.rs and test-packages/suite-shape): fixtures with a
 * config, a user skip, a comment, docs, a timetrap that fires and one cancelled. Every
 * call appends to /scratch/order.log, so the last case can check the order.
 * SUITE_INIT=fail|skip and SUITE_END=fail make the fixtures fail or skip.
 */
#include "host_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void note(const char *line) {
    FILE *log = fopen("/scratch/order.log", "a");
    if (log == NULL || fprintf(log, "%s\n", line) < 0 || fclose(log) != 0) {
        PANIC("scratch is writable");
    }
}

/* Sleep `ms` milliseconds as they are (not scaled: the timetraps are what is scaled). */
static void sleep_ms(long ms) {
    struct timespec wait = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&wait, NULL);
}

static void init(ht_config *config) {
    note("init");
    const char *mode = getenv("SUITE_INIT");
    if (ht_str_eq(mode, "fail")) {
        FAIL("init was told to fail");
    }
    if (ht_str_eq(mode, "skip")) {
        SKIP("init was told to skip");
    }
    ht_config_set(config, "init", "done");
}

static void end(const ht_config *config) {
    note("end");
    ASSERT_MSG(ht_str_eq(ht_config_get(config, "init"), "done"), "end sees init's config");
    if (ht_str_eq(getenv("SUITE_END"), "fail")) {
        FAIL("end was told to fail");
    }
}

static void init_case(const char *name, ht_config *config) {
    note(ht_format("init_case %s", name));
    if (strcmp(name, "init_case_fails_here") == 0) {
        FAIL("init-case refuses %s", name);
    }
    ht_config_set(config, "case", name);
}

static void end_case(const char *name, const ht_config *config) {
    note(ht_format("end_case %s", name));
    ASSERT_MSG(ht_str_eq(ht_config_get(config, "case"), name), "end-case sees init-case's config");
}

static void config_passes_through(const ht_config *config) {
    note("case config_passes_through");
    ASSERT_EQ_STR(ht_config_get(config, "init"), "done");
    ASSERT_EQ_STR(ht_config_get(config, "case"), "config_passes_through");
    ASSERT_EQ_STR(ht_config_get(config, "package"), "c-suite-shape");
}

static void skips_itself(const ht_config *config) {
    note("case skips_itself");
    SKIP("not on this platform");
}

static void leaves_a_comment(const ht_config *config) {
    note("case leaves_a_comment");
    ht_comment("first comment");
    bool paused = ht_break_here("look at %s", "first.dev");
    ht_comment("the answer is %d%s", 42, paused ? ", after a break" : "");
}

static void init_case_fails_here(const ht_config *config) {
    note("case init_case_fails_here");
    FAIL("never runs: its init-case fails");
}

static void timetrap_fires(const ht_config *config) {
    note("case timetrap_fires");
    ht_timetrap_set(500);
    sleep_ms(5000);
    FAIL("the timetrap did not fire");
}

static void cancelled_timetrap_does_not_fire(const ht_config *config) {
    note("case cancelled_timetrap_does_not_fire");
    ASSERT_MSG(ht_timetrap_scale_factor() == 1.0, "scale factor %g", ht_timetrap_scale_factor());
    ht_timetrap_set(300);
    ht_timetrap_cancel();
    sleep_ms(400);
}

static const char EXPECTED[] = "init\n"
                               "init_case config_passes_through\n"
                               "case config_passes_through\n"
                               "end_case config_passes_through\n"
                               "init_case skips_itself\n"
                               "case skips_itself\n"
                               "end_case skips_itself\n"
                               "init_case leaves_a_comment\n"
                               "case leaves_a_comment\n"
                               "end_case leaves_a_comment\n"
                               "init_case init_case_fails_here\n"
                               "init_case timetrap_fires\n"
                               "case timetrap_fires\n"
                               "end_case timetrap_fires\n"
                               "init_case cancelled_timetrap_does_not_fire\n"
                               "case cancelled_timetrap_does_not_fire\n"
                               "end_case cancelled_timetrap_does_not_fire\n"
                               "init_case order_is_kept\n"
                               "case order_is_kept\n";

static void order_is_kept(const ht_config *config) {
    note("case order_is_kept");
    FILE *log = fopen("/scratch/order.log", "r");
    ASSERT_MSG(log != NULL, "/scratch/order.log cannot be read");
    char text[4096];
    size_t len = fread(text, 1, sizeof text - 1, log);
    fclose(log);
    text[len] = '\0';
    ASSERT_MSG(ht_str_eq(text, EXPECTED), "the order of calls: %s", ht_quote(text));
}

static const ht_suite_case cases[] = {
    HT_CASE(config_passes_through, "init's and init-case's config reach the case"),
    HT_CASE(skips_itself, "skips itself with a reason"),
    HT_CASE(leaves_a_comment, "leaves a comment for the report"),
    HT_CASE(init_case_fails_here),
    HT_CASE(timetrap_fires, "a timetrap of 500 ms stops a case that sleeps 5 s"),
    HT_CASE(cancelled_timetrap_does_not_fire, "a cancelled timetrap lets the case sleep past it"),
    HT_CASE(order_is_kept, "fixtures and cases ran in suite order"),
};

HT_SUITE(cases, .init = init, .end = end, .init_case = init_case, .end_case = end_case);
