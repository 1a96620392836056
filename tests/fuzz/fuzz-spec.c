/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "journal.h"
#include "parse-util.h"
#include "pod-gc.h"
#include "pod-network.h"
#include "seccomp-spec.h"
#include "string-util.h"
#include "volume.h"

/* The small value parsers behind options and bus properties: published
 * ports (CreatePod, --port), --since/--until times, the gc grace span,
 * sizes, seccomp lists. The first byte picks the parser, the rest is the
 * string. Each result is checked against what the parser promises. */
#define NOW (UINT64_C(1795437296) * 1000000) /* 2026-11-23T12:34:56Z */

static void check_port(const char *s) {
        PodPort p = {}, q = {};
        _cleanup_free_ char *again = NULL;

        if (pod_port_parse(s, &p) < 0)
                return;
        if (!pod_port_is_valid(&p))
                abort();
        /* Written back the way peapod shows it, it parses to the same port. */
        if (asprintf(&again, "%s%s%s%u:%u/%s", isempty(p.host_ip) ? "" : "[", p.host_ip, isempty(p.host_ip) ? "" : "]:",
                     p.host_port, p.pod_port, p.protocol) < 0)
                goto out;
        if (pod_port_parse(again, &q) < 0 || !streq(p.host_ip, q.host_ip) || p.host_port != q.host_port ||
            p.pod_port != q.pod_port || !streq(p.protocol, q.protocol))
                abort();
out:
        free(p.host_ip);
        free(q.host_ip);
}

static void check_time(const char *s) {
        uint64_t v;

        if (log_time_parse(s, NOW, &v) < 0)
                return;
        /* A span never wraps: "+X" is not before now, "-X" and "X ago" not after. */
        if ((s[0] == '+' && v < NOW) || ((s[0] == '-' || endswith(s, " ago")) && v > NOW))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL;
        uint64_t v;

        if (size < 1 || size > 4096)
                return 0;
        s = fuzz_string(data + 1, size - 1);
        if (!s)
                return 0;
        switch (data[0] % 5) {
        case 0:
                check_port(s);
                break;
        case 1:
                check_time(s);
                break;
        case 2:
                if (timespan_parse(s, &v) >= 0 && v > UINT64_C(100) * 365 * 86400 * 1000000)
                        abort();
                break;
        case 3:
                if (parse_size(s, &v) >= 0 && v > (UINT64_C(1) << 62))
                        abort();
                break;
        case 4: {
                SeccompSpec spec = {};

                if (seccomp_spec_parse(s, &spec) >= 0)
                        seccomp_spec_done(&spec);
                break;
        }
        }
        return 0;
}
