/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The wire contract's errors: one map both sides register, and peapodd's
 * one errno -> name mapper agreeing with what a client reads back. */
#include "daemon.h"
#include "peapod-bus.h"
#include "string-util.h"
#include "tests.h"

/* The errno a client gets for name: the first pair of the map. */
static int map_errno(const char *name) {
        for (const sd_bus_error_map *m = peapod_bus_error_map; m->name; m++)
                if (streq(m->name, name))
                        return m->code;
        return 0;
}

TEST(map) {
        size_t n = 0;

        ASSERT_OK(peapod_bus_error_map_add());
        ASSERT_TRUE(peapod_bus_error_map_add() == 0);
        for (const sd_bus_error_map *m = peapod_bus_error_map; m->name; m++, n++) {
                sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(m->name, NULL);

                ASSERT_TRUE(startswith(m->name, "org.peapod1.Error."));
                ASSERT_TRUE(m->code > 0);
                /* Every name has words for a message-less error. */
                ASSERT_TRUE(peapod_bus_error_text(m->name) != NULL);
                ASSERT_TRUE(sd_bus_error_get_errno(&e) == map_errno(m->name));
        }
        ASSERT_TRUE(n >= 13);
        ASSERT_TRUE(peapod_bus_error_text("org.example.Error.Other") == NULL);
        ASSERT_TRUE(peapod_bus_error_text(NULL) == NULL);
}

TEST(scopes) {
        ASSERT_STREQ(bus_error_name_from_errno(BUS_ERROR_SCOPE_POD, -ENOENT), BUS_ERROR_NO_SUCH_IMAGE);
        ASSERT_STREQ(bus_error_name_from_errno(BUS_ERROR_SCOPE_POD, -EEXIST), BUS_ERROR_POD_EXISTS);
        ASSERT_STREQ(bus_error_name_from_errno(BUS_ERROR_SCOPE_POD, -EBUSY), BUS_ERROR_POD_RUNNING);
        ASSERT_STREQ(bus_error_name_from_errno(BUS_ERROR_SCOPE_POD, -EADDRINUSE), BUS_ERROR_PORT_IN_USE);
        ASSERT_STREQ(bus_error_name_from_errno(BUS_ERROR_SCOPE_POD, -EALREADY), BUS_ERROR_BAD_STATE);
        ASSERT_STREQ(bus_error_name_from_errno(BUS_ERROR_SCOPE_APP, -EEXIST), BUS_ERROR_APP_EXISTS);
        ASSERT_STREQ(bus_error_name_from_errno(BUS_ERROR_SCOPE_APP, -ENOENT), BUS_ERROR_NO_SUCH_IMAGE);
        ASSERT_STREQ(bus_error_name_from_errno(BUS_ERROR_SCOPE_APP, -EBUSY), BUS_ERROR_APP_RUNNING);
        ASSERT_STREQ(bus_error_name_from_errno(BUS_ERROR_SCOPE_APP, -EALREADY), BUS_ERROR_BAD_STATE);
        ASSERT_STREQ(bus_error_name_from_errno(BUS_ERROR_SCOPE_IMAGE, -ENOENT), BUS_ERROR_NO_SUCH_IMAGE);
        ASSERT_STREQ(bus_error_name_from_errno(BUS_ERROR_SCOPE_IMAGE, -ENOTUNIQ), BUS_ERROR_NO_SUCH_IMAGE);
        ASSERT_STREQ(bus_error_name_from_errno(BUS_ERROR_SCOPE_IMAGE, -EBUSY), BUS_ERROR_IMAGE_IN_USE);
        ASSERT_STREQ(bus_error_name_from_errno(BUS_ERROR_SCOPE_TRUST, -ENOENT), BUS_ERROR_NO_SUCH_KEY);
        for (int s = 0; s < _BUS_ERROR_SCOPE_MAX; s++) {
                ASSERT_STREQ(bus_error_name_from_errno(s, -EINVAL), SD_BUS_ERROR_INVALID_ARGS);
                ASSERT_STREQ(bus_error_name_from_errno(s, -E2BIG), SD_BUS_ERROR_INVALID_ARGS);
                ASSERT_TRUE(bus_error_name_from_errno(s, -EIO) == NULL);
        }
        ASSERT_TRUE(bus_error_name_from_errno(BUS_ERROR_SCOPE_ARGS, -ENOENT) == NULL);
        ASSERT_TRUE(bus_error_name_from_errno(BUS_ERROR_SCOPE_TRUST, -EBUSY) == NULL);
        /* systemd's NoSuchUnit comes as ENOENT: no image of ours is missing. */
        ASSERT_TRUE(bus_error_name_from_errno(BUS_ERROR_SCOPE_STATE, -ENOENT) == NULL);
        ASSERT_TRUE(bus_error_name_from_errno(BUS_ERROR_SCOPE_STATE, -EBUSY) == NULL);
}

/* Every name of a scope is reachable (no errno of it taken by a name
 * tried before it), and a client reads it back as the errno the core
 * returned for it. */
