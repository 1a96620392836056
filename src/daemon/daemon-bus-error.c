/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one place where peapodd turns a -errno of its core into an error
 * name: the pairs are those of the shared map (peapod-bus.c), so what a
 * client's sd_bus_error_get_errno() says is what the core returned. */
#include <stdarg.h>
#include <stdio.h>

#include "daemon.h"
#include "string-util.h"

/* The names a call of each scope can fail with, in the order they are
 * tried; an errno that two names of one scope share would be ambiguous, so
 * no scope has two. */
static const char * const scope_errors[_BUS_ERROR_SCOPE_MAX][6] = {
        [BUS_ERROR_SCOPE_POD] = { BUS_ERROR_NO_SUCH_IMAGE, BUS_ERROR_POD_EXISTS, BUS_ERROR_POD_RUNNING,
                                  BUS_ERROR_PORT_IN_USE, BUS_ERROR_BAD_STATE },
        [BUS_ERROR_SCOPE_APP] = { BUS_ERROR_NO_SUCH_IMAGE, BUS_ERROR_APP_EXISTS, BUS_ERROR_APP_RUNNING,
                                  BUS_ERROR_BAD_STATE },
        [BUS_ERROR_SCOPE_IMAGE] = { BUS_ERROR_NO_SUCH_IMAGE, BUS_ERROR_IMAGE_IN_USE },
        [BUS_ERROR_SCOPE_TRUST] = { BUS_ERROR_NO_SUCH_KEY },
        [BUS_ERROR_SCOPE_STATE] = { BUS_ERROR_BAD_STATE },
};

const char *bus_error_name_from_errno(BusErrorScope scope, int r) {
        if (r == -EINVAL || r == -E2BIG)
                return SD_BUS_ERROR_INVALID_ARGS;
        if (scope < 0 || scope >= _BUS_ERROR_SCOPE_MAX)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(scope_errors[scope]) && scope_errors[scope][i]; i++)
                for (const sd_bus_error_map *m = peapod_bus_error_map; m->name; m++)
                        if (streq(m->name, scope_errors[scope][i]) && m->code == -r)
                                return m->name;
        return NULL;
}

int bus_error_from_errno(sd_bus_error *error, BusErrorScope scope, int r, const char *message, const char *format, ...) {
        _cleanup_free_ char *what = NULL;
        const char *name;
        va_list ap;
        int k;

        name = bus_error_name_from_errno(scope, r);
        if (name)
                return sd_bus_error_setf(error, name, "%s",
                                         !isempty(message) ? message : peapod_bus_error_text(name) ?: "Invalid argument");
        va_start(ap, format);
        k = vasprintf(&what, format, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        return sd_bus_error_set_errnof(error, r, "%s: %s", what, !isempty(message) ? message : strerror(-r));
}
