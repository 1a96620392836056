/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <dirent.h>
#include <inttypes.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/param.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "cni.h"
#include "fs-util.h"
#include "json-util.h"
#include "string-util.h"
#include "strv.h"
#include "subprocess.h"
#include "time-util.h"
#include "valid-util.h"

/* Deep enough for any real config or result; json-c's default is 32. */
#define CNI_JSON_DEPTH 16

CniResult *cni_result_free(CniResult *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_interfaces; i++) {
                free(r->interfaces[i].name);
                free(r->interfaces[i].mac);
                free(r->interfaces[i].sandbox);
        }
        free(r->interfaces);
        for (size_t i = 0; i < r->n_ips; i++) {
                free(r->ips[i].address);
                free(r->ips[i].gateway);
        }
        free(r->ips);
        strv_free(r->nameservers);
        strv_free(r->search);
        free(r->cni_version);
        free(r);
        return NULL;
}

bool cni_network_name_is_valid(const char *s) {
        size_t n;

        if (isempty(s))
                return false;
        n = strlen(s);
        if (n > CNI_NAME_MAX)
                return false;
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* A plugin type becomes a file name below a plugin directory: no '/', no
 * leading '.', so it can never leave that directory. */
static bool cni_plugin_type_is_valid(const char *s) {
        size_t n;

        if (isempty(s) || s[0] == '.')
                return false;
        n = strlen(s);
        return n <= CNI_NAME_MAX &&
               strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static bool text_is_printable(const char *s, size_t max) {
        size_t n = strnlen(s, max + 1);

        if (n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

/* An optional string member: absent or null gives NULL. */
static int json_dup_string_opt(json_object *o, const char *key, size_t max, char **ret) {
        json_object *v;
        char *s;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string) || !text_is_printable(json_object_get_string(v), max))
                return -EBADMSG;
        s = strdup(json_object_get_string(v));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int json_array_opt(json_object *o, const char *key, json_object **ret, size_t *ret_n) {
        json_object *v;

        *ret = NULL;
        *ret_n = 0;
        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return -EBADMSG;
        if (json_object_array_length(v) > CNI_RESULT_ITEMS_MAX)
                return -EBADMSG;
        *ret = v;
        *ret_n = json_object_array_length(v);
        return 0;
}

static int json_strv_opt(json_object *o, const char *key, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        json_object *a;
        size_t n;
        int r;

        r = json_array_opt(o, key, &a, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(a, i);

                if (!json_object_is_type(e, json_type_string) || !text_is_printable(json_object_get_string(e), 256))
                        return -EBADMSG;
                r = strv_extend(&l, json_object_get_string(e));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int cni_result_from_json(json_object *j, CniResult **ret) {
        _cleanup_(cni_result_freep) CniResult *res = NULL;
        json_object *a, *dns;
        size_t n;
        int r;

        if (!json_object_is_type(j, json_type_object))
                return -EBADMSG;
        res = calloc(1, sizeof(*res));
        if (!res)
                return -ENOMEM;
        r = json_dup_string_opt(j, "cniVersion", 32, &res->cni_version);
        if (r < 0)
                return r;

        r = json_array_opt(j, "interfaces", &a, &n);
        if (r < 0)
                return r;
        res->interfaces = calloc(n ?: 1, sizeof(CniInterface));
        if (!res->interfaces)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(a, i);
                CniInterface *itf = &res->interfaces[i];

                if (!json_object_is_type(e, json_type_object))
                        return -EBADMSG;
                res->n_interfaces++;
                if ((r = json_dup_string_opt(e, "name", 64, &itf->name)) < 0 ||
                    (r = json_dup_string_opt(e, "mac", 64, &itf->mac)) < 0 ||
                    (r = json_dup_string_opt(e, "sandbox", 4096, &itf->sandbox)) < 0)
                        return r;
                if (isempty(itf->name))
                        return -EBADMSG;
        }

        r = json_array_opt(j, "ips", &a, &n);
        if (r < 0)
                return r;
        res->ips = calloc(n ?: 1, sizeof(CniIp));
        if (!res->ips)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(a, i), *v;
                CniIp *ip = &res->ips[i];

                if (!json_object_is_type(e, json_type_object))
                        return -EBADMSG;
                res->n_ips++;
                ip->interface = -1;
                if ((r = json_dup_string_opt(e, "address", 64, &ip->address)) < 0 ||
                    (r = json_dup_string_opt(e, "gateway", 64, &ip->gateway)) < 0)
                        return r;
                if (isempty(ip->address) || !strchr(ip->address, '/'))
                        return -EBADMSG;
                if (json_object_object_get_ex(e, "interface", &v) && !json_object_is_type(v, json_type_null)) {
                        int64_t k;

                        if (!json_object_is_type(v, json_type_int))
                                return -EBADMSG;
                        k = json_object_get_int64(v);
                        if (k < 0 || (size_t) k >= res->n_interfaces)
                                return -EBADMSG;
                        ip->interface = (int) k;
                }
        }

        if (json_object_object_get_ex(j, "dns", &dns) && !json_object_is_type(dns, json_type_null)) {
                if (!json_object_is_type(dns, json_type_object))
                        return -EBADMSG;
                if ((r = json_strv_opt(dns, "nameservers", &res->nameservers)) < 0 ||
                    (r = json_strv_opt(dns, "search", &res->search)) < 0)
                        return r;
        }
        *ret = TAKE_PTR(res);
        return 0;
}

int cni_result_parse(const char *text, size_t size, CniResult **ret) {
        _cleanup_json_ json_object *o = NULL;
        int r;

        r = json_parse_untrusted(text, size, CNI_OUTPUT_MAX, CNI_JSON_DEPTH, &o, NULL);
        if (r < 0)
                return r;
        return cni_result_from_json(o, ret);
}

int cni_conflist_parse(const char *text, size_t size, bool single, json_object **ret, PeapodError *err) {
        _cleanup_json_ json_object *o = NULL;
        char where[JSON_PARSE_ERROR_STRING_MAX];
        json_object *plugins, *v;
        const char *name, *version;
        JsonParseError pe;
        size_t n;
        int r;

        r = json_parse_untrusted(text, size, CNI_CONFIG_FILE_MAX, CNI_JSON_DEPTH, &o, &pe);
        if (r == -E2BIG)
                return peapod_error_set(err, r, "larger than %d bytes", CNI_CONFIG_FILE_MAX);
        if (r == -EBADMSG)
                return peapod_error_set(err, r, "not valid JSON (%s)", json_parse_error_to_string(&pe, where, sizeof(where)));
        if (r < 0)
                return r;
        if (!json_object_is_type(o, json_type_object))
                return peapod_error_set(err, -EBADMSG, "not a JSON object");
        if (json_get_string(o, "name", &name) < 0 || !cni_network_name_is_valid(name))
                return peapod_error_set(err, -EBADMSG, "missing or invalid \"name\"");
        if (json_get_string(o, "cniVersion", &version) < 0 || !text_is_printable(version, 32))
                return peapod_error_set(err, -EBADMSG, "missing or invalid \"cniVersion\"");

        if (single) {
                /* A .conf is one plugin: make it a list of itself. */
                _cleanup_json_ json_object *list = json_object_new_object(), *arr = json_object_new_array();

                if (!list || !arr)
                        return -ENOMEM;
                json_object_object_add(list, "cniVersion", json_object_new_string(version));
                json_object_object_add(list, "name", json_object_new_string(name));
                json_object_array_add(arr, TAKE_PTR(o));
                json_object_object_add(list, "plugins", TAKE_PTR(arr));
                o = TAKE_PTR(list);
        }

        if (!json_object_object_get_ex(o, "plugins", &plugins) || !json_object_is_type(plugins, json_type_array))
                return peapod_error_set(err, -EBADMSG, "missing \"plugins\" array");
        n = json_object_array_length(plugins);
        if (n == 0 || n > CNI_PLUGINS_MAX)
                return peapod_error_set(err, -EBADMSG, "1 to %d plugins needed, found %zu", CNI_PLUGINS_MAX, n);
        for (size_t i = 0; i < n; i++) {
                json_object *p = json_object_array_get_idx(plugins, i);
                const char *type;

                if (!json_object_is_type(p, json_type_object))
                        return peapod_error_set(err, -EBADMSG, "plugin %zu is not an object", i + 1);
                if (json_get_string(p, "type", &type) < 0 || !cni_plugin_type_is_valid(type))
                        return peapod_error_set(err, -EBADMSG, "plugin %zu has no valid \"type\"", i + 1);
                if (json_object_object_get_ex(p, "capabilities", &v) && !json_object_is_type(v, json_type_object))
                        return peapod_error_set(err, -EBADMSG, "plugin %zu: \"capabilities\" is not an object", i + 1);
        }
        *ret = TAKE_PTR(o);
        return 0;
}

/* "a.b.c.d/n" as the network it names ("10.87.0.0/16"), or -EINVAL: the
 * text goes into an iptables-restore script. IPv6 is -EAFNOSUPPORT. */
static int ipv4_subnet_canonical(const char *s, char **ret) {
        char addr[INET6_ADDRSTRLEN], out[INET_ADDRSTRLEN];
        const char *slash = s ? strchr(s, '/') : NULL;
        struct in_addr a;
        unsigned prefix;
        char *end;

        if (!slash || (size_t) (slash - s) >= sizeof(addr) || !slash[1] || slash[1] == '+' || slash[1] == '-')
                return -EINVAL;
        memcpy(addr, s, slash - s);
        addr[slash - s] = 0;
        errno = 0;
        prefix = (unsigned) strtoul(slash + 1, &end, 10);
        if (errno || *end || prefix < 1 || prefix > 32)
                return strchr(addr, ':') ? -EAFNOSUPPORT : -EINVAL;
        if (inet_pton(AF_INET, addr, &a) != 1)
                return strchr(addr, ':') ? -EAFNOSUPPORT : -EINVAL;
        a.s_addr &= htonl(prefix == 32 ? UINT32_MAX : ~(UINT32_MAX >> prefix));
        if (!inet_ntop(AF_INET, &a, out, sizeof(out)) || asprintf(ret, "%s/%u", out, prefix) < 0)
                return -ENOMEM;
        return 0;
}

/* One "subnet" of an ipam section, added to *subnets unless there (IPv6
 * ones are left out: iptables is IPv4's). */
static int host_rules_add_subnet(json_object *v, char ***subnets, PeapodError *err) {
        _cleanup_free_ char *c = NULL;
        const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
        int r;

        r = ipv4_subnet_canonical(s, &c);
        if (r == -EAFNOSUPPORT)
                return 0;
        if (r == -EINVAL)
                return peapod_error_set(err, -EBADMSG, "\"peapod\" rules for an invalid subnet \"%.64s\"", strempty(s));
        if (r < 0)
                return r;
        if (strv_contains(*subnets, c))
                return 0;
        if (strv_length(*subnets) >= CNI_RESULT_ITEMS_MAX)
                return peapod_error_set(err, -E2BIG, "\"peapod\" rules for more than %d subnets", CNI_RESULT_ITEMS_MAX);
        return strv_consume(subnets, TAKE_PTR(c));
}

/* "peapod": { key: BOOLEAN }: *ret, false when absent. */
static int host_rules_flag(json_object *peapod, const char *key, bool *ret, PeapodError *err) {
        json_object *v;

        *ret = false;
        if (!json_object_object_get_ex(peapod, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_boolean))
                return peapod_error_set(err, -EBADMSG, "\"peapod\": \"%s\" is not a boolean", key);
        *ret = json_object_get_boolean(v);
        return 0;
}

/* The IPv4 subnets of the ipam sections of plugins: host-local's two
 * forms, "subnet", or "ranges", a list of range sets, each a list of
 * ranges with a "subnet". */
static int host_rules_subnets(json_object *plugins, char ***subnets, PeapodError *err) {
        json_object *v;
        int r;

        for (size_t i = 0; i < json_object_array_length(plugins); i++) {
                json_object *ipam, *ranges;

                if (!json_object_object_get_ex(json_object_array_get_idx(plugins, i), "ipam", &ipam) ||
                    !json_object_is_type(ipam, json_type_object))
                        continue;
                if (json_object_object_get_ex(ipam, "subnet", &v) && (r = host_rules_add_subnet(v, subnets, err)) < 0)
                        return r;
                if (!json_object_object_get_ex(ipam, "ranges", &ranges) || !json_object_is_type(ranges, json_type_array))
                        continue;
                for (size_t k = 0; k < json_object_array_length(ranges) && k < CNI_RESULT_ITEMS_MAX; k++) {
                        json_object *set = json_object_array_get_idx(ranges, k);

                        if (!json_object_is_type(set, json_type_array))
                                continue;
                        for (size_t j = 0; j < json_object_array_length(set) && j < CNI_RESULT_ITEMS_MAX; j++)
                                if (json_object_object_get_ex(json_object_array_get_idx(set, j), "subnet", &v) &&
                                    (r = host_rules_add_subnet(v, subnets, err)) < 0)
                                        return r;
                }
        }
        if (strv_length(*subnets) == 0)
                return peapod_error_set(err, -EBADMSG, "\"peapod\" rules but no IPv4 \"subnet\" in an \"ipam\" section");
        return 0;
}

/* The bridge of the list's bridge plugin, as that plugin names it. */
static int host_rules_bridge(json_object *plugins, char **ret, PeapodError *err) {
        for (size_t i = 0; i < json_object_array_length(plugins); i++) {
                json_object *plugin = json_object_array_get_idx(plugins, i), *v;
                const char *name = "cni0"; /* the bridge plugin's default */

                if (!json_object_object_get_ex(plugin, "type", &v) || !streq_ptr(json_object_get_string(v), "bridge"))
                        continue;
                if (json_object_object_get_ex(plugin, "bridge", &v))
                        name = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
                if (!ifname_is_valid(name))
                        return peapod_error_set(err, -EBADMSG, "\"peapod\": \"forward\" of an invalid bridge name");
                *ret = strdup(name);
                return *ret ? 0 : -ENOMEM;
        }
        return peapod_error_set(err, -EBADMSG, "\"peapod\": \"forward\" but no \"bridge\" plugin");
}

void cni_host_rules_done(CniHostRules *rules) {
        strv_free(rules->subnets);
        rules->subnets = NULL;
        rules->forward_bridge = mfree(rules->forward_bridge);
        rules->masquerade = false;
}

int cni_conflist_host_rules(json_object *list, CniHostRules *ret, PeapodError *err) {
        _cleanup_(cni_host_rules_done) CniHostRules rules = {};
        json_object *peapod, *plugins;
        bool forward;
        int r;

        *ret = (CniHostRules) {};
        if (!json_object_object_get_ex(list, "peapod", &peapod))
                return 0;
        if (!json_object_is_type(peapod, json_type_object))
                return peapod_error_set(err, -EBADMSG, "\"peapod\" is not an object");
        if ((r = host_rules_flag(peapod, "masquerade", &rules.masquerade, err)) < 0 ||
            (r = host_rules_flag(peapod, "forward", &forward, err)) < 0)
                return r;
        if (!rules.masquerade && !forward)
                return 0;
        if (!json_object_object_get_ex(list, "plugins", &plugins) || !json_object_is_type(plugins, json_type_array))
                return -EBADMSG;
        if ((r = host_rules_subnets(plugins, &rules.subnets, err)) < 0)
                return r;
        if (forward && (r = host_rules_bridge(plugins, &rules.forward_bridge, err)) < 0)
                return r;
        *ret = rules;
        rules = (CniHostRules) {};
        return 0;
}

int cni_conflist_load(const char *dir, const char *name, json_object **ret, PeapodError *err) {
        _cleanup_strv_free_ char **files = NULL;
        size_t n = 0;
        DIR *d;
        struct dirent *de;
        int r = 0;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT)
                        return peapod_error_set(err, -ENOENT, "No CNI network '%s': %s does not exist", name, dir);
                return peapod_error_set(err, -errno, "Failed to open %s: %m", dir);
        }
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || !(endswith(de->d_name, ".conflist") || endswith(de->d_name, ".conf")))
                        continue;
                if (++n > CNI_CONFIG_FILES_MAX)
                        break;
                r = strv_extend(&files, de->d_name);
                if (r < 0)
                        break;
        }
        closedir(d);
        if (r < 0)
                return r;
        if (files)
                strv_sort(files);

        FOREACH_STRV(f, files) {
                _cleanup_free_ char *path = NULL, *text = NULL;
                _cleanup_json_ json_object *list = NULL;
                const char *lname;
                size_t size;

                if (asprintf(&path, "%s/%s", dir, f) < 0)
                        return -ENOMEM;
                if (read_file(path, CNI_CONFIG_FILE_MAX, &text, &size) < 0)
                        continue; /* unreadable or too big: not ours to judge */
                /* Broken files of other networks must not stop this one. */
                if (cni_conflist_parse(text, size, endswith(f, ".conf") != NULL, &list, NULL) < 0)
                        continue;
                if (json_get_string(list, "name", &lname) < 0 || !streq(lname, name))
                        continue;
                *ret = TAKE_PTR(list);
                return 0;
        }
        return peapod_error_set(err, -ENOENT, "No CNI network '%s' in %s", name, dir);
}

