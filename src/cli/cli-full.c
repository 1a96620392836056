/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* peapod is built without the verbs that need libcurl and gpgme (login and
 * logout check credentials against a registry, trust add reads a key, image
 * sign signs with the caller's key): those are peapod-full's, the same CLI
 * with every verb, which these stand-ins exec with our own command line.
 * Every other verb then starts without loading those two libraries and the
 * ~30 they pull in (TLS, Kerberos, LDAP, IDN...), whose loading cost a
 * `peapod run -d`, `wait` or `rm` more than its own work did (see "Start
 * cost" in docs/DESIGN.md). */
#include <libgen.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int exec_full(void) {
        char self[PATH_MAX], sibling[PATH_MAX];
        ssize_t n;

        /* Next to our own executable first: that is where the build tree
         * has it, and whoever may write into our directory could replace
         * us as well. Else where it is installed. */
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
                self[n] = 0;
                if (snprintf(sibling, sizeof(sibling), "%s/peapod-full", dirname(self)) < (int) sizeof(sibling) &&
                    access(sibling, X_OK) >= 0)
                        execv(sibling, cli_argv);
        }
        execv(PEAPOD_FULL_PATH, cli_argv);
        return log_error_errno(errno, "Failed to run " PEAPOD_FULL_PATH ": %m");
}

int verb_trust(int argc, char *argv[]) {
        return exec_full();
}

int verb_image_sign(int argc, char *argv[]) {
        return exec_full();
}

int verb_login(int argc, char *argv[]) {
        return exec_full();
}

int verb_logout(int argc, char *argv[]) {
        return exec_full();
}
