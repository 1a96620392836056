/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/param.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "cni.h"
#include "fs-util.h"
#include "json-util.h"
#include "string-util.h"
#include "strv.h"
#include "time-util.h"

/* Deep enough for any real config or result; json-c's default is 32. */
#define CNI_JSON_DEPTH 16

CniResult *cni_result_free(CniResult *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_interfaces; i++) {
                free(r->interfaces[i].name);
                free(r->interfaces[i].mac);
                free(r->interfaces[i].sandbox);
        }
        free(r->interfaces);
        for (size_t i = 0; i < r->n_ips; i++) {
                free(r->ips[i].address);
                free(r->ips[i].gateway);
        }
        free(r->ips);
        strv_free(r->nameservers);
        strv_free(r->search);
        free(r->cni_version);
        free(r);
        return NULL;
}

bool cni_network_name_is_valid(const char *s) {
        size_t n;

        if (isempty(s))
                return false;
        n = strlen(s);
        if (n > CNI_NAME_MAX)
                return false;
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* A plugin type becomes a file name below a plugin directory: no '/', no
 * leading '.', so it can never leave that directory. */
static bool cni_plugin_type_is_valid(const char *s) {
        size_t n;

        if (isempty(s) || s[0] == '.')
                return false;
        n = strlen(s);
        return n <= CNI_NAME_MAX &&
               strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static bool text_is_printable(const char *s, size_t max) {
        size_t n = strnlen(s, max + 1);

        if (n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

/* An optional string member: absent or null gives NULL. */
static int json_dup_string_opt(json_object *o, const char *key, size_t max, char **ret) {
        json_object *v;
        char *s;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string) || !text_is_printable(json_object_get_string(v), max))
                return -EBADMSG;
        s = strdup(json_object_get_string(v));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int json_array_opt(json_object *o, const char *key, json_object **ret, size_t *ret_n) {
        json_object *v;

        *ret = NULL;
        *ret_n = 0;
        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return -EBADMSG;
        if (json_object_array_length(v) > CNI_RESULT_ITEMS_MAX)
                return -EBADMSG;
        *ret = v;
        *ret_n = json_object_array_length(v);
        return 0;
}

static int json_strv_opt(json_object *o, const char *key, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        json_object *a;
        size_t n;
        int r;

        r = json_array_opt(o, key, &a, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(a, i);

                if (!json_object_is_type(e, json_type_string) || !text_is_printable(json_object_get_string(e), 256))
                        return -EBADMSG;
                r = strv_extend(&l, json_object_get_string(e));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int cni_result_from_json(json_object *j, CniResult **ret) {
        _cleanup_(cni_result_freep) CniResult *res = NULL;
        json_object *a, *dns;
        size_t n;
        int r;

        if (!json_object_is_type(j, json_type_object))
                return -EBADMSG;
        res = calloc(1, sizeof(*res));
        if (!res)
                return -ENOMEM;
        r = json_dup_string_opt(j, "cniVersion", 32, &res->cni_version);
        if (r < 0)
                return r;

        r = json_array_opt(j, "interfaces", &a, &n);
        if (r < 0)
                return r;
        res->interfaces = calloc(n ?: 1, sizeof(CniInterface));
        if (!res->interfaces)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(a, i);
                CniInterface *itf = &res->interfaces[i];

                if (!json_object_is_type(e, json_type_object))
                        return -EBADMSG;
                res->n_interfaces++;
                if ((r = json_dup_string_opt(e, "name", 64, &itf->name)) < 0 ||
                    (r = json_dup_string_opt(e, "mac", 64, &itf->mac)) < 0 ||
                    (r = json_dup_string_opt(e, "sandbox", 4096, &itf->sandbox)) < 0)
                        return r;
                if (isempty(itf->name))
                        return -EBADMSG;
        }

        r = json_array_opt(j, "ips", &a, &n);
        if (r < 0)
                return r;
        res->ips = calloc(n ?: 1, sizeof(CniIp));
        if (!res->ips)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(a, i), *v;
                CniIp *ip = &res->ips[i];

                if (!json_object_is_type(e, json_type_object))
                        return -EBADMSG;
                res->n_ips++;
                ip->interface = -1;
                if ((r = json_dup_string_opt(e, "address", 64, &ip->address)) < 0 ||
                    (r = json_dup_string_opt(e, "gateway", 64, &ip->gateway)) < 0)
                        return r;
                if (isempty(ip->address) || !strchr(ip->address, '/'))
                        return -EBADMSG;
                if (json_object_object_get_ex(e, "interface", &v) && !json_object_is_type(v, json_type_null)) {
                        int64_t k;

                        if (!json_object_is_type(v, json_type_int))
                                return -EBADMSG;
                        k = json_object_get_int64(v);
                        if (k < 0 || (size_t) k >= res->n_interfaces)
                                return -EBADMSG;
                        ip->interface = (int) k;
                }
        }

        if (json_object_object_get_ex(j, "dns", &dns) && !json_object_is_type(dns, json_type_null)) {
                if (!json_object_is_type(dns, json_type_object))
                        return -EBADMSG;
                if ((r = json_strv_opt(dns, "nameservers", &res->nameservers)) < 0 ||
                    (r = json_strv_opt(dns, "search", &res->search)) < 0)
                        return r;
        }
        *ret = TAKE_PTR(res);
        return 0;
}

static int json_parse_bounded(const char *text, size_t size, size_t max, json_object **ret) {
        _cleanup_json_ json_object *o = NULL;
        json_tokener *tok;

        if (size > max)
                return -EFBIG;
        if (memchr(text, 0, size))
                return -EBADMSG;
        tok = json_tokener_new_ex(CNI_JSON_DEPTH);
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, text, (int) size);
        if (!o || json_tokener_get_error(tok) != json_tokener_success ||
            json_tokener_get_parse_end(tok) != size) {
                /* Trailing blanks are fine (plugins end with a newline). */
                bool trailing_ok = o && json_tokener_get_error(tok) == json_tokener_success;
                for (size_t i = json_tokener_get_parse_end(tok); trailing_ok && i < size; i++)
                        if (!strchr(" \t\r\n", text[i]))
                                trailing_ok = false;
                if (!trailing_ok) {
                        json_tokener_free(tok);
                        return -EBADMSG;
                }
        }
        json_tokener_free(tok);
        *ret = TAKE_PTR(o);
        return 0;
}

int cni_result_parse(const char *text, size_t size, CniResult **ret) {
        _cleanup_json_ json_object *o = NULL;
        int r;

        r = json_parse_bounded(text, size, CNI_OUTPUT_MAX, &o);
        if (r < 0)
                return r;
        return cni_result_from_json(o, ret);
}

int cni_conflist_parse(const char *text, size_t size, bool single, json_object **ret, PeapodError *err) {
        _cleanup_json_ json_object *o = NULL;
        json_object *plugins, *v;
        const char *name, *version;
        size_t n;
        int r;

        r = json_parse_bounded(text, size, CNI_CONFIG_FILE_MAX, &o);
        if (r < 0)
                return peapod_error_set(err, r, "not valid JSON (or larger than %d bytes)", CNI_CONFIG_FILE_MAX);
        if (!json_object_is_type(o, json_type_object))
                return peapod_error_set(err, -EBADMSG, "not a JSON object");
        if (json_get_string(o, "name", &name) < 0 || !cni_network_name_is_valid(name))
                return peapod_error_set(err, -EBADMSG, "missing or invalid \"name\"");
        if (json_get_string(o, "cniVersion", &version) < 0 || !text_is_printable(version, 32))
                return peapod_error_set(err, -EBADMSG, "missing or invalid \"cniVersion\"");

        if (single) {
                /* A .conf is one plugin: make it a list of itself. */
                _cleanup_json_ json_object *list = json_object_new_object(), *arr = json_object_new_array();

                if (!list || !arr)
                        return -ENOMEM;
                json_object_object_add(list, "cniVersion", json_object_new_string(version));
                json_object_object_add(list, "name", json_object_new_string(name));
                json_object_array_add(arr, TAKE_PTR(o));
                json_object_object_add(list, "plugins", TAKE_PTR(arr));
                o = TAKE_PTR(list);
        }

        if (!json_object_object_get_ex(o, "plugins", &plugins) || !json_object_is_type(plugins, json_type_array))
                return peapod_error_set(err, -EBADMSG, "missing \"plugins\" array");
        n = json_object_array_length(plugins);
        if (n == 0 || n > CNI_PLUGINS_MAX)
                return peapod_error_set(err, -EBADMSG, "1 to %d plugins needed, found %zu", CNI_PLUGINS_MAX, n);
        for (size_t i = 0; i < n; i++) {
                json_object *p = json_object_array_get_idx(plugins, i);
                const char *type;

                if (!json_object_is_type(p, json_type_object))
                        return peapod_error_set(err, -EBADMSG, "plugin %zu is not an object", i + 1);
                if (json_get_string(p, "type", &type) < 0 || !cni_plugin_type_is_valid(type))
                        return peapod_error_set(err, -EBADMSG, "plugin %zu has no valid \"type\"", i + 1);
                if (json_object_object_get_ex(p, "capabilities", &v) && !json_object_is_type(v, json_type_object))
                        return peapod_error_set(err, -EBADMSG, "plugin %zu: \"capabilities\" is not an object", i + 1);
        }
        *ret = TAKE_PTR(o);
        return 0;
}

static int dirent_compare(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

int cni_conflist_load(const char *dir, const char *name, json_object **ret, PeapodError *err) {
        _cleanup_strv_free_ char **files = NULL;
        size_t n = 0;
        DIR *d;
        struct dirent *de;
        int r = 0;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT)
                        return peapod_error_set(err, -ENOENT, "No CNI network '%s': %s does not exist", name, dir);
                return peapod_error_set(err, -errno, "Failed to open %s: %m", dir);
        }
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || !(endswith(de->d_name, ".conflist") || endswith(de->d_name, ".conf")))
                        continue;
                if (++n > CNI_CONFIG_FILES_MAX)
                        break;
                r = strv_extend(&files, de->d_name);
                if (r < 0)
                        break;
        }
        closedir(d);
        if (r < 0)
                return r;
        if (files)
                qsort(files, strv_length(files), sizeof(char *), dirent_compare);

        FOREACH_STRV(f, files) {
                _cleanup_free_ char *path = NULL, *text = NULL;
                _cleanup_json_ json_object *list = NULL;
                const char *lname;
                size_t size;

                if (asprintf(&path, "%s/%s", dir, f) < 0)
                        return -ENOMEM;
                if (read_file(path, CNI_CONFIG_FILE_MAX, &text, &size) < 0)
                        continue; /* unreadable or too big: not ours to judge */
                /* Broken files of other networks must not stop this one. */
                if (cni_conflist_parse(text, size, endswith(f, ".conf") != NULL, &list, NULL) < 0)
                        continue;
                if (json_get_string(list, "name", &lname) < 0 || !streq(lname, name))
                        continue;
                *ret = TAKE_PTR(list);
                return 0;
        }
        return peapod_error_set(err, -ENOENT, "No CNI network '%s' in %s", name, dir);
}