/* A failed plugin's message: its error object's msg and details, else the
 * last line of its stderr. */
static int plugin_failure(PeapodError *err, const char *type, const char *command, int status, const char *out,
                          size_t out_len, const char *errtext) {
        _cleanup_json_ json_object *o = NULL;

        if (out_len > 0 && json_parse_untrusted(out, out_len, CNI_OUTPUT_MAX, CNI_JSON_DEPTH, &o, NULL) >= 0 &&
            json_object_is_type(o, json_type_object)) {
                const char *msg = NULL, *details = NULL;
                int64_t code = 0;

                (void) json_get_string_opt(o, "msg", &msg);
                (void) json_get_string_opt(o, "details", &details);
                (void) json_get_int64(o, "code", &code);
                if (msg)
                        return peapod_error_set(err, -EIO, "CNI plugin %s %s failed (code %" PRIi64 "): %.200s%s%.200s",
                                                type, command, code, msg, isempty(details) ? "" : ": ", strempty(details));
        }
        if (!isempty(errtext)) {
                const char *last = errtext, *nl;
                size_t len = strlen(errtext);

                while (len > 0 && errtext[len - 1] == '\n')
                        len--;
                for (nl = errtext; (nl = memchr(nl, '\n', len - (size_t) (nl - errtext))); nl++)
                        last = nl + 1;
                return peapod_error_set(err, -EIO, "CNI plugin %s %s failed (exit status %d): %.*s", type, command,
                                        status, (int) MIN(len - (size_t) (last - errtext), (size_t) 300), last);
        }
        return peapod_error_set(err, -EIO, "CNI plugin %s %s failed (exit status %d)", type, command, status);
}

