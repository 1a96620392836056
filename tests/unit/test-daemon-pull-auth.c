/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PullImageWithAuth's credentials reader (src/daemon/daemon-pull-auth.c):
 * what goes together, what goes alone, and the bounds that keep a
 * credential from becoming a header line of its own. */
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "string-util.h"
#include "tests.h"

static sd_bus *bus;

/* sd-bus builds messages only on a bus that is (being) opened; one end of
 * a socketpair is enough, nothing is ever sent. */
static void bus_setup(void) {
        int fds[2];

        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0 ? -errno : 0);
        ASSERT_OK(sd_bus_new(&bus));
        ASSERT_OK(sd_bus_set_fd(bus, fds[0], fds[0]));
        ASSERT_OK(sd_bus_start(bus));
}

/* An a(sv) of n (name, value) string credentials, or with a boolean one
 * named bool_name, read back from the start. */
static sd_bus_message *creds_full(const char *bool_name, unsigned n, va_list ap) {
        sd_bus_message *m = NULL;

        ASSERT_OK(sd_bus_message_new_method_call(bus, &m, "org.peapod1", "/org/peapod1", "org.peapod1.Manager", "Test"));
        ASSERT_OK(sd_bus_message_open_container(m, 'a', "(sv)"));
        if (bool_name)
                ASSERT_OK(sd_bus_message_append(m, "(sv)", bool_name, "b", 1));
        for (unsigned i = 0; i < n; i++) {
                const char *name = va_arg(ap, const char *), *value = va_arg(ap, const char *);

                ASSERT_OK(sd_bus_message_append(m, "(sv)", name, "s", value));
        }
        ASSERT_OK(sd_bus_message_close_container(m));
        ASSERT_OK(sd_bus_message_seal(m, 1, 0));
        ASSERT_OK(sd_bus_message_rewind(m, true));
        return m;
}

static sd_bus_message *creds(unsigned n, ...) {
        sd_bus_message *m;
        va_list ap;

        va_start(ap, n);
        m = creds_full(NULL, n, ap);
        va_end(ap);
        return m;
}

static sd_bus_message *creds_bool(const char *name, ...) {
        sd_bus_message *m;
        va_list ap;

        va_start(ap, name);
        m = creds_full(name, 0, ap);
        va_end(ap);
        return m;
}

/* Reads m; NULL expects success, else a part of the InvalidArgs message. */
static void expect(sd_bus_message *m, const char *error_part, PullCredentials *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        PullCredentials c = {};
        int r;

        r = bus_read_pull_credentials(m, &c, &error);
        sd_bus_message_unref(m);
        if (!error_part) {
                ASSERT_OK(r);
                if (ret)
                        *ret = c;
                else
                        pull_credentials_done(&c);
                return;
        }
        pull_credentials_done(&c);
        ASSERT_TRUE(r < 0);
        if (!sd_bus_error_has_name(&error, SD_BUS_ERROR_INVALID_ARGS) || !strstr(error.message, error_part)) {
                fprintf(stderr, "expected InvalidArgs with '%s', got %s: %s\n", error_part, strna(error.name),
                        strna(error.message));
                exit(EXIT_FAILURE);
        }
}

TEST(accepted) {
        PullCredentials c = {};

        expect(creds(2, "Username", "alice", "Password", "secret"), NULL, &c);
        ASSERT_STREQ(c.username, "alice");
        ASSERT_STREQ(c.password, "secret");
        ASSERT_TRUE(!c.registry_token && !c.identity_token);
        pull_credentials_done(&c);
        ASSERT_TRUE(!c.username && !c.password);

        expect(creds(1, "RegistryToken", "abc.DEF-123_~+/="), NULL, &c);
        ASSERT_STREQ(c.registry_token, "abc.DEF-123_~+/=");
        pull_credentials_done(&c);
        expect(creds(1, "IdentityToken", "refresh"), NULL, &c);
        ASSERT_STREQ(c.identity_token, "refresh");
        pull_credentials_done(&c);

        /* None: a pull without credentials. */
        expect(creds(0), NULL, &c);
        ASSERT_TRUE(!c.username && !c.password && !c.registry_token && !c.identity_token);
}

TEST(refused) {
        _cleanup_free_ char *long_value = malloc(PULL_CREDENTIAL_MAX + 2);

        expect(creds(1, "Username", "alice"), "go together", NULL);
        expect(creds(1, "Password", "secret"), "go together", NULL);
        expect(creds(3, "Username", "a", "Password", "b", "RegistryToken", "t"), "go alone", NULL);
        expect(creds(2, "RegistryToken", "t", "IdentityToken", "i"), "go alone", NULL);
        expect(creds(1, "Cookie", "x"), "Unknown credential Cookie", NULL);
        expect(creds_bool("Password"), "must be a string", NULL);

        /* A token becomes "Authorization: Bearer <token>": no line breaks,
         * no spaces, nothing invisible. */
        expect(creds(1, "RegistryToken", "a\r\nX-Evil: 1"), "visible ASCII", NULL);
        expect(creds(1, "RegistryToken", "a b"), "visible ASCII", NULL);

        ASSERT_TRUE(long_value);
        memset(long_value, 'x', PULL_CREDENTIAL_MAX + 1);
        long_value[PULL_CREDENTIAL_MAX + 1] = 0;
        expect(creds(2, "Username", "alice", "Password", long_value), "too long", NULL);
        long_value[PULL_CREDENTIAL_MAX] = 0;
        expect(creds(2, "Username", "alice", "Password", long_value), NULL, NULL);
}

int main(void) {
        bus_setup();
        test_accepted();
        test_refused();
        sd_bus_unref(bus);
        return 0;
}
