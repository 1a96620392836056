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
