/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Says which ids it runs with: installed setuid root (or with file
 * capabilities) on a mount the host makes below a volume's source, it
 * shows whether exec raised the app's privileges.
 *
 *   suid-euid
 *       prints "uid=U euid=E caps=HEX" (the effective capability set,
 *       from /proc/self/status). Exit 2 when it runs with euid 0 or any
 *       effective capability while its real uid is not 0, else 0. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
        unsigned long long eff = 0;
        char line[256];
        FILE *f;

        f = fopen("/proc/self/status", "re");
        if (f) {
                while (fgets(line, sizeof(line), f))
                        if (strncmp(line, "CapEff:", 7) == 0)
                                (void) sscanf(line + 7, "%llx", &eff);
                fclose(f);
        }
        printf("uid=%d euid=%d caps=%llx\n", (int) getuid(), (int) geteuid(), eff);
        fflush(stdout);
        return getuid() != 0 && (geteuid() == 0 || eff != 0) ? 2 : 0;
}
