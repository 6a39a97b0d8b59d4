/* A YAML configuration file of the official NVIDIA code (UNIT's
 * configs/unit_*.yaml) read as flat keys: nested mappings joined with
 * dots ("gen.dim"), each scalar with its line. Read with libyaml; lists,
 * anchors and aliases are refused. */
#ifndef UG_CLI_YAML_CONFIG_H
#define UG_CLI_YAML_CONFIG_H

#include <stddef.h>

#include "core/error.h"

typedef struct cli_yaml_entry {
    char *key, *value;
    int line; /* 1-based */
} cli_yaml_entry;

typedef struct cli_yaml {
    cli_yaml_entry *e;
    size_t n, cap;
} cli_yaml;

/* Reads path; a malformed file is an error naming it and the line. */
int cli_yaml_load(cli_yaml *y, const char *path, ug_error *err);
/* The entry of key, or NULL. */
const cli_yaml_entry *cli_yaml_find(const cli_yaml *y, const char *key);
void cli_yaml_free(cli_yaml *y);

#endif