/* What running one plugin needs: its path, and a clean environment with
 * only what the spec defines and a PATH for the tools plugins run
 * themselves (iptables). */
typedef struct PluginProgram {
        char *path;
        char **env;
        char *argv[2];
} PluginProgram;

static void plugin_program_done(PluginProgram *pp) {
        pp->path = mfree(pp->path);
        strv_free(pp->env);
        pp->env = NULL;
}

static int plugin_program(const CniContext *c, const char *command, const char *type, PluginProgram *ret,
                          PeapodError *err) {
        _cleanup_free_ char *path = NULL, *cni_path = NULL;
        _cleanup_strv_free_ char **env = NULL;
        int r;

        if (!cni_plugin_type_is_valid(type))
                return peapod_error_set(err, -EINVAL, "Invalid CNI plugin type '%s'", type);
        cni_path = strv_join(c->plugin_dirs, ":");
        if (!cni_path)
                return -ENOMEM;
        r = spawn_find_program(cni_path, type, &path);
        if (r == -ENOENT)
                return peapod_error_set(err, r, "CNI plugin '%s' not found in %s", type, cni_path);
        if (r < 0)
                return r;

        const char *vars[][2] = {
                { "CNI_COMMAND", command },
                { "CNI_CONTAINERID", c->container_id },
                { "CNI_NETNS", c->netns },
                { "CNI_IFNAME", c->ifname },
                { "CNI_ARGS", c->args },
                { "CNI_PATH", cni_path },
                { "PATH", CNI_TOOLS_PATH },
        };
        for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
                char *e;

                if (!vars[i][1])
                        continue;
                if (asprintf(&e, "%s=%s", vars[i][0], vars[i][1]) < 0)
                        return -ENOMEM;
                r = strv_consume(&env, e);
                if (r < 0)
                        return r;
        }
        ret->path = TAKE_PTR(path);
        ret->env = TAKE_PTR(env);
        ret->argv[0] = (char *) type;
        ret->argv[1] = NULL;
        return 0;
}

