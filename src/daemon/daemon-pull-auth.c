/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PullImageWithAuth's credentials, a(sv): read, bounded and checked here
 * (they become HTTP headers), wiped from memory when done. */
#include <string.h>

#include "daemon.h"
#include "registry.h"
#include "string-util.h"

void pull_credentials_done(PullCredentials *c) {
        free(c->username);
        if (c->password)
                explicit_bzero(c->password, strlen(c->password));
        free(c->password);
        if (c->registry_token)
                explicit_bzero(c->registry_token, strlen(c->registry_token));
        free(c->registry_token);
        if (c->identity_token)
                explicit_bzero(c->identity_token, strlen(c->identity_token));
        free(c->identity_token);
        *c = (PullCredentials) {};
}

/* One credential (a BusPropertyReader), a string each. */
static int read_pull_credential(sd_bus_message *m, const char *name, const char *contents, void *userdata,
                                sd_bus_error *error) {
        PullCredentials *c = userdata;
        const char *value;
        char **target;
        int r;

        if (streq(name, "Username"))
                target = &c->username;
        else if (streq(name, "Password"))
                target = &c->password;
        else if (streq(name, "RegistryToken"))
                target = &c->registry_token;
        else if (streq(name, "IdentityToken"))
                target = &c->identity_token;
        else
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown credential %s", name);
        if (!streq(contents, "s"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Credential %s must be a string", name);
        r = sd_bus_message_read(m, "v", "s", &value);
        if (r < 0)
                return r;
        if (strlen(value) > PULL_CREDENTIAL_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Credential %s is too long", name);
        if (*target)
                explicit_bzero(*target, strlen(*target));
        free(*target);
        *target = strdup(value);
        return *target ? 0 : -ENOMEM;
}

int bus_read_pull_credentials(sd_bus_message *m, PullCredentials *c, sd_bus_error *error) {
        int r;

        r = bus_read_properties(m, read_pull_credential, c, error);
        if (r < 0)
                return r;
        if (!c->username != !c->password)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Username and Password go together");
        if (!!c->username + !!c->registry_token + !!c->identity_token > 1)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "Username and Password, RegistryToken and IdentityToken go alone");
        /* It becomes a header line: checked here, not at the first request. */
        if (c->registry_token && !registry_token_is_valid(c->registry_token))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "RegistryToken must be visible ASCII characters");
        return 0;
}
