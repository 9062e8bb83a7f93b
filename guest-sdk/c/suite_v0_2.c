/*
 * suite_v0_2.c — the `suite` export of the 0.2 contract (wit/v0.2/tester.wit, world
 * `suite-tester`): the package's HT_SUITE mapped onto `list-cases`, `init`, `init-case`,
 * `run-case`, `end-case` and `end`; the config; comments and timetraps. The host drives
 * the order and does the accounting; each export only calls the package's function.
 * build.sh compiles it for a package of the `suite-tester` world (suite_v0_1.c is 0.1's).
 *
 * Ownership, as wit-bindgen's C bindings have the canonical ABI: an export owns its
 * arguments and frees them before it returns; what it returns is malloc'ed, one block per
 * non-empty string or list, and freed by the bindings' post-return (which frees only
 * non-empty ones: an empty string or list is {NULL, 0}). The SDK keeps no pointer into
 * either.
 */
#include "host_test_internal.h"

#include <stdlib.h>
#include <string.h>

typedef exports_host_test_0_2_0_suite_config_t wit_config;
typedef exports_host_test_0_2_0_suite_stop_t wit_stop;

/* ------------------------------------------------------------------------------------ */
/* The config                                                                           */

/* One pair. Its strings are in the call's memory (ht_alloc) and live until the call
 * ends, so a value read with ht_config_get stays valid after a later ht_config_set. */
typedef struct ht_config_pair {
    const char *key, *value;
    size_t key_len, value_len; /* the host's strings may hold NUL bytes: they pass through whole */
} ht_config_pair;

struct ht_config {
    ht_config_pair *pairs;
    size_t len, cap;
};

static bool key_is(const ht_config_pair *pair, const char *key) {
    size_t len = strlen(key);
    return pair->key_len == len && memcmp(pair->key, key, len) == 0;
}

const char *ht_config_get(const ht_config *config, const char *key) {
    if (config == NULL || key == NULL) {
        return NULL;
    }
    for (size_t i = config->len; i-- > 0;) {
        if (key_is(&config->pairs[i], key)) {
            return config->pairs[i].value;
        }
    }
    return NULL;
}

static void append(ht_config *config, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len) {
    if (config->len == config->cap) {
        size_t cap = config->cap ? config->cap * 2 : 8;
        ht_config_pair *grown = realloc(config->pairs, cap * sizeof *grown);
        if (grown == NULL) {
            PANIC("out of memory (a config of %zu pairs)", cap);
        }
        config->pairs = grown;
        config->cap = cap;
    }
    ht_config_pair *pair = &config->pairs[config->len++];
    pair->key = ht_internal_copy_n(key, key_len);
    pair->key_len = key_len;
    pair->value = ht_internal_copy_n(value, value_len);
    pair->value_len = value_len;
}

void ht_config_set(ht_config *config, const char *key, const char *value) {
    if (config == NULL || key == NULL) {
        PANIC("ht_config_set(%s, %s, ...): the config and the key must not be NULL", config ? "config" : "NULL",
              ht_quote(key));
    }
    size_t kept = 0;
    for (size_t i = 0; i < config->len; i++) {
        if (!key_is(&config->pairs[i], key)) {
            config->pairs[kept++] = config->pairs[i];
        }
    }
    config->len = kept;
    if (value != NULL) {
        append(config, (const uint8_t *)key, strlen(key), (const uint8_t *)value, strlen(value));
    }
}

size_t ht_config_len(const ht_config *config) {
    return config ? config->len : 0;
}

const char *ht_config_key(const ht_config *config, size_t index) {
    return config && index < config->len ? config->pairs[index].key : NULL;
}

const char *ht_config_value(const ht_config *config, size_t index) {
    return config && index < config->len ? config->pairs[index].value : NULL;
}

/* The config an export was given, copied into `config`; the argument is freed. (Not with
 * the bindings' `exports_host_test_0_2_0_suite_config_free`: wit-bindgen 0.63's frees the
 * list of the `config` alias but not the strings in it.) */
