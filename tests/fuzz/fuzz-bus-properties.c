/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "fuzz.h"
#include "registry.h"
#include "string-util.h"
#include "strv.h"

/* peapodd's readers of the a(sv) arguments any root client sends:
 * CreatePod's pod properties, the app properties of CreatePod and AddApp,
 * Pod.Exec's options and PullImageWithAuth's credentials. sd-bus checks the wire format; what is fuzzed is
 * ours: names, the types given for them, lists and their bounds, and what
 * is left owned on every error path (ASan's leak check).
 *
 * The input is a small program that builds the a(sv): the first byte
 * picks the reader, then per entry a byte for the name (one the readers
 * know, or a string of the input) and a byte for the value's type. */

static const char * const names[] = {
        "Exec", "Args", "Environment", "WorkingDirectory", "User", "Group", "Seccomp", "PIDNamespace",
        "SupplementaryGroups", "CapabilitiesRetain", "CapabilitiesRemove", "NoNewPrivileges", "ReadOnlyRootfs",
        "CPUQuotaPerSecUSec", "CPUShares", "MemoryMax", "TasksMax", "Mounts", "StopWhenAppsExit", "Networks",
        "DNS", "DNSSearch", "Ports", "Hostname", "Stage1", "Volumes", "IPCNamespace", "Devices", "MaskedPaths",
        "ReadOnlyPaths", "Username", "Password", "RegistryToken", "IdentityToken", "Privileged",
};

typedef struct Input {
        const uint8_t *p, *end;
} Input;

static uint8_t next_byte(Input *in) {
        return in->p < in->end ? *in->p++ : 0;
}

/* A string of up to 255 bytes of the input, made valid for D-Bus (no NUL,
 * ASCII so always UTF-8). */
static char *next_string(Input *in, char buf[static 256]) {
        size_t n = next_byte(in);

        for (size_t i = 0; i < n; i++) {
                uint8_t c = next_byte(in) & 0x7f;

                buf[i] = c ? (char) c : '?';
        }
        buf[n] = 0;
        return buf;
}

static int append_value(sd_bus_message *m, Input *in) {
        char a[256], b[256], c[256];
        uint8_t type = next_byte(in), n;
        uint64_t t = 0;
        int r;

        switch (type % 10) {
        case 0:
                return sd_bus_message_append(m, "v", "s", next_string(in, a));
        case 1:
                r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "s");
                n = next_byte(in);
                for (unsigned i = 0; r >= 0 && i < n; i++)
                        r = sd_bus_message_append(m, "s", next_string(in, a));
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                return r;
        case 2:
                return sd_bus_message_append(m, "v", "b", next_byte(in) & 1);
        case 3:
                for (int i = 0; i < 8; i++) {
                        t <<= 8;
                        t |= next_byte(in);
                }
                return sd_bus_message_append(m, "v", "t", t);
        case 4:
                r = sd_bus_message_open_container(m, 'v', "a(ss)");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "(ss)");
                n = next_byte(in);
                for (unsigned i = 0; r >= 0 && i < n; i++) {
                        /* One read per statement: the order of a call's arguments is unspecified. */
                        next_string(in, a);
                        next_string(in, b);
                        r = sd_bus_message_append(m, "(ss)", a, b);
                }
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                return r;
        case 5:
                r = sd_bus_message_open_container(m, 'v', "a(sssbt)");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "(sssbt)");
                n = next_byte(in);
                for (unsigned i = 0; r >= 0 && i < n; i++) {
                        int ro;

                        next_string(in, a);
                        next_string(in, b);
                        next_string(in, c);
                        ro = next_byte(in) & 1;
                        t = (uint64_t) next_byte(in) << 20;
                        r = sd_bus_message_append(m, "(sssbt)", a, b, c, ro, t);
                }
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                return r;
        case 6:
                r = sd_bus_message_open_container(m, 'v', "a(ssqq)");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "(ssqq)");
                n = next_byte(in);
                for (unsigned i = 0; r >= 0 && i < n; i++) {
                        uint16_t hp, pp;

                        hp = (uint16_t) (next_byte(in) << 8);
                        hp |= next_byte(in);
                        pp = (uint16_t) (next_byte(in) << 8);
                        pp |= next_byte(in);
                        next_string(in, a);
                        next_string(in, b);
                        r = sd_bus_message_append(m, "(ssqq)", a, b, hp, pp);
                }
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                return r;
        case 7:
                return sd_bus_message_append(m, "v", "i", (int32_t) next_byte(in));
        case 8:
                r = sd_bus_message_open_container(m, 'v', "a(sss)");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "(sss)");
                n = next_byte(in);
                for (unsigned i = 0; r >= 0 && i < n; i++) {
                        next_string(in, a);
                        next_string(in, b);
                        next_string(in, c);
                        r = sd_bus_message_append(m, "(sss)", a, b, c);
                }
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                return r;
        default:
                return sd_bus_message_append(m, "v", "as", 0);
        }
}