TEST(scopes_reachable) {
        static const struct {
                BusErrorScope scope;
                const char *name;
        } all[] = {
                { BUS_ERROR_SCOPE_POD, BUS_ERROR_NO_SUCH_IMAGE }, { BUS_ERROR_SCOPE_POD, BUS_ERROR_POD_EXISTS },
                { BUS_ERROR_SCOPE_POD, BUS_ERROR_POD_RUNNING },   { BUS_ERROR_SCOPE_POD, BUS_ERROR_PORT_IN_USE },
                { BUS_ERROR_SCOPE_POD, BUS_ERROR_BAD_STATE },     { BUS_ERROR_SCOPE_APP, BUS_ERROR_NO_SUCH_IMAGE },
                { BUS_ERROR_SCOPE_APP, BUS_ERROR_APP_EXISTS },    { BUS_ERROR_SCOPE_APP, BUS_ERROR_APP_RUNNING },
                { BUS_ERROR_SCOPE_APP, BUS_ERROR_BAD_STATE },     { BUS_ERROR_SCOPE_IMAGE, BUS_ERROR_NO_SUCH_IMAGE },
                { BUS_ERROR_SCOPE_IMAGE, BUS_ERROR_IMAGE_IN_USE }, { BUS_ERROR_SCOPE_TRUST, BUS_ERROR_NO_SUCH_KEY },
                { BUS_ERROR_SCOPE_STATE, BUS_ERROR_BAD_STATE },
        };

        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                ASSERT_STREQ(bus_error_name_from_errno(all[i].scope, -map_errno(all[i].name)), all[i].name);
}

TEST(set) {
        static const struct {
                BusErrorScope scope;
                int r;
        } named[] = {
                { BUS_ERROR_SCOPE_POD, -EEXIST },   { BUS_ERROR_SCOPE_POD, -EBUSY },
                { BUS_ERROR_SCOPE_POD, -EADDRINUSE }, { BUS_ERROR_SCOPE_APP, -EEXIST },
                { BUS_ERROR_SCOPE_POD, -EALREADY }, { BUS_ERROR_SCOPE_APP, -EALREADY },
                { BUS_ERROR_SCOPE_APP, -EBUSY },
                { BUS_ERROR_SCOPE_IMAGE, -ENOENT }, { BUS_ERROR_SCOPE_IMAGE, -EBUSY },
                { BUS_ERROR_SCOPE_TRUST, -ENOENT },
        };
        sd_bus_error e = SD_BUS_ERROR_NULL;

        ASSERT_OK(peapod_bus_error_map_add());
        /* What peapodd sends, a client reads back as the core's errno. */
        for (size_t i = 0; i < ELEMENTSOF(named); i++) {
                ASSERT_ERR(bus_error_from_errno(&e, named[i].scope, named[i].r, NULL, "Failed"), -named[i].r);
                ASSERT_STREQ(e.name, bus_error_name_from_errno(named[i].scope, named[i].r));
                ASSERT_TRUE(sd_bus_error_get_errno(&e) == -named[i].r);
                sd_bus_error_free(&e);
        }

        ASSERT_ERR(bus_error_from_errno(&e, BUS_ERROR_SCOPE_IMAGE, -EBUSY, "Image x is used by pod p",
                                        "Failed to remove image %s", "x"),
                   EBUSY);
        ASSERT_STREQ(e.name, BUS_ERROR_IMAGE_IN_USE);
        ASSERT_STREQ(e.message, "Image x is used by pod p");
        sd_bus_error_free(&e);

        ASSERT_ERR(bus_error_from_errno(&e, BUS_ERROR_SCOPE_POD, -ENOENT, "", "Failed to create pod"), ENOENT);
        ASSERT_STREQ(e.message, "Image not found");
        sd_bus_error_free(&e);

        ASSERT_ERR(bus_error_from_errno(&e, BUS_ERROR_SCOPE_APP, -E2BIG, "Too many", "Failed"), EINVAL);
        ASSERT_STREQ(e.name, SD_BUS_ERROR_INVALID_ARGS);
        sd_bus_error_free(&e);

        /* Not one of ours: an errno error that says what failed. */
        ASSERT_ERR(bus_error_from_errno(&e, BUS_ERROR_SCOPE_IMAGE, -EIO, NULL, "Failed to tag image %s", "busybox"), EIO);
        ASSERT_STREQ(e.name, SD_BUS_ERROR_IO_ERROR);
        ASSERT_STREQ(e.message, "Failed to tag image busybox: Input/output error");
        sd_bus_error_free(&e);
        ASSERT_ERR(bus_error_from_errno(&e, BUS_ERROR_SCOPE_ARGS, -ENOENT, "gpg said no", "Failed to add the key"), ENOENT);
        ASSERT_STREQ(e.message, "Failed to add the key: gpg said no");
        sd_bus_error_free(&e);
}

int main(void) {
        test_map();
        test_scopes();
        test_scopes_reachable();
        test_set();
        return 0;
}
