/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What peapod-cri reads from its clients before it asks peapodd: container
 * ids (pod id + app id) and a PullImage's AuthConfig. */
#include <stdlib.h>
#include <string.h>

#include "cri.h"
#include "tests.h"

#define POD "0123456789abcdef0123456789abcdef"
#define APP "fedcba9876543210fedcba9876543210"

TEST(container_id) {
        char pod[33], app[33];

        ASSERT_OK(cri_container_id_parse(POD APP, pod, app));
        ASSERT_STREQ(pod, POD);
        ASSERT_STREQ(app, APP);
        ASSERT_ERR(cri_container_id_parse(NULL, pod, app), EINVAL);
        ASSERT_ERR(cri_container_id_parse("", pod, app), EINVAL);
        ASSERT_ERR(cri_container_id_parse(POD, pod, app), EINVAL);              /* a sandbox id */
        ASSERT_ERR(cri_container_id_parse(POD APP "0", pod, app), EINVAL);
        ASSERT_ERR(cri_container_id_parse(POD "FEDCBA9876543210FEDCBA9876543210", pod, app), EINVAL);
        ASSERT_ERR(cri_container_id_parse(POD "fedcba9876543210fedcba987654321g", pod, app), EINVAL);
        ASSERT_ERR(cri_container_id_parse(POD "../../../../../../../../../../..", pod, app), EINVAL);
}

static char *token, *identity;

static int creds_full(const char *username, const char *password, const char *auth, const char *registry_token,
                      const char *identity_token, char **u, char **p) {
        Runtime__V1__AuthConfig a = RUNTIME__V1__AUTH_CONFIG__INIT;
        const char *problem = NULL;
        int r;

        a.username = (char *) (username ?: "");
        a.password = (char *) (password ?: "");
        a.auth = (char *) (auth ?: "");
        a.registry_token = (char *) (registry_token ?: "");
        a.identity_token = (char *) (identity_token ?: "");
        *u = *p = NULL;
        token = mfree(token);
        identity = mfree(identity);
        r = cri_auth_credentials(&a, u, p, &token, &identity, &problem);
        ASSERT_TRUE(r != -EINVAL || problem);
        /* A token goes alone. */
        ASSERT_TRUE(!token || (!*u && !*p && !identity));
        ASSERT_TRUE(!identity || (!*u && !*p));
        return r;
}

static int creds(const char *username, const char *password, const char *auth, const char *registry_token, char **u,
                 char **p) {
        return creds_full(username, password, auth, registry_token, NULL, u, p);
}

TEST(auth_config) {
        char *u, *p;

        ASSERT_OK(cri_auth_credentials(NULL, &u, &p, &token, &identity, NULL));
        ASSERT_TRUE(!u && !p && !token && !identity);
        ASSERT_OK(creds(NULL, NULL, NULL, NULL, &u, &p));
        ASSERT_TRUE(!u && !p);
        ASSERT_OK(creds("kube", "s3cret", NULL, NULL, &u, &p));
        ASSERT_STREQ(u, "kube");
        ASSERT_STREQ(p, "s3cret");
        free(u), free(p);
        /* base64("kube:se:cret"): the password may hold colons. */
        ASSERT_OK(creds(NULL, NULL, "a3ViZTpzZTpjcmV0", NULL, &u, &p));
        ASSERT_STREQ(u, "kube");
        ASSERT_STREQ(p, "se:cret");
        free(u), free(p);
        /* auth wins over username/password, as docker's config reads. */
        ASSERT_OK(creds("other", "x", "a3ViZTpzZTpjcmV0", NULL, &u, &p));
        ASSERT_STREQ(u, "kube");
        free(u), free(p);
        ASSERT_ERR(creds(NULL, NULL, "not base64!", NULL, &u, &p), EINVAL);
        ASSERT_ERR(creds(NULL, NULL, "a3ViZQ==", NULL, &u, &p), EINVAL);        /* "kube": no colon */
        ASSERT_ERR(creds(NULL, NULL, "a3ViZQA6eA==", NULL, &u, &p), EINVAL);    /* "kube\0:x" */
        /* A registry token is used alone, whatever else came with it. */
        ASSERT_OK(creds("kube", "x", NULL, "tok", &u, &p));
        ASSERT_TRUE(!u && !p);
        ASSERT_STREQ(token, "tok");
        /* An identity token (OAuth2 refresh token) is used alone too. */
        ASSERT_OK(creds_full("kube", "x", "a3ViZTpzZTpjcmV0", NULL, "refresh", &u, &p));
        ASSERT_TRUE(!u && !p && !token);
        ASSERT_STREQ(identity, "refresh");
        token = mfree(token);
        identity = mfree(identity);
}

int main(void) {
        test_container_id();
        test_auth_config();
        return 0;
}
