/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "policy.h"
#include "signature.h"
#include "string-util.h"
#include "tests.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static Policy *parse(const char *text) {
        Policy *p = NULL;
        PeapodError e = {};
        int r = policy_parse(text, strlen(text), &p, &e);

        if (r < 0) {
                fprintf(stderr, "policy_parse failed: %s\n", e.message);
                exit(EXIT_FAILURE);
        }
        return p;
}

static void check_refused(const char *text, const char *needle) {
        _cleanup_(policy_freep) Policy *p = NULL;
        PeapodError e = {};

        ASSERT_TRUE(policy_parse(text, strlen(text), &p, &e) < 0);
        ASSERT_TRUE(p == NULL);
        if (!strstr(e.message, needle)) {
                fprintf(stderr, "'%s' not in error '%s' for %s\n", needle, e.message, text);
                exit(EXIT_FAILURE);
        }
}

static const char *lookup_scope(const Policy *p, const char *ref) {
        const PolicyEntry *x = policy_lookup(p, ref);
        ASSERT_TRUE(x);
        return x->scope ?: "default";
}

TEST(longest_prefix) {
        _cleanup_(policy_freep) Policy *p = parse(
                "{\"default\": {\"type\": \"reject\"},"
                " \"scopes\": {"
                "   \"reg.example.com\": {\"type\": \"signedBy\"},"
                "   \"reg.example.com/team\": {\"type\": \"insecureAcceptAnything\"},"
                "   \"reg.example.com/team/secret\": {\"type\": \"reject\"},"
                "   \"reg.example.com/team/app:v1\": {\"type\": \"signedBy\", \"keyPath\": \"/etc/k.gpg\"},"
                "   \"localhost/busybox:latest\": {\"type\": \"insecureAcceptAnything\"}}}");

        ASSERT_STREQ(lookup_scope(p, "reg.example.com/x:1"), "reg.example.com");
        ASSERT_STREQ(lookup_scope(p, "reg.example.com/team:1"), "reg.example.com/team");
        ASSERT_STREQ(lookup_scope(p, "reg.example.com/team/app:v2"), "reg.example.com/team");
        ASSERT_STREQ(lookup_scope(p, "reg.example.com/team/app:v1"), "reg.example.com/team/app:v1");
        ASSERT_STREQ(policy_lookup(p, "reg.example.com/team/app:v1")->key_path, "/etc/k.gpg");
        ASSERT_STREQ(lookup_scope(p, "reg.example.com/team/secret/x:1"), "reg.example.com/team/secret");
        /* Component boundaries: "team" does not cover "teammate". */
        ASSERT_STREQ(lookup_scope(p, "reg.example.com/teammate:1"), "reg.example.com");
        ASSERT_STREQ(lookup_scope(p, "reg.example.com.evil.org/team:1"), "default");
        ASSERT_STREQ(lookup_scope(p, "reg.example.com/team@sha256:" D64), "reg.example.com/team");
        /* The exact scope is exact: another tag is the default's. */
        ASSERT_STREQ(lookup_scope(p, "localhost/busybox:latest"), "localhost/busybox:latest");
        ASSERT_STREQ(lookup_scope(p, "localhost/busybox:other"), "default");
        ASSERT_STREQ(lookup_scope(p, "localhost/busybox/sub:latest"), "default");
        ASSERT_TRUE(policy_lookup(p, "localhost/busybox:other")->type == POLICY_REJECT);
        ASSERT_TRUE(policy_lookup(p, "reg.example.com/team:1")->type == POLICY_INSECURE_ACCEPT_ANYTHING);
}

TEST(defaults) {
        _cleanup_(policy_freep) Policy *empty = parse("{}");

        /* No default: reject. */
        ASSERT_TRUE(policy_lookup(empty, "quay.io/a/b:c")->type == POLICY_REJECT);
        ASSERT_TRUE(scope_covers("a.io/x", "a.io/x"));
        ASSERT_TRUE(scope_covers("a.io/x", "a.io/x/y"));
        ASSERT_FALSE(scope_covers("a.io/x", "a.io/xy"));
        ASSERT_FALSE(scope_covers("a.io:5000", "a.io:50001/x"));
}

