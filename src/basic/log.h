/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

/* Logging for programs: "prog: message" on stderr, or, when stderr is
 * connected to the journal (JOURNAL_STREAM matches), with a <N> priority
 * prefix so journald keeps the level. log_*_errno() return -abs(error) and
 * set errno so that %m prints it. */

void log_set_max_level(int level);
int log_get_max_level(void);
void log_set_program(const char *name);
/* Every line as "<N>program: message" on stderr from now on: stderr is a
 * journal stream with a priority prefix per line that JOURNAL_STREAM does
 * not name (a stage1 helper's relay stream); false: as decided above. */
void log_set_priority_prefix(bool on);

int log_internal(int level, int error, const char *file, int line, const char *func, const char *format, ...)
        _printf_(6, 7);

#define log_full_errno(level, error, ...)                                                     \
        ({                                                                                    \
                int _l = (level), _e = (error);                                               \
                _l <= log_get_max_level()                                                     \
                        ? log_internal(_l, _e, __FILE__, __LINE__, __func__, __VA_ARGS__)     \
                        : -abs(_e);                                                           \
        })
#define log_full(level, ...) (void) log_full_errno(level, 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, error, __VA_ARGS__)
#define log_info_errno(error, ...) log_full_errno(LOG_INFO, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, error, __VA_ARGS__)

#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