static sd_bus *fuzz_bus(void) {
        static sd_bus *bus = NULL;
        int fds[2];

        if (bus)
                return bus;
        /* An unconnected bus is enough to build messages on: sd-bus wants
         * one that is (being) opened. Kept for the whole run. */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
                return NULL;
        if (sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, fds[0], fds[0]) < 0 || sd_bus_start(bus) < 0)
                abort();
        return bus;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Input in = { data, data + size };
        sd_bus *bus = fuzz_bus();
        uint8_t which;
        int r;

        if (!bus || size < 1 || size > 16 * 1024)
                return 0;
        which = next_byte(&in) % 4;
        if (sd_bus_message_new_method_call(bus, &m, "org.peapod1", "/org/peapod1", "org.peapod1.Manager", "Fuzz") < 0)
                return 0;
        r = sd_bus_message_open_container(m, 'a', "(sv)");
        while (r >= 0 && in.p < in.end) {
                uint8_t k = next_byte(&in);
                char buf[256];

                r = sd_bus_message_open_container(m, 'r', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", k < ELEMENTSOF(names) ? names[k] : next_string(&in, buf));
                if (r >= 0)
                        r = append_value(m, &in);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0 || sd_bus_message_seal(m, 1, 0) < 0 || sd_bus_message_rewind(m, true) < 0)
                return 0;

        switch (which) {
        case 0: {
                AppSpec spec = {};

                if (bus_read_app_spec(m, &spec, &error) >= 0 &&
                    (strv_length(spec.exec) > APP_ARGV_MAX || strv_length(spec.args) > APP_ARGV_MAX ||
                     strv_length(spec.env) > APP_ENV_MAX || spec.n_mounts > APP_MOUNTS_MAX ||
                     spec.n_devices > APP_DEVICES_MAX))
                        abort();
                app_spec_done(&spec);
                break;
        }
        case 1: {
                PodProperties props = {};
                Daemon d = { .runtime.stage1_dir = "/nonexistent" };

                if (bus_read_pod_properties(&d, m, &props, &error) >= 0 &&
                    (props.n_ports > POD_PORTS_MAX || props.n_volumes > POD_VOLUMES_MAX))
                        abort();
                pod_properties_done(&props);
                break;
        }
        case 2: {
                char **env = NULL;

                if (bus_read_exec_options(m, &env, &error) >= 0 && strv_length(env) > APP_ENV_MAX)
                        abort();
                strv_free(env);
                break;
        }
        case 3: {
                PullCredentials c = {};

                /* What is read goes into HTTP headers: bounded, and a
                 * bearer token is one line of visible characters. */
                if (bus_read_pull_credentials(m, &c, &error) >= 0 &&
                    (strlen(strempty(c.username)) > PULL_CREDENTIAL_MAX ||
                     strlen(strempty(c.password)) > PULL_CREDENTIAL_MAX ||
                     strlen(strempty(c.identity_token)) > PULL_CREDENTIAL_MAX ||
                     (c.registry_token && !registry_token_is_valid(c.registry_token))))
                        abort();
                pull_credentials_done(&c);
                break;
        }
        }
        return 0;
}