static int plugin_find(char * const *dirs, const char *type, char **ret) {
        FOREACH_STRV(d, dirs) {
                _cleanup_free_ char *p = NULL;
                struct stat st;

                if (asprintf(&p, "%s/%s", d, type) < 0)
                        return -ENOMEM;
                if (stat(p, &st) < 0 || !S_ISREG(st.st_mode) || access(p, X_OK) < 0)
                        continue;
                *ret = TAKE_PTR(p);
                return 0;
        }
        return -ENOENT;
}

static uint64_t now_mono(void) {
        return now_usec(CLOCK_MONOTONIC);
}

/* A failed plugin's message: its error object's msg and details, else the
 * last line of its stderr. */
static int plugin_failure(PeapodError *err, const char *type, const char *command, int status, const char *out,
                          size_t out_len, const char *errtext) {
        _cleanup_json_ json_object *o = NULL;

        if (out_len > 0 && json_parse_bounded(out, out_len, CNI_OUTPUT_MAX, &o) >= 0 &&
            json_object_is_type(o, json_type_object)) {
                const char *msg = NULL, *details = NULL;
                int64_t code = 0;

                (void) json_get_string_opt(o, "msg", &msg);
                (void) json_get_string_opt(o, "details", &details);
                (void) json_get_int64(o, "code", &code);
                if (msg)
                        return peapod_error_set(err, -EIO, "CNI plugin %s %s failed (code %" PRIi64 "): %.200s%s%.200s",
                                                type, command, code, msg, isempty(details) ? "" : ": ", strempty(details));
        }
        if (!isempty(errtext)) {
                const char *last = errtext, *nl;
                size_t len = strlen(errtext);

                while (len > 0 && errtext[len - 1] == '\n')
                        len--;
                for (nl = errtext; (nl = memchr(nl, '\n', len - (size_t) (nl - errtext))); nl++)
                        last = nl + 1;
                return peapod_error_set(err, -EIO, "CNI plugin %s %s failed (exit status %d): %.*s", type, command,
                                        status, (int) MIN(len - (size_t) (last - errtext), (size_t) 300), last);
        }
        return peapod_error_set(err, -EIO, "CNI plugin %s %s failed (exit status %d)", type, command, status);
}

