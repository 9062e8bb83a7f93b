/*
 * suite_v0_1.c — the `suite` export of the 0.1 contract (wit/tester.wit): the cases
 * TEST_CASE registers, `list-cases` and `handle`. build.sh compiles it for a package of
 * the `tester` world (suite_v0_2.c is 0.2's).
 */
#include "host_test_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct ht_case {
    const char *name;
    ht_case_fn run;
} ht_case;

static ht_case *cases;
static size_t case_count, case_cap;

void ht_register_case(const char *name, ht_case_fn run) {
    if (case_count == case_cap) {
        case_cap = case_cap ? case_cap * 2 : 16;
        cases = realloc(cases, case_cap * sizeof *cases);
        if (cases == NULL) {
            __builtin_trap();
        }
    }
    cases[case_count].name = name;
    cases[case_count].run = run;
    case_count++;
}

void exports_host_test_suite_list_cases(c_guest_list_string_t *ret) {
    ret->len = case_count;
    ret->ptr = case_count ? malloc(case_count * sizeof *ret->ptr) : NULL;
    for (size_t i = 0; i < case_count; i++) {
        ret->ptr[i] = ht_internal_owned_wit(cases[i].name);
    }
}

static void respond_failure(exports_host_test_suite_response_t *ret, const char *test, const char *file,
                            unsigned line, unsigned column, const char *message) {
    ret->val.run.is_err = true;
    host_test_protocol_fail_response_t *fail = &ret->val.run.val.err;
    fail->test = ht_internal_owned_wit(test);
    fail->file = ht_internal_owned_wit(file);
    fail->line = line;
    fail->column = column;
    fail->message = ht_internal_owned_wit(message);
}

static const ht_case *find_case(const c_guest_string_t *name) {
    for (size_t i = 0; i < case_count; i++) {
        if (strlen(cases[i].name) == name->len && memcmp(cases[i].name, name->ptr, name->len) == 0) {
            return &cases[i];
        }
    }
    return NULL;
}

static void run_case(const ht_case *c) {
    ht_internal_begin_call(c->name);
    c->run();
    ht_internal_end_call();
}

void exports_host_test_suite_handle(exports_host_test_suite_request_t *req, exports_host_test_suite_response_t *ret) {
    host_test_protocol_run_request_t *run = &req->val.run;
    ret->tag = HOST_TEST_PROTOCOL_RESPONSE_RUN;
    ret->val.run.is_err = false;

    ht_internal_set_nodes(run->input_node_names.ptr, run->input_node_names.len, run->test_timeout);

    /* The selected cases, in the request's order; all of them when it names none. */
    size_t selected_count = run->test_names.len ? run->test_names.len : case_count;
    const ht_case **selected = calloc(selected_count + 1, sizeof *selected);
    bool known = true;
    for (size_t i = 0; i < run->test_names.len && known; i++) {
        selected[i] = find_case(&run->test_names.ptr[i]);
        if (selected[i] == NULL) {
            known = false;
            const c_guest_string_t *name = &run->test_names.ptr[i];
            size_t list_len = 1;
            for (size_t j = 0; j < case_count; j++) {
                list_len += strlen(cases[j].name) + 2;
            }
            char *list = calloc(list_len, 1);
            for (size_t j = 0; j < case_count; j++) {
                if (j) strcat(list, ", ");
                strcat(list, cases[j].name);
            }
            char *wanted = strndup((const char *)name->ptr, name->len);
            const char *message = ht_format("no case named %s (cases: %s)", ht_quote(wanted), list);
            respond_failure(ret, wanted, "<request>", 0, 0, message);
            free(wanted);
            free(list);
            ht_internal_end_call();
        }
    }
    if (run->test_names.len == 0) {
        for (size_t i = 0; i < case_count; i++) {
            selected[i] = &cases[i];
        }
    }

    for (size_t i = 0; known && i < selected_count; i++) {
        run_case(selected[i]);
        const ht_call_stop *stop = ht_internal_stop();
        if (stop->kind == HT_STOP_FAIL) {
            respond_failure(ret, selected[i]->name, stop->file, stop->line, stop->column, stop->message);
            break;
        }
    }
    ht_internal_reset_call();
    free(selected);
    ht_internal_clear_nodes();
    exports_host_test_suite_request_free(req);
}