static SpawnOptions plugin_spawn_options(const CniContext *c, PluginProgram *pp, const char *config) {
        return (SpawnOptions) {
                .path = pp->path,
                .argv = pp->argv,
                .env = pp->env,
                .input = config,
                .input_size = strlen(config),
                .out_max = CNI_OUTPUT_MAX,
                .err_max = CNI_STDERR_MAX,
                .err_keep_tail = true,
                .timeout_usec = c->timeout_usec ?: CNI_DEFAULT_TIMEOUT_USEC,
        };
}

/* How one plugin call ended, from what spawn says: its stdout when it
 * exited 0, else err says why. */
static int plugin_outcome(const CniContext *c, const char *command, const char *type, int error, SpawnResult *res,
                          char **ret_output, PeapodError *err) {
        if (error == -ETIMEDOUT)
                return peapod_error_set(err, -ETIMEDOUT, "CNI plugin %s %s timed out after %" PRIu64 " s", type, command,
                                        (uint64_t) ((c->timeout_usec ?: CNI_DEFAULT_TIMEOUT_USEC) / 1000000));
        if (error == -EFBIG)
                return peapod_error_set(err, -EFBIG, "CNI plugin %s %s wrote more than %d bytes", type, command,
                                        CNI_OUTPUT_MAX);
        if (error < 0)
                return peapod_error_set(err, error, "Cannot run CNI plugin %s %s: %s", type, command, strerror(-error));
        if (res->code != CLD_EXITED)
                return peapod_error_set(err, -EIO, "CNI plugin %s %s was killed by signal %d", type, command, res->status);
        if (res->status != 0)
                return plugin_failure(err, type, command, res->status, res->out, res->out_size, res->err);
        if (ret_output)
                *ret_output = TAKE_PTR(res->out);
        return 0;
}

