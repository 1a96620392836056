/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The smallest hostile app: proves the static-program image path works.
 * Prints "probe uid=U" and exits 0. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
        printf("probe uid=%u\n", (unsigned) getuid());
        return 0;
}
