/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <string.h>

#include "macro.h"
#include "valid-util.h"

bool hostname_is_valid(const char *s) {
        if (isempty(s) || strlen(s) > HOSTNAME_MAX)
                return false;
        if (s[0] == '-' || s[0] == '.' || strstr(s, ".."))
                return false;
        for (const char *p = s; *p; p++)
                if (!isascii((unsigned char) *p) || !(isalnum((unsigned char) *p) || *p == '-' || *p == '.'))
                        return false;
        return true;
}

bool env_assignment_is_valid(const char *s) {
        const char *eq;

        if (!s)
                return false;
        eq = strchr(s, '=');
        return eq && eq != s;
}

bool user_part_is_valid(const char *s, size_t n) {
        if (!s || n == 0 || n > USER_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == ':' || s[i] == ',')
                        return false;
        return true;
}

bool user_spec_is_valid(const char *s) {
        const char *colon;

        if (isempty(s))
                return false;
        colon = strchr(s, ':');
        if (!colon)
                return user_part_is_valid(s, strlen(s));
        return user_part_is_valid(s, (size_t) (colon - s)) && user_part_is_valid(colon + 1, strlen(colon + 1));
}

bool overlay_dir_is_valid(const char *s) {
        return !isempty(s) && s[0] == '/' && !strpbrk(s, ",:\\");
}

bool sysctl_key_is_pod_settable(const char *key, bool host_network) {
        static const char *const ipc[] = { "kernel.shmmax", "kernel.shmall", "kernel.shmmni", "kernel.shm_rmid_forced",
                                           "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem" };
        size_t n;

        if (!key)
                return false;
        n = strlen(key);
        if (n == 0 || n > SYSCTL_KEY_MAX || key[0] == '.' || key[n - 1] == '.' || strstr(key, ".."))
                return false;
        if (strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != n)
                return false;
        if (strncmp(key, "net.", 4) == 0)
                return !host_network;
        if (strncmp(key, "fs.mqueue.", 10) == 0)
                return true;
        for (size_t i = 0; i < sizeof(ipc) / sizeof(ipc[0]); i++)
                if (strcmp(key, ipc[i]) == 0)
                        return true;
        return false;
}

bool sysctl_value_is_valid(const char *value) {
        size_t n;

        if (!value)
                return false;
        n = strlen(value);
        if (n == 0 || n > SYSCTL_VALUE_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (value[i] != '\t' && (value[i] < 0x20 || value[i] > 0x7e))
                        return false;
        return true;
}

bool sysctl_assignment_is_valid(const char *s, bool host_network) {
        const char *eq = s ? strchr(s, '=') : NULL;
        char key[SYSCTL_KEY_MAX + 1];

        if (!eq || (size_t) (eq - s) > SYSCTL_KEY_MAX)
                return false;
        memcpy(key, s, eq - s);
        key[eq - s] = 0;
        return sysctl_key_is_pod_settable(key, host_network) && sysctl_value_is_valid(eq + 1);
}

bool ifname_is_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        return n > 0 && n < 16 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}
