/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "error.h"
#include "macro.h"

/* Running CNI plugins as the CNI specification (1.0) says: a network
 * configuration list (.conflist) names a chain of plugins; each is an
 * executable found in CNI_PATH, called with CNI_COMMAND (ADD, DEL, CHECK),
 * CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS and CNI_PATH in its
 * environment and its configuration as JSON on stdin; it answers a result
 * (ADD) or an error object on stdout. Everything a plugin or a config file
 * says is untrusted: sizes and counts are bounded and types checked. */

#define CNI_DEFAULT_CONF_DIR "/etc/cni/net.d"
#define CNI_DEFAULT_PLUGIN_DIR "/usr/lib/cni"
/* The PATH plugins get for the tools they run themselves (iptables); peapod
 * runs its own iptables from the same, to use the same backend. */
#define CNI_TOOLS_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CNI_CONFIG_FILE_MAX (1024 * 1024)
#define CNI_CONFIG_FILES_MAX 1024
#define CNI_PLUGINS_MAX 32
#define CNI_OUTPUT_MAX (1024 * 1024)
#define CNI_STDERR_MAX 4096
#define CNI_RESULT_ITEMS_MAX 64
#define CNI_NAME_MAX 128
#define CNI_DEFAULT_TIMEOUT_USEC (60ULL * 1000000ULL)

typedef struct CniInterface {
        char *name;
        char *mac;     /* may be NULL */
        char *sandbox; /* NULL or "" for a host-side interface */
} CniInterface;

typedef struct CniIp {
        char *address; /* CIDR: "10.89.0.2/16" */
        char *gateway; /* may be NULL */
        int interface; /* index into interfaces, -1 when not given */
} CniIp;

typedef struct CniResult {
        char *cni_version;
        CniInterface *interfaces;
        size_t n_interfaces;
        CniIp *ips;
        size_t n_ips;
        char **nameservers;
        char **search;
} CniResult;

CniResult *cni_result_free(CniResult *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(CniResult *, cni_result_free);

/* A network name per the spec: [A-Za-z0-9][A-Za-z0-9_.-]*, at most
 * CNI_NAME_MAX. Also what --net=NAME accepts. */
bool cni_network_name_is_valid(const char *s);

/* Parse a result object (any version 0.3.0 and later: interfaces, ips,
 * dns). -EBADMSG for anything malformed or beyond the bounds. */
int cni_result_from_json(json_object *j, CniResult **ret);
int cni_result_parse(const char *text, size_t size, CniResult **ret);

/* Parse a .conflist (or a single-plugin .conf, turned into a list of one)
 * and check it: name, cniVersion, 1..CNI_PLUGINS_MAX plugins with a valid
 * type. Returns the list as a json object owned by the caller. */
int cni_conflist_parse(const char *text, size_t size, bool single, json_object **ret, PeapodError *err);

/* Find the network called name among dir's *.conflist and *.conf files
 * (the first in lexical order wins, as libcni does). -ENOENT if none. */
int cni_conflist_load(const char *dir, const char *name, json_object **ret, PeapodError *err);

/* The host rules a network's conflist asks peapod to keep for the whole
 * network (firewall.h) rather than have a plugin make and delete rules for
 * every pod at its ADD and DEL (a top-level key, which libcni, and so
 * containerd and podman, ignore):
 *   "peapod": { "masquerade": true }  its traffic to the rest of the world
 *       masqueraded, instead of the bridge plugin's ipMasq;
 *   "peapod": { "forward": true }     its bridge's traffic let through the
 *       host's FORWARD chain (out, and the replies back), instead of the
 *       firewall plugin's rules for each pod's address.
 * subnets: the IPv4 subnets of the list's ipam sections (canonical
 * "10.87.0.0/16"), NULL when the list asks for neither; forward_bridge: the
 * bridge plugin's bridge ("cni0" when it names none), NULL unless forward
 * is asked. -EBADMSG (with err) for a malformed "peapod", a list that asks
 * and names no IPv4 subnet or a malformed one, or asks forward without a
 * bridge plugin or with an invalid bridge name. */
typedef struct CniHostRules {
        char **subnets;
        bool masquerade;
        char *forward_bridge;
} CniHostRules;
int cni_conflist_host_rules(json_object *list, CniHostRules *ret, PeapodError *err);
void cni_host_rules_done(CniHostRules *rules);

typedef struct CniContext {
        char * const *plugin_dirs;
        const char *container_id;
        const char *netns;
        const char *ifname;
        const char *args;      /* CNI_ARGS, may be NULL */
        uint64_t timeout_usec; /* per plugin call; 0 = CNI_DEFAULT_TIMEOUT_USEC */
} CniContext;

/* Run one plugin. stdout is returned (NUL-terminated) when the plugin
 * exits 0; otherwise err says what its error object (or stderr) said. */
int cni_plugin_exec(const CniContext *c, const char *command, const char *type, const char *config,
                    char **ret_output, PeapodError *err);

/* ADD each plugin of the list in order, each getting the previous one's
 * result as prevResult; runtime_config (may be NULL) is an object whose keys
 * are capabilities ("portMappings"), passed as runtimeConfig to the plugins
 * that declare them. Returns the final result object. */
int cni_conflist_add(const CniContext *c, json_object *conflist, json_object *runtime_config,
                     json_object **ret_result, PeapodError *err);

/* DEL each plugin in reverse order with prev_result (may be NULL) as
 * prevResult. Every plugin is called even when one fails; the first
 * failure is returned. */
int cni_conflist_del(const CniContext *c, json_object *conflist, json_object *runtime_config,
                     json_object *prev_result, PeapodError *err);

/* CHECK each plugin in order with prev_result. */
int cni_conflist_check(const CniContext *c, json_object *conflist, json_object *runtime_config,
                       json_object *prev_result, PeapodError *err);

/* The same chains on an sd-event loop (the functions above run them on a
 * private one): each plugin is a child process the loop watches
 * (subprocess.h), the next starts from the previous one's end. command is
 * "ADD", "DEL" or "CHECK", with the semantics above. The callback runs
 * once, from the loop, never before cni_chain_start() returned: r 0 and,
 * for ADD, the final result (borrowed: json_object_get() to keep it), or
 * -errno with err saying why. It may cni_chain_free() the chain; freeing
 * it before the end kills the plugin running and ends the chain without a
 * callback. */
typedef struct CniChain CniChain;
typedef void (*cni_chain_callback_t)(CniChain *chain, int r, json_object *result, const PeapodError *err,
                                     void *userdata);
int cni_chain_start(sd_event *e, const CniContext *c, const char *command, json_object *conflist,
                    json_object *runtime_config, json_object *prev_result, cni_chain_callback_t callback, void *userdata,
                    CniChain **ret);
CniChain *cni_chain_free(CniChain *chain);
DEFINE_TRIVIAL_CLEANUP_FUNC(CniChain *, cni_chain_free);