static void take_config(ht_config *config, wit_config *wit) {
    for (size_t i = 0; i < wit->len; i++) {
        c_guest_tuple2_string_string_t *pair = &wit->ptr[i];
        append(config, pair->f0.ptr, pair->f0.len, pair->f1.ptr, pair->f1.len);
        c_guest_string_free(&pair->f0);
        c_guest_string_free(&pair->f1);
    }
    if (wit->len > 0) {
        free(wit->ptr);
    }
    wit->ptr = NULL;
    wit->len = 0;
}

/* `config` as an export returns it (post-return frees it). */
static wit_config give_config(const ht_config *config) {
    wit_config wit = {NULL, 0};
    if (config->len == 0) {
        return wit;
    }
    wit.ptr = malloc(config->len * sizeof *wit.ptr);
    if (wit.ptr == NULL) {
        PANIC("out of memory (a config of %zu pairs)", config->len);
    }
    for (size_t i = 0; i < config->len; i++) {
        const ht_config_pair *pair = &config->pairs[i];
        wit.ptr[i].f0 = ht_internal_owned_wit_n((const uint8_t *)pair->key, pair->key_len);
        wit.ptr[i].f1 = ht_internal_owned_wit_n((const uint8_t *)pair->value, pair->value_len);
    }
    wit.len = config->len;
    return wit;
}

/* ------------------------------------------------------------------------------------ */
/* One call                                                                             */

/* A call of the suite: its name (a case, "init" or "end") and its config. */
typedef struct call {
    char *name;
    ht_config config;
} call;

/* Begin call `name` (the export's argument, freed; NULL for "init" and "end", which are
 * named by `fixture`) with the export's `config` (freed): the test's nodes are known. */
static call begin(c_guest_string_t *name, const char *fixture, wit_config *config) {
    call c = {NULL, {NULL, 0, 0}};
    c.name = name ? strndup((const char *)name->ptr, name->len) : strdup(fixture);
    if (name) {
        c_guest_string_free(name);
    }
    if (c.name == NULL) {
        PANIC("out of memory (a call's name)");
    }
    ht_internal_begin_call(c.name);
    host_test_nodes_list_node_info_t all;
    host_test_nodes_all(&all);
    c_guest_string_t *names = calloc(all.len + 1, sizeof *names);
    if (names == NULL) {
        PANIC("out of memory (%zu node names)", all.len);
    }
    for (size_t i = 0; i < all.len; i++) {
        names[i] = all.ptr[i].name;
    }
    /* 0.2 has no request budget: the host bounds each call. */
    ht_internal_set_nodes(names, all.len, UINT64_MAX);
    free(names);
    host_test_nodes_list_node_info_free(&all);
    take_config(&c.config, config);
    return c;
}

/* End the call: whether it ran to its end; if it did and `ret` is given, the config it
 * leaves in `*ret`; if it stopped, why in `*err` (a skip, or a failure of `c->name`). */
static bool finish(call *c, wit_config *ret, wit_stop *err) {
    const ht_call_stop *stop = ht_internal_stop();
    bool ok = stop->kind == HT_STOP_NONE;
    if (stop->kind == HT_STOP_SKIP) {
        err->tag = HOST_TEST_0_2_0_TYPES_STOP_SKIP;
        err->val.skip = ht_internal_owned_wit(stop->message);
    } else if (stop->kind == HT_STOP_FAIL) {
        err->tag = HOST_TEST_0_2_0_TYPES_STOP_FAIL;
        host_test_0_2_0_types_fail_response_t *fail = &err->val.fail;
        fail->test = ht_internal_owned_wit(c->name);
        fail->file = ht_internal_owned_wit(stop->file);
        fail->line = stop->line;
        fail->column = stop->column;
        fail->message = ht_internal_owned_wit(stop->message);
    } else if (ret != NULL) {
        *ret = give_config(&c->config);
    }
    /* The values above are copies: the call's memory, its connections and its stop go. */
    ht_internal_end_call();
    ht_internal_reset_call();
    ht_internal_clear_nodes();
    free(c->config.pairs);
    free(c->name);
    return ok;
}

