/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "peapod-bus.h"

const sd_bus_error_map peapod_bus_error_map[] = {
        SD_BUS_ERROR_MAP(BUS_ERROR_NO_SUCH_POD, ENXIO),
        SD_BUS_ERROR_MAP(BUS_ERROR_POD_EXISTS, EEXIST),
        SD_BUS_ERROR_MAP(BUS_ERROR_INVALID_NAME, EINVAL),
        SD_BUS_ERROR_MAP(BUS_ERROR_POD_RUNNING, EBUSY),
        SD_BUS_ERROR_MAP(BUS_ERROR_POD_NOT_RUNNING, ESRCH),
        SD_BUS_ERROR_MAP(BUS_ERROR_BAD_STATE, EALREADY),
        SD_BUS_ERROR_MAP(BUS_ERROR_PORT_IN_USE, EADDRINUSE),
        SD_BUS_ERROR_MAP(BUS_ERROR_NO_SUCH_APP, ENXIO),
        SD_BUS_ERROR_MAP(BUS_ERROR_APP_EXISTS, EEXIST),
        SD_BUS_ERROR_MAP(BUS_ERROR_APP_RUNNING, EBUSY),
        SD_BUS_ERROR_MAP(BUS_ERROR_NO_SUCH_IMAGE, ENOENT),
        SD_BUS_ERROR_MAP(BUS_ERROR_NO_SUCH_IMAGE, ENOTUNIQ),
        SD_BUS_ERROR_MAP(BUS_ERROR_IMAGE_IN_USE, EBUSY),
        SD_BUS_ERROR_MAP(BUS_ERROR_NO_SUCH_KEY, ENOENT),
        SD_BUS_ERROR_MAP_END,
};

int peapod_bus_error_map_add(void) {
        /* sd-bus keeps a process-wide list and returns 0 for a table it
         * has already. */
        return sd_bus_error_add_map(peapod_bus_error_map);
}

const char *peapod_bus_error_text(const char *name) {
        static const struct {
                const char *name, *text;
        } texts[] = {
                { BUS_ERROR_NO_SUCH_POD, "No such pod" },
                { BUS_ERROR_POD_EXISTS, "A pod of that name exists already" },
                { BUS_ERROR_INVALID_NAME, "Invalid name" },
                { BUS_ERROR_POD_RUNNING, "Pod is running" },
                { BUS_ERROR_POD_NOT_RUNNING, "Pod is not running" },
                { BUS_ERROR_BAD_STATE, "Pod or app is not in a state that allows this" },
                { BUS_ERROR_PORT_IN_USE, "A host port is in use" },
                { BUS_ERROR_NO_SUCH_APP, "No such app" },
                { BUS_ERROR_APP_EXISTS, "An app of that name exists already" },
                { BUS_ERROR_APP_RUNNING, "App is running" },
                { BUS_ERROR_NO_SUCH_IMAGE, "Image not found" },
                { BUS_ERROR_IMAGE_IN_USE, "Image is in use" },
                { BUS_ERROR_NO_SUCH_KEY, "No such trusted key" },
        };

        if (!name)
                return NULL;
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
                if (strcmp(texts[i].name, name) == 0)
                        return texts[i].text;
        return NULL;
}
