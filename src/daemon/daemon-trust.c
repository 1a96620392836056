/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon.h"
#include "daemon-trust.h"
#include "log.h"
#include "string-util.h"
#include "trust.h"

int daemon_image_verify(const char *reference, const Digest *manifest, void *userdata, PeapodError *e) {
        _cleanup_free_ char *how = NULL;
        int r;

        r = trust_verify_image(NULL, reference, manifest, &how, e);
        if (r < 0) {
                log_warning("Refused image %s: %s", reference, e && e->message[0] ? e->message : strerror(-r));
                return r;
        }
        log_info("Accepted image %s: %s.", reference, how);
        return 0;
}

int daemon_aci_verify(const char *reference, int fd, const void *sig, size_t sig_size, void *userdata, PeapodError *e) {
        _cleanup_free_ char *how = NULL;
        int r;

        r = trust_verify_detached(NULL, reference, fd, sig, sig_size, &how, e);
        if (r < 0) {
                log_warning("Refused ACI %s: %s", reference, e && e->message[0] ? e->message : strerror(-r));
                return r;
        }
        log_info("Accepted ACI %s: %s.", reference, how);
        return 0;
}

int bus_method_add_trusted_key(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        GpgKeyInfo info = {};
        PeapodError e = {};
        const void *key;
        const char *prefix;
        uint64_t flags;
        size_t size;
        int r;

        r = bus_verify_polkit(userdata, m, PEAPOD_ACTION_MANAGE_TRUST, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = sd_bus_message_read_array(m, 'y', &key, &size);
        if (r >= 0)
                r = sd_bus_message_read(m, "st", &prefix, &flags);
        if (r < 0)
                return r;
        if (flags & ~PEAPOD_TRUST_KEY_ROOT)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        if (!!(flags & PEAPOD_TRUST_KEY_ROOT) == !isempty(prefix))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "Give either a prefix or the root flag (a key trusted for every image)");
        r = trust_store_add(NULL, key, size, isempty(prefix) ? NULL : prefix, &info, &e);
        /* A key gpg cannot read (EBADMSG) or will not take (EPERM) is a bad argument. */
        if (r == -EBADMSG || r == -EPERM)
                r = -EINVAL;
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_ARGS, r, e.message, "Failed to add the key");
        log_info("Trusted key %s (%s) for %s.", info.fingerprint, strna(info.uid), isempty(prefix) ? "every image" : prefix);
        r = sd_bus_reply_method_return(m, "s", info.fingerprint);
        gpg_key_info_done(&info);
        return r;
}

int bus_method_list_trusted_keys(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        TrustedKey *keys = NULL;
        PeapodError e = {};
        size_t n = 0;
        int r;

        r = trust_store_list(NULL, &keys, &n, &e);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "%s", e.message[0] ? e.message : strerror(-r));
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssss)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(ssss)", keys[i].fingerprint, strempty(keys[i].prefix),
                                          strempty(keys[i].uid), keys[i].path);
        trusted_key_free_many(keys, n);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int bus_method_remove_trusted_key(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        PeapodError e = {};
        const char *fpr;
        uint64_t flags;
        int r;

        r = bus_verify_polkit(userdata, m, PEAPOD_ACTION_MANAGE_TRUST, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = sd_bus_message_read(m, "st", &fpr, &flags);
        if (r < 0)
                return r;
        if (flags != 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        r = trust_store_remove(NULL, fpr, &e);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_TRUST, r, e.message, "Failed to remove key %s", fpr);
        log_info("Removed trusted key %s.", fpr);
        return sd_bus_reply_method_return(m, NULL);
}
