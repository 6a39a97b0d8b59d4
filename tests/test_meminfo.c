/* The memory left to the process (src/core/meminfo.h), read from a made-up
 * /proc and /sys/fs/cgroup: MemAvailable alone, a v1 memory cgroup and one
 * above it (the least left wins, file pages it could drop not counted as
 * held), v1's "no limit", v2's "max" and number at the root of the mount and
 * under unified/, a cgroup over its limit (0 left, still an answer), nothing
 * to read; and this machine's own reading. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "core/meminfo.h"
#include "files.h"

static char root[] = "/tmp/ugatit_meminfo_XXXXXX";

/* Writes text to root/rel, making the folders on the way. */
static void put(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *s = strchr(path + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(path, 0700);
        *s = '/';
    }
    write_text(path, text);
}

/* The reading of the tree under root/NAME/{proc,sys}: 1 and *bytes, or 0. */
static int reading(const char *name, uint64_t *bytes)
{
    char proc[512], sys[512];
    snprintf(proc, sizeof proc, "%s/%s/proc", root, name);
    snprintf(sys, sizeof sys, "%s/%s/sys", root, name);
    return ug_mem_available_at(proc, sys, bytes);
}

#define MEMINFO "MemTotal:       25000000 kB\nMemFree:        1000000 kB\n" \
                "MemAvailable:   20000000 kB\nBuffers:  10 kB\n"

int main(void)
{
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 2;
    }
    uint64_t b = 1;
    put("plain/proc/meminfo", MEMINFO);
    CHECK(reading("plain", &b) == 1 && b == 20000000ull * 1024, "MemAvailable: %llu",
          (unsigned long long)b);

    /* v1: 8 GB limit, 3 GB held of which 1 GB inactive file pages: 6 GB
     * left; the cgroup above: 5 GB, 0.5 GB held: 4.5 GB, the least. */
    put("v1/proc/meminfo", MEMINFO);
    put("v1/proc/self/cgroup", "5:cpu,cpuacct:/x\n4:memory:/a/b\n0::/\n");
    put("v1/sys/memory/a/b/memory.limit_in_bytes", "8000000000\n");
    put("v1/sys/memory/a/b/memory.usage_in_bytes", "3000000000\n");
    put("v1/sys/memory/a/b/memory.stat", "cache 5\ntotal_cache 9\ntotal_inactive_file "
                                         "1000000000\n");
    put("v1/sys/memory/a/memory.limit_in_bytes", "5000000000\n");
    put("v1/sys/memory/a/memory.usage_in_bytes", "500000000\n");
    put("v1/sys/memory/memory.limit_in_bytes", "9223372036854771712\n");
    put("v1/sys/memory/memory.usage_in_bytes", "20000000000\n");
    CHECK(reading("v1", &b) == 1 && b == 4500000000ull, "v1, the cgroup above: %llu",
          (unsigned long long)b);
    put("v1/sys/memory/a/memory.limit_in_bytes", "9223372036854771712\n");
    CHECK(reading("v1", &b) == 1 && b == 6000000000ull, "v1, inactive file pages: %llu",
          (unsigned long long)b);
    put("v1/sys/memory/a/b/memory.usage_in_bytes", "9500000000\n");
    put("v1/sys/memory/a/b/memory.stat", "total_inactive_file 0\n");
    CHECK(reading("v1", &b) == 1 && b == 0, "v1 over its limit: %llu", (unsigned long long)b);
    put("v1/sys/memory/a/b/memory.limit_in_bytes", "9223372036854771712\n");
    CHECK(reading("v1", &b) == 1 && b == 20000000ull * 1024, "v1 without a limit: %llu",
          (unsigned long long)b);

    /* v2 at the mount's root, then under unified/ beside v1's hierarchies. */
    put("v2/proc/meminfo", MEMINFO);
    put("v2/proc/self/cgroup", "0::/user.slice/run\n");
    put("v2/sys/user.slice/run/memory.max", "max\n");
    put("v2/sys/user.slice/run/memory.current", "100\n");
    put("v2/sys/user.slice/memory.max", "7000000000\n");
    put("v2/sys/user.slice/memory.current", "2000000000\n");
    put("v2/sys/user.slice/memory.stat", "anon 5\nfile 9\ninactive_file 500000000\n");
    CHECK(reading("v2", &b) == 1 && b == 5500000000ull, "v2: %llu", (unsigned long long)b);
    put("hybrid/proc/self/cgroup", "4:memory:/\n0::/job\n");
    put("hybrid/sys/unified/job/memory.max", "1000000000\n");
    put("hybrid/sys/unified/job/memory.current", "250000000\n");
    CHECK(reading("hybrid", &b) == 1 && b == 750000000ull, "v2 under unified/, no meminfo: "
          "%llu", (unsigned long long)b);

    put("none/proc/self/cgroup", "garbage\n::\n4:memory\n");
    CHECK(reading("none", &b) == 0, "nothing to read gave %llu", (unsigned long long)b);
    CHECK(reading("missing", &b) == 0, "no files gave %llu", (unsigned long long)b);

    CHECK(ug_mem_available(&b) == 1 && b > 0, "this machine: nothing read");
    printf("this machine: %.2f GB available\n", (double)b / 1e9);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    CHECK(system(cmd) == 0, "%s", cmd);
    return check_summary();
}
