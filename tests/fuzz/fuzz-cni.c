/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>

#include "cni.h"
#include "fuzz.h"
#include "json-util.h"
#include "strv.h"
#include "valid-util.h"

/* What CNI plugins print and what /etc/cni/net.d holds (and what peapod
 * saves of both in a pod's network records) is not ours. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(cni_result_freep) CniResult *r = NULL;
        _cleanup_json_ json_object *list = NULL, *conf = NULL;
        const char *text = (const char *) data;

        if (size > CNI_OUTPUT_MAX)
                return 0;
        (void) cni_result_parse(text, size, &r);
        if (cni_conflist_parse(text, size, false, &list, NULL) >= 0) {
                /* A list that passed must pass again as peapod saves it. */
                _cleanup_json_ json_object *again = NULL;
                _cleanup_(cni_host_rules_done) CniHostRules rules = {};
                const char *s = json_object_to_json_string_ext(list, JSON_C_TO_STRING_PLAIN);

                if (cni_conflist_parse(s, strlen(s), false, &again, NULL) < 0)
                        abort();
                /* Its subnets and bridge go into an iptables-restore
                 * script: nothing but digits, dots and one slash may come
                 * out of a subnet, nothing but a name out of the bridge. */
                if (cni_conflist_host_rules(list, &rules, NULL) >= 0) {
                        FOREACH_STRV(sn, rules.subnets)
                                if (strspn(sn, "0123456789./") != strlen(sn) || !strchr(sn, '/'))
                                        abort();
                        if (rules.forward_bridge && !ifname_is_valid(rules.forward_bridge))
                                abort();
                }
        }
        (void) cni_conflist_parse(text, size, true, &conf, NULL);
        return 0;
}
