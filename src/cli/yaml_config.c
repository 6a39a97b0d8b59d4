/* The official YAML configuration as flat keys (see yaml_config.h). */
#include "cli/yaml_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 8

static int add(cli_yaml *y, const char *key, const char *value, int line)
{
    if (y->n == y->cap) {
        size_t cap = y->cap ? 2 * y->cap : 64;
        cli_yaml_entry *e = realloc(y->e, cap * sizeof *e);
        if (!e)
            return -1;
        y->e = e, y->cap = cap;
    }
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k), free(v);
        return -1;
    }
    y->e[y->n++] = (cli_yaml_entry){k, v, line};
    return 0;
}

/* The walk through the events: a stack of the open mappings' keys, and
 * whether the next scalar of the innermost one is a key or a value. */
typedef struct walk {
    char prefix[MAX_DEPTH][128];
    int depth, want_key;
    char key[128];
} walk;

static void full_key(const walk *w, char *out, size_t n)
{
    out[0] = '\0';
    for (int i = 1; i < w->depth; i++)
        snprintf(out + strlen(out), n - strlen(out), "%s.", w->prefix[i]);
    snprintf(out + strlen(out), n - strlen(out), "%s", w->key);
}

static int step(cli_yaml *y, walk *w, const yaml_event_t *ev, const char *path, ug_error *err)
{
    const int line = (int)ev->start_mark.line + 1;
    char key[1024];
    switch (ev->type) {
    case YAML_MAPPING_START_EVENT:
        if (w->depth > 0 && w->want_key)
            return ug_fail(err, "%s:%d: a mapping as a key", path, line);
        if (w->depth == MAX_DEPTH)
            return ug_fail(err, "%s:%d: nested deeper than %d", path, line, MAX_DEPTH);
        snprintf(w->prefix[w->depth], sizeof w->prefix[0], "%s", w->depth ? w->key : "");
        w->depth++, w->want_key = 1;
        return 0;
    case YAML_MAPPING_END_EVENT:
        w->depth--, w->want_key = 1;
        return 0;
    case YAML_SCALAR_EVENT: {
        const char *s = (const char *)ev->data.scalar.value;
        if (w->depth == 0)
            return ug_fail(err, "%s:%d: not a mapping of keys to values", path, line);
        if (w->want_key) {
            if (strlen(s) >= sizeof w->key)
                return ug_fail(err, "%s:%d: a key of %zu characters", path, line, strlen(s));
            snprintf(w->key, sizeof w->key, "%s", s);
            w->want_key = 0;
            return 0;
        }
        full_key(w, key, sizeof key);
        if (cli_yaml_find(y, key))
            return ug_fail(err, "%s:%d: '%s' given twice", path, line, key);
        w->want_key = 1;
        return add(y, key, s, line) < 0 ? ug_fail(err, "out of memory") : 0;
    }
    case YAML_SEQUENCE_START_EVENT:
        return ug_fail(err, "%s:%d: a list, which no key of the configuration takes", path, line);
    case YAML_ALIAS_EVENT:
        return ug_fail(err, "%s:%d: an alias (*name), which this reader does not follow", path,
                       line);
    default:
        return 0;
    }
}

int cli_yaml_load(cli_yaml *y, const char *path, ug_error *err)
{
    memset(y, 0, sizeof *y);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return ug_fail(err, "%s: cannot open", path);
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        fclose(fp);
        return ug_fail(err, "out of memory for the YAML parser");
    }
    yaml_parser_set_input_file(&p, fp);
    walk w = {.depth = 0, .want_key = 1};
    int rc = 0, done = 0;
    while (rc == 0 && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = ug_fail(err, "%s:%d: %s", path, (int)p.problem_mark.line + 1,
                         p.problem ? p.problem : "not YAML");
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        rc = step(y, &w, &ev, path, err);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    fclose(fp);
    if (rc < 0)
        cli_yaml_free(y);
    return rc;
}

const cli_yaml_entry *cli_yaml_find(const cli_yaml *y, const char *key)
{
    for (size_t i = 0; i < y->n; i++)
        if (strcmp(y->e[i].key, key) == 0)
            return &y->e[i];
    return NULL;
}

void cli_yaml_free(cli_yaml *y)
{
    for (size_t i = 0; i < y->n; i++) {
        free(y->e[i].key);
        free(y->e[i].value);
    }
    free(y->e);
    memset(y, 0, sizeof *y);
}