int cni_plugin_exec(const CniContext *c, const char *command, const char *type, const char *config,
                    char **ret_output, PeapodError *err) {
        _cleanup_(plugin_program_done) PluginProgram pp = {};
        SpawnResult res = {};
        SpawnOptions o;
        int r;

        r = plugin_program(c, command, type, &pp, err);
        if (r < 0)
                return r;
        o = plugin_spawn_options(c, &pp, config);
        r = spawn_run(&o, &res);
        r = plugin_outcome(c, command, type, r, &res, ret_output, err);
        spawn_result_done(&res);
        return r;
}

/* The configuration one plugin of a list gets: its own object, plus the
 * list's name and cniVersion, the runtimeConfig entries it declares a
 * capability for, and prevResult. */
static int plugin_config(json_object *conflist, json_object *plugin, json_object *runtime_config,
                         json_object *prev_result, char **ret) {
        _cleanup_json_ json_object *o = NULL;
        json_object *caps, *v;
        const char *s;

        if (json_object_deep_copy(plugin, &o, NULL) < 0)
                return -ENOMEM;
        if (json_object_object_get_ex(conflist, "name", &v))
                json_object_object_add(o, "name", json_object_get(v));
        if (json_object_object_get_ex(conflist, "cniVersion", &v))
                json_object_object_add(o, "cniVersion", json_object_get(v));
        json_object_object_del(o, "runtimeConfig");
        if (runtime_config && json_object_object_get_ex(plugin, "capabilities", &caps) &&
            json_object_is_type(caps, json_type_object)) {
                _cleanup_json_ json_object *rc = json_object_new_object();

                if (!rc)
                        return -ENOMEM;
                json_object_object_foreach(caps, key, enabled)
                        if (json_object_get_boolean(enabled) && json_object_object_get_ex(runtime_config, key, &v))
                                json_object_object_add(rc, key, json_object_get(v));
                if (json_object_object_length(rc) > 0)
                        json_object_object_add(o, "runtimeConfig", TAKE_PTR(rc));
        }
        json_object_object_del(o, "prevResult");
        if (prev_result)
                json_object_object_add(o, "prevResult", json_object_get(prev_result));
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static json_object *conflist_plugins(json_object *conflist, size_t *ret_n) {
        json_object *plugins = NULL;

        if (!json_object_object_get_ex(conflist, "plugins", &plugins) || !json_object_is_type(plugins, json_type_array)) {
                *ret_n = 0;
                return NULL;
        }
        *ret_n = MIN(json_object_array_length(plugins), (size_t) CNI_PLUGINS_MAX);
        return plugins;
}

static const char *plugin_type(json_object *plugin) {
        const char *t = NULL;

        (void) json_get_string(plugin, "type", &t);
        return t ?: "";
}

/* A chain of plugin calls (cni.h), one after the other on an sd-event
 * loop: ADD and CHECK in the list's order, stopping at the first failure;
 * DEL in reverse order, calling every plugin whatever the others did. */
struct CniChain {
        /* Our own copies: the caller's context may be gone before the end. */
        char **plugin_dirs;
        char *container_id, *netns, *ifname, *args;
        CniContext ctx;
        char command[8];
        json_object *conflist, *runtime_config, *prev_result, *result;
        json_object *plugins;
        size_t n, done;
        int error;
        PeapodError err;
        sd_event *event;
        sd_event_source *defer;
        Spawn *spawn;
        PluginProgram program;
        const char *type; /* of the plugin running */
        cni_chain_callback_t callback;
        void *userdata;
};

CniChain *cni_chain_free(CniChain *ch) {
        if (!ch)
                return NULL;
        spawn_free(ch->spawn);
        sd_event_source_disable_unref(ch->defer);
        sd_event_unref(ch->event);
        plugin_program_done(&ch->program);
        json_object_put(ch->conflist);
        json_object_put(ch->runtime_config);
        json_object_put(ch->prev_result);
        json_object_put(ch->result);
        strv_free(ch->plugin_dirs);
        free(ch->container_id);
        free(ch->netns);
        free(ch->ifname);
        free(ch->args);
        return mfree(ch);
}

static void chain_end(CniChain *ch, int r) {
        if (r >= 0 && streq(ch->command, "ADD") && !ch->result)
                r = peapod_error_set(&ch->err, -EBADMSG, "The CNI plugins printed no result");
        ch->callback(ch, r, r >= 0 ? ch->result : NULL, &ch->err, ch->userdata);
}

static void on_plugin_done(Spawn *sp, int error, SpawnResult *res, void *userdata);

/* Starts the next plugin, or ends the chain. */
static void chain_next(CniChain *ch) {
        bool del = streq(ch->command, "DEL");
        int r;

        while (ch->done < ch->n) {
                size_t i = del ? ch->n - 1 - ch->done : ch->done;
                json_object *plugin = json_object_array_get_idx(ch->plugins, i);
                /* ADD chains results: each plugin gets the previous one's. */
                json_object *prev = streq(ch->command, "ADD") ? ch->result : ch->prev_result;
                _cleanup_free_ char *config = NULL;
                /* After a DEL failed, the first message stays. */
                PeapodError *err = ch->error < 0 ? NULL : &ch->err;

                ch->done++;
                ch->type = plugin_type(plugin);
                plugin_program_done(&ch->program);
                r = plugin_config(ch->conflist, plugin, ch->runtime_config, prev, &config);
                if (r >= 0)
                        r = plugin_program(&ch->ctx, ch->command, ch->type, &ch->program, err);
                if (r >= 0) {
                        SpawnOptions o = plugin_spawn_options(&ch->ctx, &ch->program, config);

                        r = spawn_start(ch->event, &o, on_plugin_done, ch, &ch->spawn);
                        if (r < 0)
                                r = peapod_error_set(err, r, "Cannot run CNI plugin %s %s: %s", ch->type, ch->command,
                                                     strerror(-r));
                }
                if (r >= 0)
                        return; /* on_plugin_done() goes on */
                if (!del)
                        return chain_end(ch, r);
                if (ch->error >= 0)
                        ch->error = r;
        }
        chain_end(ch, ch->error);
}

static void on_plugin_done(Spawn *sp, int error, SpawnResult *res, void *userdata) {
        CniChain *ch = userdata;
        bool del = streq(ch->command, "DEL");
        _cleanup_free_ char *out = NULL;
        int r;

        r = plugin_outcome(&ch->ctx, ch->command, ch->type, error, res, &out, ch->error < 0 ? NULL : &ch->err);
        ch->spawn = spawn_free(ch->spawn);
        if (r < 0 && del) {
                if (ch->error >= 0)
                        ch->error = r;
                return chain_next(ch);
        }
        if (r < 0)
                return chain_end(ch, r);
        /* A plugin with nothing to add may print nothing: the previous
         * result stands. */
        if (streq(ch->command, "ADD") && strspn(out, " \t\r\n") != strlen(out)) {
                _cleanup_json_ json_object *o = NULL;
                _cleanup_(cni_result_freep) CniResult *check = NULL;

                r = json_parse_untrusted(out, strlen(out), CNI_OUTPUT_MAX, CNI_JSON_DEPTH, &o, NULL);
                if (r < 0 || cni_result_from_json(o, &check) < 0)
                        return chain_end(ch, peapod_error_set(&ch->err, -EBADMSG,
                                                              "CNI plugin %s ADD printed an invalid result", ch->type));
                json_object_put(ch->result);
                ch->result = TAKE_PTR(o);
        }
        chain_next(ch);
}

static int on_chain_start(sd_event_source *es, void *userdata) {
        CniChain *ch = userdata;

        ch->defer = sd_event_source_disable_unref(ch->defer);
        chain_next(ch);
        return 0;
}

static int strdup_opt(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int cni_chain_start(sd_event *e, const CniContext *c, const char *command, json_object *conflist,
                    json_object *runtime_config, json_object *prev_result, cni_chain_callback_t callback, void *userdata,
                    CniChain **ret) {
        _cleanup_(cni_chain_freep) CniChain *ch = NULL;
        int r;

        if (!(streq(command, "ADD") || streq(command, "DEL") || streq(command, "CHECK")) || !callback)
                return -EINVAL;
        ch = calloc(1, sizeof(CniChain));
        if (!ch)
                return -ENOMEM;
        ch->plugin_dirs = strv_copy(c->plugin_dirs);
        if (!ch->plugin_dirs)
                return -ENOMEM;
        if ((r = strdup_opt(c->container_id, &ch->container_id)) < 0 || (r = strdup_opt(c->netns, &ch->netns)) < 0 ||
            (r = strdup_opt(c->ifname, &ch->ifname)) < 0 || (r = strdup_opt(c->args, &ch->args)) < 0)
                return r;
        ch->ctx = (CniContext) {
                .plugin_dirs = ch->plugin_dirs,
                .container_id = ch->container_id,
                .netns = ch->netns,
                .ifname = ch->ifname,
                .args = ch->args,
                .timeout_usec = c->timeout_usec,
        };
        strcpy(ch->command, command);
        ch->conflist = json_object_get(conflist);
        ch->runtime_config = json_object_get(runtime_config);
        ch->prev_result = json_object_get(prev_result);
        ch->plugins = conflist_plugins(conflist, &ch->n);
        if (ch->n == 0)
                return -EINVAL;
        ch->event = sd_event_ref(e);
        ch->callback = callback;
        ch->userdata = userdata;
        /* The first plugin starts from the loop: the callback never runs
         * before this returns. */
        r = sd_event_add_defer(e, &ch->defer, on_chain_start, ch);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(ch);
        return 0;
}

typedef struct ChainWait {
        bool done;
        int r;
        json_object *result;
        PeapodError *err;
} ChainWait;

static void on_chain_sync_done(CniChain *ch, int r, json_object *result, const PeapodError *err, void *userdata) {
        ChainWait *w = userdata;

        w->done = true;
        w->r = r;
        w->result = json_object_get(result);
        if (r < 0 && w->err && !peapod_error_is_set(w->err))
                *w->err = *err;
}

static int chain_run_sync(const CniContext *c, const char *command, json_object *conflist, json_object *runtime_config,
                          json_object *prev_result, json_object **ret_result, PeapodError *err) {
        _cleanup_(cni_chain_freep) CniChain *ch = NULL;
        ChainWait w = { .err = err };
        SpawnLoop l;
        size_t n;
        int r;

        (void) conflist_plugins(conflist, &n);
        if (n == 0)
                return peapod_error_set(err, -EINVAL, "CNI network has no plugins");
        r = spawn_loop_open(&l);
        if (r < 0)
                return r;
        r = cni_chain_start(l.event, c, command, conflist, runtime_config, prev_result, on_chain_sync_done, &w, &ch);
        if (r >= 0)
                r = spawn_loop_run(&l, &w.done);
        ch = cni_chain_free(ch);
        spawn_loop_close(&l);
        if (r >= 0)
                r = w.r;
        if (r >= 0 && ret_result)
                *ret_result = TAKE_PTR(w.result);
        json_object_put(w.result);
        return r;
}

int cni_conflist_add(const CniContext *c, json_object *conflist, json_object *runtime_config,
                     json_object **ret_result, PeapodError *err) {
        return chain_run_sync(c, "ADD", conflist, runtime_config, NULL, ret_result, err);
}

int cni_conflist_del(const CniContext *c, json_object *conflist, json_object *runtime_config,
                     json_object *prev_result, PeapodError *err) {
        return chain_run_sync(c, "DEL", conflist, runtime_config, prev_result, NULL, err);
}

int cni_conflist_check(const CniContext *c, json_object *conflist, json_object *runtime_config,
                       json_object *prev_result, PeapodError *err) {
        return chain_run_sync(c, "CHECK", conflist, runtime_config, prev_result, NULL, err);
}
