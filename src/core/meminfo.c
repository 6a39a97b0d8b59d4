#include "core/meminfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TEXT_MAX = 16384 };

/* A small file's text, NUL-terminated, into buf; 0 when it cannot be read. */
static int read_text(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0;
}

/* The number after "key" at the start of a line of text (key includes its
 * separator); 0 when the text has no such line or it holds no number. */
static int field(const char *text, const char *key, uint64_t *out)
{
    const size_t len = strlen(key);
    for (const char *line = text; *line;) {
        if (strncmp(line, key, len) == 0) {
            char *end;
            unsigned long long v = strtoull(line + len, &end, 10);
            if (end == line + len)
                return 0;
            *out = v;
            return 1;
        }
        const char *nl = strchr(line, '\n');
        if (!nl)
            return 0;
        line = nl + 1;
    }
    return 0;
}

/* dir/name's text into buf; 0 when the path is too long or the file cannot
 * be read. */
static int read_in(const char *dir, const char *name, char *buf, size_t cap)
{
    char path[4400];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    return n > 0 && (size_t)n < sizeof path && read_text(path, buf, cap);
}

/* The memory cgroup at dir: its limit less its working set, into *left; 0
 * where it sets no limit or its files cannot be read. */
static int cgroup_left(const char *dir, int v1, uint64_t *left)
{
    char text[TEXT_MAX];
    uint64_t limit, usage, inactive = 0;
    /* v2 writes "max" for none, v1 a page-rounded 2^63 */
    if (!read_in(dir, v1 ? "memory.limit_in_bytes" : "memory.max", text, sizeof text) ||
        !field(text, "", &limit) || limit >= (uint64_t)1 << 62)
        return 0;
    if (!read_in(dir, v1 ? "memory.usage_in_bytes" : "memory.current", text, sizeof text) ||
        !field(text, "", &usage))
        return 0;
    if (read_in(dir, "memory.stat", text, sizeof text))
        field(text, v1 ? "total_inactive_file " : "inactive_file ", &inactive);
    const uint64_t held = usage > inactive ? usage - inactive : 0;
    *left = limit > held ? limit - held : 0;
    return 1;
}

/* The least left over the cgroup at base + path and those above it up to
 * base, into *best. */
static void walk_up(const char *base, const char *path, int v1, uint64_t *best)
{
    char dir[4200];
    int n = snprintf(dir, sizeof dir, "%s%s", base, path);
    if (n < 0 || (size_t)n >= sizeof dir)
        return;
    const size_t stop = strlen(base);
    for (;;) {
        uint64_t left;
        if (cgroup_left(dir, v1, &left) && left < *best)
            *best = left;
        char *slash = strrchr(dir + stop, '/');
        if (!slash)
            return;
        *slash = '\0';
    }
}

int ug_mem_available_at(const char *proc, const char *sys_cgroup, uint64_t *bytes)
{
    char text[TEXT_MAX], base[4200];
    uint64_t best = UINT64_MAX, kb;
    if (read_in(proc, "meminfo", text, sizeof text) && field(text, "MemAvailable:", &kb))
        best = kb * 1024;
    if (read_in(proc, "self/cgroup", text, sizeof text)) {
        /* Lines "ID:CONTROLLERS:PATH": v1's memory hierarchy names the
         * controller, v2's unified one has none (mounted at sys_cgroup, or at
         * sys_cgroup/unified beside v1's). */
        for (char *line = text; line && *line;) {
            char *next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
            if (c2 && c2[1] == '/') {
                *c2 = '\0';
                const char *ctl = c1 + 1, *cg = c2[1] && c2[2] ? c2 + 1 : "";
                if (!*ctl) {
                    walk_up(sys_cgroup, cg, 0, &best);
                    snprintf(base, sizeof base, "%s/unified", sys_cgroup);
                    walk_up(base, cg, 0, &best);
                }
                for (const char *s = ctl; *s; s += strcspn(s, ","), s += *s == ',')
                    if (strncmp(s, "memory", 6) == 0 && (s[6] == ',' || !s[6])) {
                        snprintf(base, sizeof base, "%s/memory", sys_cgroup);
                        walk_up(base, cg, 1, &best);
                    }
            }
            line = next;
        }
    }
    *bytes = best;
    return best != UINT64_MAX;
}

int ug_mem_available(uint64_t *bytes)
{
    return ug_mem_available_at("/proc", "/sys/fs/cgroup", bytes);
}