int cni_plugin_exec(const CniContext *c, const char *command, const char *type, const char *config,
                    char **ret_output, PeapodError *err) {
        _cleanup_free_ char *path = NULL, *cni_path = NULL, *out = NULL;
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_close_ int in_fd = -EBADF, out_fd = -EBADF, err_fd = -EBADF;
        char errbuf[CNI_STDERR_MAX + 1];
        size_t out_len = 0, err_len = 0, in_off = 0, in_len = strlen(config);
        uint64_t timeout = c->timeout_usec ?: CNI_DEFAULT_TIMEOUT_USEC, deadline;
        int sp[2], op[2], ep[2], status = 0;
        bool timed_out = false, too_big = false;
        pid_t pid;
        int r;

        if (!cni_plugin_type_is_valid(type))
                return peapod_error_set(err, -EINVAL, "Invalid CNI plugin type '%s'", type);
        r = plugin_find(c->plugin_dirs, type, &path);
        if (r < 0) {
                _cleanup_free_ char *dirs = strv_join(c->plugin_dirs, ":");
                return peapod_error_set(err, r, "CNI plugin '%s' not found in %s", type, strna(dirs));
        }
        cni_path = strv_join(c->plugin_dirs, ":");
        if (!cni_path)
                return -ENOMEM;

        /* A clean environment: only what the spec defines, and a PATH for
         * the tools plugins run themselves (iptables). */
        {
                const char *vars[][2] = {
                        { "CNI_COMMAND", command },
                        { "CNI_CONTAINERID", c->container_id },
                        { "CNI_NETNS", c->netns },
                        { "CNI_IFNAME", c->ifname },
                        { "CNI_ARGS", c->args },
                        { "CNI_PATH", cni_path },
                        { "PATH", CNI_TOOLS_PATH },
                };
                for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
                        char *e;

                        if (!vars[i][1])
                                continue;
                        if (asprintf(&e, "%s=%s", vars[i][0], vars[i][1]) < 0)
                                return -ENOMEM;
                        r = strv_consume(&env, e);
                        if (r < 0)
                                return r;
                }
        }

        /* stdin is a socket so that a plugin that exits without reading
         * cannot kill us with SIGPIPE (send() with MSG_NOSIGNAL). */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                return -errno;
        in_fd = sp[0];
        if (pipe2(op, O_CLOEXEC) < 0) {
                safe_close(sp[1]);
                return -errno;
        }
        out_fd = op[0];
        if (pipe2(ep, O_CLOEXEC) < 0) {
                safe_close(sp[1]);
                safe_close(op[1]);
                return -errno;
        }
        err_fd = ep[0];

        pid = fork();
        if (pid < 0) {
                r = -errno;
                safe_close(sp[1]);
                safe_close(op[1]);
                safe_close(ep[1]);
                return r;
        }
        if (pid == 0) {
                sigset_t ss;

                sigemptyset(&ss);
                sigprocmask(SIG_SETMASK, &ss, NULL);
                for (int s = 1; s < NSIG; s++)
                        (void) signal(s, SIG_DFL);
                if (dup2(sp[1], STDIN_FILENO) < 0 || dup2(op[1], STDOUT_FILENO) < 0 || dup2(ep[1], STDERR_FILENO) < 0)
                        _exit(126);
                close_range(3, ~0U, 0);
                execve(path, STRV_MAKE(type), env);
                _exit(127);
        }
        safe_close(sp[1]);
        safe_close(op[1]);
        safe_close(ep[1]);
        (void) fcntl(in_fd, F_SETFL, O_NONBLOCK);

        out = malloc(CNI_OUTPUT_MAX + 1);
        if (!out) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                return -ENOMEM;
        }

        deadline = now_mono() + timeout;
        while (out_fd >= 0 || err_fd >= 0) {
                struct pollfd pf[3];
                nfds_t nf = 0;
                int idx_in = -1, idx_out = -1, idx_err = -1;
                uint64_t now = now_mono();
                char buf[4096];

                if (now >= deadline) {
                        timed_out = true;
                        break;
                }
                if (in_fd >= 0) {
                        idx_in = (int) nf;
                        pf[nf++] = (struct pollfd) { .fd = in_fd, .events = POLLOUT };
                }
                if (out_fd >= 0) {
                        idx_out = (int) nf;
                        pf[nf++] = (struct pollfd) { .fd = out_fd, .events = POLLIN };
                }
                if (err_fd >= 0) {
                        idx_err = (int) nf;
                        pf[nf++] = (struct pollfd) { .fd = err_fd, .events = POLLIN };
                }
                r = poll(pf, nf, (int) MIN((deadline - now + 999) / 1000, (uint64_t) INT32_MAX));
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        (void) kill(pid, SIGKILL);
                        (void) waitpid(pid, NULL, 0);
                        return r;
                }
                if (idx_in >= 0 && pf[idx_in].revents) {
                        ssize_t n = in_len > in_off ? send(in_fd, config + in_off, in_len - in_off, MSG_NOSIGNAL) : 0;

                        if (n < 0 && errno != EAGAIN && errno != EINTR)
                                in_fd = safe_close(in_fd); /* it stopped reading: its business */
                        else if (n > 0)
                                in_off += (size_t) n;
                        if (in_fd >= 0 && in_off >= in_len) {
                                (void) shutdown(in_fd, SHUT_WR);
                                in_fd = safe_close(in_fd);
                        }
                }
                if (idx_out >= 0 && pf[idx_out].revents) {
                        ssize_t n = read(out_fd, buf, sizeof(buf));

                        if (n < 0 && errno != EAGAIN && errno != EINTR)
                                out_fd = safe_close(out_fd);
                        else if (n == 0)
                                out_fd = safe_close(out_fd);
                        else if (n > 0) {
                                if (out_len + (size_t) n > CNI_OUTPUT_MAX) {
                                        too_big = true;
                                        break;
                                }
                                memcpy(out + out_len, buf, (size_t) n);
                                out_len += (size_t) n;
                        }
                }
                if (idx_err >= 0 && pf[idx_err].revents) {
                        ssize_t n = read(err_fd, buf, sizeof(buf));

                        if (n < 0 && errno != EAGAIN && errno != EINTR)
                                err_fd = safe_close(err_fd);
                        else if (n == 0)
                                err_fd = safe_close(err_fd);
                        else if (n > 0) {
                                /* Keep the end: that is where the reason is. */
                                size_t k = (size_t) n;
                                if (k >= CNI_STDERR_MAX) {
                                        memcpy(errbuf, buf + k - CNI_STDERR_MAX, CNI_STDERR_MAX);
                                        err_len = CNI_STDERR_MAX;
                                } else {
                                        if (err_len + k > CNI_STDERR_MAX) {
                                                size_t drop = err_len + k - CNI_STDERR_MAX;
                                                memmove(errbuf, errbuf + drop, err_len - drop);
                                                err_len -= drop;
                                        }
                                        memcpy(errbuf + err_len, buf, k);
                                        err_len += k;
                                }
                        }
                }
        }
        errbuf[err_len] = 0;
        out[out_len] = 0;

        if (timed_out || too_big) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                if (timed_out)
                        return peapod_error_set(err, -ETIMEDOUT, "CNI plugin %s %s timed out after %" PRIu64 " s", type,
                                                command, timeout / 1000000);
                return peapod_error_set(err, -EFBIG, "CNI plugin %s %s wrote more than %d bytes", type, command,
                                        CNI_OUTPUT_MAX);
        }
        /* Its output is closed; it may still linger: bounded by the deadline. */
        for (;;) {
                pid_t w = waitpid(pid, &status, WNOHANG);

                if (w == pid)
                        break;
                if (w < 0 && errno != EINTR)
                        return -errno;
                if (now_mono() >= deadline) {
                        (void) kill(pid, SIGKILL);
                        (void) waitpid(pid, NULL, 0);
                        return peapod_error_set(err, -ETIMEDOUT, "CNI plugin %s %s timed out", type, command);
                }
                (void) usleep(5000);
        }
        if (!WIFEXITED(status))
                return peapod_error_set(err, -EIO, "CNI plugin %s %s was killed by signal %d", type, command,
                                        WTERMSIG(status));
        if (WEXITSTATUS(status) != 0)
                return plugin_failure(err, type, command, WEXITSTATUS(status), out, out_len, errbuf);
        if (ret_output)
                *ret_output = TAKE_PTR(out);
        return 0;
}