static const ht_suite_case *find_case(const char *name) {
    for (size_t i = 0; i < ht_suite_definition.case_count; i++) {
        const char *known = ht_suite_definition.cases[i].name;
        if (known != NULL && strcmp(known, name) == 0) {
            return &ht_suite_definition.cases[i];
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* The exported `suite`                                                                 */

void exports_host_test_0_2_0_suite_list_cases(exports_host_test_0_2_0_suite_list_case_info_t *ret) {
    size_t count = ht_suite_definition.case_count;
    ret->len = count;
    ret->ptr = count ? malloc(count * sizeof *ret->ptr) : NULL;
    if (count && ret->ptr == NULL) {
        PANIC("out of memory (%zu cases)", count);
    }
    for (size_t i = 0; i < count; i++) {
        const ht_suite_case *c = &ht_suite_definition.cases[i];
        ret->ptr[i].name = ht_internal_owned_wit(c->name);
        ret->ptr[i].doc = ht_internal_owned_wit(c->doc);
    }
}

bool exports_host_test_0_2_0_suite_init(wit_config *config, wit_config *ret, wit_stop *err) {
    call c = begin(NULL, "init", config);
    if (ht_suite_definition.init) {
        ht_suite_definition.init(&c.config);
    }
    return finish(&c, ret, err);
}

bool exports_host_test_0_2_0_suite_init_case(c_guest_string_t *name, wit_config *config, wit_config *ret,
                                             wit_stop *err) {
    call c = begin(name, NULL, config);
    if (ht_suite_definition.init_case) {
        ht_suite_definition.init_case(c.name, &c.config);
    }
    return finish(&c, ret, err);
}

bool exports_host_test_0_2_0_suite_run_case(c_guest_string_t *name, wit_config *config, wit_stop *err) {
    call c = begin(name, NULL, config);
    const ht_suite_case *found = find_case(c.name);
    if (found == NULL) {
        /* The host asks only for names list-cases returned: a last line of defence. */
        ht_fail_at("<request>", 0, 0, "no case named %s", ht_quote(c.name));
    } else {
        found->run(&c.config);
    }
    return finish(&c, NULL, err);
}

bool exports_host_test_0_2_0_suite_end_case(c_guest_string_t *name, wit_config *config, wit_stop *err) {
    call c = begin(name, NULL, config);
    if (ht_suite_definition.end_case) {
        ht_suite_definition.end_case(c.name, &c.config);
    }
    return finish(&c, NULL, err);
}

bool exports_host_test_0_2_0_suite_end(wit_config *config, wit_stop *err) {
    call c = begin(NULL, "end", config);
    if (ht_suite_definition.end) {
        ht_suite_definition.end(&c.config);
    }
    return finish(&c, NULL, err);
}

/* ------------------------------------------------------------------------------------ */
/* Comments, breaks and timetraps                                                       */

/* The printf-style text of fmt and args as a contract string (in ht_vformat's buffer). */
static c_guest_string_t guest_text(const char *fmt, va_list args) {
    const char *text = ht_vformat(fmt, args);
    return (c_guest_string_t){(uint8_t *)text, strlen(text)};
}

void ht_comment(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    c_guest_string_t comment = guest_text(fmt, args);
    va_end(args);
    host_test_0_2_0_annotate_comment(&comment);
}

bool ht_break_here(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    c_guest_string_t comment = guest_text(fmt, args);
    va_end(args);
    return host_test_0_2_0_breaks_break_here(&comment);
}

void ht_timetrap_set(uint64_t ms) {
    host_test_0_2_0_timetrap_set(ms);
}

void ht_timetrap_cancel(void) {
    host_test_0_2_0_timetrap_cancel();
}

double ht_timetrap_scale_factor(void) {
    return host_test_0_2_0_timetrap_scale_factor();
}