TEST(refused) {
        check_refused("[]", "not a JSON object");
        check_refused("{\"default\": {\"type\": \"maybe\"}}", "unknown type");
        check_refused("{\"default\": {}}", "no \"type\"");
        check_refused("{\"defaults\": {}}", "unknown key");
        check_refused("{\"scopes\": {\"Not A Scope\": {\"type\": \"reject\"}}}", "is neither");
        check_refused("{\"scopes\": {\"a.io/x:tag@sha256:" D64 "\": {\"type\": \"reject\"}}}", "is neither");
        check_refused("{\"scopes\": {\"a.io/x\": {\"type\": \"reject\", \"keyPath\": \"/k\"}}}", "keyPath");
        check_refused("{\"scopes\": {\"a.io/x\": {\"type\": \"signedBy\", \"keyPath\": \"relative\"}}}", "keyPath");
        check_refused("{\"scopes\": {\"a.io/x\": {\"type\": \"signedBy\", \"keys\": []}}}", "unknown key");
        check_refused("{\"scopes\": []}", "not an object");
        check_refused("{\"default\": {\"type\": \"reject\"}", "not a JSON object");
        /* Where it went wrong, and nothing after the object. */
        check_refused("{\"default\":\n {\"type\": reject}}", "line 2, column");
        check_refused("{} {}", "trailing data");
}

static SimpleSignature *sig_parse(const char *text, const char *needle) {
        SimpleSignature *s = NULL;
        PeapodError e = {};
        int r = simple_signature_parse(text, strlen(text), &s, &e);

        if (needle) {
                ASSERT_TRUE(r < 0 && !s);
                if (!strstr(e.message, needle)) {
                        fprintf(stderr, "'%s' not in '%s'\n", needle, e.message);
                        exit(EXIT_FAILURE);
                }
                return NULL;
        }
        ASSERT_OK(r);
        return s;
}

TEST(signature_payload) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(simple_signature_freep) SimpleSignature *s = NULL, *t = NULL;

        s = sig_parse("{\"critical\": {\"type\": \"atomic container signature\","
                      " \"image\": {\"docker-manifest-digest\": \"sha256:" D64 "\"},"
                      " \"identity\": {\"docker-reference\": \"quay.io/a/b:c\"}},"
                      " \"optional\": {\"creator\": \"skopeo\", \"timestamp\": 1}}",
                      NULL);
        ASSERT_STREQ(s->docker_reference, "quay.io/a/b:c");
        ASSERT_STREQ(s->manifest_digest, "sha256:" D64);

        /* What we write, we read. */
        ASSERT_OK(simple_signature_format("quay.io/a/b:c", "sha256:" D64, &text));
        t = sig_parse(text, NULL);
        ASSERT_STREQ(t->docker_reference, "quay.io/a/b:c");
        ASSERT_STREQ(t->manifest_digest, "sha256:" D64);

        sig_parse("{\"critical\": {\"type\": \"something else\"}}", "not an");
        sig_parse("{\"critical\": {\"type\": \"atomic container signature\", \"identity\": {\"docker-reference\": \"a.io/b\"}}}",
                  "docker-manifest-digest");
        sig_parse("{\"critical\": {\"type\": \"atomic container signature\", \"image\": {\"docker-manifest-digest\": \"sha256:" D64
                  "\"}}}",
                  "docker-reference");
        sig_parse("{\"critical\": {\"type\": \"atomic container signature\", \"image\": {\"docker-manifest-digest\": \"md5:00\"},"
                  " \"identity\": {\"docker-reference\": \"a.io/b\"}}}",
                  "invalid digest");
        sig_parse("{\"critical\": {\"type\": \"atomic container signature\", \"image\": {\"docker-manifest-digest\": \"sha256:" D64
                  "\"}, \"identity\": {\"docker-reference\": \"a.io/b\"}, \"extra\": 1}}",
                  "unknown critical key");
        sig_parse("[1,2]", "not a JSON object");
        sig_parse("{\"critical\": {}} x", "trailing data");
        sig_parse("{\"critical\": 5}", "no \"critical\"");
}

int main(void) {
        test_longest_prefix();
        test_defaults();
        test_refused();
        test_signature_payload();
        return 0;
}