/* The configuration one plugin of a list gets: its own object, plus the
 * list's name and cniVersion, the runtimeConfig entries it declares a
 * capability for, and prevResult. */
static int plugin_config(json_object *conflist, json_object *plugin, json_object *runtime_config,
                         json_object *prev_result, char **ret) {
        _cleanup_json_ json_object *o = NULL;
        json_object *caps, *v;
        const char *s;

        if (json_object_deep_copy(plugin, &o, NULL) < 0)
                return -ENOMEM;
        if (json_object_object_get_ex(conflist, "name", &v))
                json_object_object_add(o, "name", json_object_get(v));
        if (json_object_object_get_ex(conflist, "cniVersion", &v))
                json_object_object_add(o, "cniVersion", json_object_get(v));
        json_object_object_del(o, "runtimeConfig");
        if (runtime_config && json_object_object_get_ex(plugin, "capabilities", &caps) &&
            json_object_is_type(caps, json_type_object)) {
                _cleanup_json_ json_object *rc = json_object_new_object();

                if (!rc)
                        return -ENOMEM;
                json_object_object_foreach(caps, key, enabled)
                        if (json_object_get_boolean(enabled) && json_object_object_get_ex(runtime_config, key, &v))
                                json_object_object_add(rc, key, json_object_get(v));
                if (json_object_object_length(rc) > 0)
                        json_object_object_add(o, "runtimeConfig", TAKE_PTR(rc));
        }
        json_object_object_del(o, "prevResult");
        if (prev_result)
                json_object_object_add(o, "prevResult", json_object_get(prev_result));
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static json_object *conflist_plugins(json_object *conflist, size_t *ret_n) {
        json_object *plugins = NULL;

        if (!json_object_object_get_ex(conflist, "plugins", &plugins) || !json_object_is_type(plugins, json_type_array)) {
                *ret_n = 0;
                return NULL;
        }
        *ret_n = MIN(json_object_array_length(plugins), (size_t) CNI_PLUGINS_MAX);
        return plugins;
}

static const char *plugin_type(json_object *plugin) {
        const char *t = NULL;

        (void) json_get_string(plugin, "type", &t);
        return t ?: "";
}

int cni_conflist_add(const CniContext *c, json_object *conflist, json_object *runtime_config,
                     json_object **ret_result, PeapodError *err) {
        _cleanup_json_ json_object *result = NULL;
        json_object *plugins;
        size_t n;
        int r;

        plugins = conflist_plugins(conflist, &n);
        if (n == 0)
                return peapod_error_set(err, -EINVAL, "CNI network has no plugins");
        for (size_t i = 0; i < n; i++) {
                json_object *plugin = json_object_array_get_idx(plugins, i);
                _cleanup_free_ char *config = NULL, *out = NULL;
                _cleanup_json_ json_object *o = NULL;
                _cleanup_(cni_result_freep) CniResult *check = NULL;

                r = plugin_config(conflist, plugin, runtime_config, result, &config);
                if (r < 0)
                        return r;
                r = cni_plugin_exec(c, "ADD", plugin_type(plugin), config, &out, err);
                if (r < 0)
                        return r;
                /* A plugin with nothing to add may print nothing: the
                 * previous result stands. */
                if (strspn(out, " \t\r\n") == strlen(out))
                        continue;
                r = json_parse_bounded(out, strlen(out), CNI_OUTPUT_MAX, &o);
                if (r < 0 || cni_result_from_json(o, &check) < 0)
                        return peapod_error_set(err, -EBADMSG, "CNI plugin %s ADD printed an invalid result",
                                                plugin_type(plugin));
                json_object_put(result);
                result = TAKE_PTR(o);
        }
        if (!result)
                return peapod_error_set(err, -EBADMSG, "The CNI plugins printed no result");
        *ret_result = TAKE_PTR(result);
        return 0;
}

int cni_conflist_del(const CniContext *c, json_object *conflist, json_object *runtime_config,
                     json_object *prev_result, PeapodError *err) {
        json_object *plugins;
        size_t n;
        int ret = 0;

        plugins = conflist_plugins(conflist, &n);
        for (size_t i = n; i > 0; i--) {
                json_object *plugin = json_object_array_get_idx(plugins, i - 1);
                _cleanup_free_ char *config = NULL;
                int r;

                r = plugin_config(conflist, plugin, runtime_config, prev_result, &config);
                if (r >= 0)
                        r = cni_plugin_exec(c, "DEL", plugin_type(plugin), config, NULL, ret < 0 ? NULL : err);
                if (r < 0 && ret >= 0)
                        ret = r;
        }
        return ret;
}

int cni_conflist_check(const CniContext *c, json_object *conflist, json_object *runtime_config,
                       json_object *prev_result, PeapodError *err) {
        json_object *plugins;
        size_t n;
        int r;

        plugins = conflist_plugins(conflist, &n);
        for (size_t i = 0; i < n; i++) {
                json_object *plugin = json_object_array_get_idx(plugins, i);
                _cleanup_free_ char *config = NULL;

                r = plugin_config(conflist, plugin, runtime_config, prev_result, &config);
                if (r < 0)
                        return r;
                r = cni_plugin_exec(c, "CHECK", plugin_type(plugin), config, NULL, err);
                if (r < 0)
                        return r;
        }
        return 0;
}
