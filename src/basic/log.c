/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

static int max_level = LOG_INFO;
static const char *program;
static int to_journal = -1;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_program(const char *name) {
        program = name;
}

static bool priority_prefix;

void log_set_priority_prefix(bool on) {
        priority_prefix = on;
}

/* systemd sets JOURNAL_STREAM=dev:ino for the stream it connects to stderr;
 * only then does a "<N>" prefix mean a priority rather than text. */
static int stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return 0;
        if (fstat(STDERR_FILENO, &st) < 0)
                return 0;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

int log_internal(int level, int error, const char *file, int line, const char *func, const char *format, ...) {
        char buf[2048];
        va_list ap;
        int saved = errno;

        (void) file;
        (void) line;
        (void) func;

        if (error != 0)
                errno = abs(error);
        va_start(ap, format);
        vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);

        if (!priority_prefix && to_journal < 0)
                to_journal = stderr_is_journal();
        if (priority_prefix)
                fprintf(stderr, "<%d>%s%s%s\n", level & LOG_PRIMASK, program ?: "", program ? ": " : "", buf);
        else if (to_journal)
                fprintf(stderr, "<%d>%s\n", level & LOG_PRIMASK, buf);
        else if (program)
                fprintf(stderr, "%s: %s\n", program, buf);
        else
                fprintf(stderr, "%s\n", buf);

        errno = error != 0 ? abs(error) : saved;
        return -abs(error);
}
