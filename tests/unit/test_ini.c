/* core/ini: the AWS shared config dialect, cross-checked against botocore's
 * own reader (botocore.configloader.raw_config_parse, what the AWS CLI
 * uses) on the same file, plus malformed and hostile input. */
#include "ini.h"
#include "unit.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static mlpz_ini *parse(const char *text, char *err, size_t errlen)
{
    return mlpz_ini_parse(text, strlen(text), "cfg", err, errlen);
}

static const char SAMPLE[] =
    "# a comment\n"
    "; another comment\n"
    "[default]\n"
    "region = us-east-1\n"
    "output=json\n"
    "\n"
    "[profile dev]\n"
    "  Region   =   eu-west-1   \n"
    "aws_access_key_id = AKIDEXAMPLE\n"
    "aws_secret_access_key = wJalr/K7MDENG+bPxRfiCYEXAMPLEKEY\n"
    "s3 =\n"
    "  max_concurrent_requests = 10\n"
    "  addressing_style = path\n"
    "credential_process = /bin/echo '{\"a\": 1}' # not a comment\n"
    "\t# an indented comment\n"
    "[profile  spaced ]   # trailing comment\n"
    "role_arn = arn:aws:iam::123456789012:role/x\n"
    "[sso-session corp]\n"
    "sso_region=us-west-2\n";

static void test_sample(void)
{
    char err[256] = "";
    mlpz_ini *ini = parse(SAMPLE, err, sizeof err);
    CHECK(ini != NULL, "sample parses (%s)", err);
    if (!ini)
        return;
    CHECK(mlpz_ini_count(ini) == 4, "4 sections (got %zu)", mlpz_ini_count(ini));
    CHECK_STR(mlpz_ini_name(ini, 0), "default", "first section is default");
    CHECK_STR(mlpz_ini_name(ini, 1), "profile dev", "[profile dev] keeps its name");
    CHECK_STR(mlpz_ini_name(ini, 2), "profile  spaced", "inner spaces kept, ends trimmed");
    CHECK_STR(mlpz_ini_get(ini, "default", "region"), "us-east-1", "default region");
    CHECK_STR(mlpz_ini_get(ini, "default", "output"), "json", "key=value without spaces");
    CHECK_STR(mlpz_ini_get(ini, "profile dev", "region"), "eu-west-1",
              "keys case-insensitive, whitespace trimmed");
    CHECK_STR(mlpz_ini_get(ini, "profile dev", "REGION"), "eu-west-1", "lookup any case");
    CHECK_STR(mlpz_ini_get(ini, "profile dev", "aws_secret_access_key"),
              "wJalr/K7MDENG+bPxRfiCYEXAMPLEKEY", "secret kept verbatim");
    CHECK_STR(mlpz_ini_get(ini, "profile dev", "s3"), "", "nested sub-section parent is empty");
    CHECK(mlpz_ini_get(ini, "profile dev", "max_concurrent_requests") == NULL,
          "nested sub-section keys are not properties");
    CHECK(mlpz_ini_get(ini, "profile dev", "addressing_style") == NULL,
          "second nested key ignored too");
    CHECK_STR(mlpz_ini_get(ini, "profile dev", "credential_process"),
              "/bin/echo '{\"a\": 1}' # not a comment", "'#' inside a value is kept (as the CLI)");
    CHECK_STR(mlpz_ini_get(ini, "sso-session corp", "sso_region"), "us-west-2",
              "other section kinds readable");
    CHECK(mlpz_ini_get(ini, "dev", "region") == NULL, "no [dev] section");
    mlpz_ini_free(ini);
}

/* botocore's reader over the same text, printed as section\tkey\tvalue for
 * every plain string value (nested sub-sections are dicts there). */
static void test_botocore_agrees(void)
{
    char path[] = "/tmp/mlpz-ini-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "temp file for the botocore cross-check");
    if (fd < 0)
        return;
    FILE *f = fdopen(fd, "w");
    fputs(SAMPLE, f);
    fputs("[profile cont]\nvalue = first\n  second line\n  third\n", f);
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import sys, botocore.configloader as c\n"
             "d = c.raw_config_parse(sys.argv[1])\n"
             "for s in d:\n"
             "  for k, v in d[s].items():\n"
             "    if isinstance(v, str): print(s.strip() + \"\\t\" + k + \"\\t\" + v.replace(\"\\n\", \"|\"))\n"
             "' %s",
             path);
    FILE *p = popen(cmd, "r");
    char err[256] = "";
    mlpz_ini *ini = NULL;
    CHECK(mlpz_ini_load(path, &ini, err, sizeof err) == 0 && ini, "sample loads (%s)", err);
    int rows = 0, same = 0;
    char line[1024];
    while (p && ini && fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        char *k = strchr(line, '\t'), *v = k ? strchr(k + 1, '\t') : NULL;
        if (!v)
            continue;
        *k++ = '\0';
        *v++ = '\0';
        rows++;
        const char *got = mlpz_ini_get(ini, line, k);
        char flat[1024] = "";
        for (size_t i = 0; got && got[i] && i + 1 < sizeof flat; i++)
            flat[i] = got[i] == '\n' ? '|' : got[i];
        if (got && strcmp(flat, v) == 0)
            same++;
        else
            printf("#   [%s] %s: botocore [%s], ours [%s]\n", line, k, v, got ? flat : "(none)");
    }
    int rc = p ? pclose(p) : -1;
    CHECK(rc == 0 && rows == 9, "botocore read the sample (%d values, exit %d)", rows, rc);
    CHECK(rows > 0 && same == rows, "every value botocore reads is ours too (%d/%d)", same, rows);
    CHECK_STR(mlpz_ini_get(ini, "profile cont", "value"), "first\nsecond line\nthird",
              "continuation lines joined with newlines");
    mlpz_ini_free(ini);
    unlink(path);
}

/* botocore refuses a repeated section; the SDKs' profile-file spec merges
 * them, later keys winning, which is what a hand-edited file means. */
static void test_merge(void)
{
    char err[256] = "";
    mlpz_ini *ini = parse("[default]\nregion = a\noutput = json\n[x]\nk = 1\n"
                          "[default]\noutput = text\nregion = b\nregion = c\n",
                          err, sizeof err);
    CHECK(ini && mlpz_ini_count(ini) == 2, "repeated section merged into one (%s)", err);
    CHECK_STR(ini ? mlpz_ini_get(ini, "default", "output") : NULL, "text",
              "later section's key wins");
    CHECK_STR(ini ? mlpz_ini_get(ini, "default", "region") : NULL, "c", "repeated key: last wins");
    mlpz_ini_free(ini);
}

static void test_line_endings(void)
{
    char err[256] = "";
    const char crlf[] = "\xEF\xBB\xBF[default]\r\nregion = us-west-2\r\n\r\n[b]\r\nk=v\r\n";
    mlpz_ini *ini = parse(crlf, err, sizeof err);
    CHECK(ini != NULL, "CRLF with a byte order mark parses (%s)", err);
    CHECK_STR(mlpz_ini_get(ini, "default", "region"), "us-west-2", "CR stripped from values");
    CHECK_STR(mlpz_ini_get(ini, "b", "k"), "v", "last line without newline");
    mlpz_ini_free(ini);
    ini = parse("", err, sizeof err);
    CHECK(ini && mlpz_ini_count(ini) == 0, "empty file: no sections");
    mlpz_ini_free(ini);
    ini = parse("[a]\nk = v", err, sizeof err);
    CHECK_STR(ini ? mlpz_ini_get(ini, "a", "k") : NULL, "v", "no final newline");
    mlpz_ini_free(ini);
}

static void bad(const char *text, size_t len, const char *want, const char *what)
{
    char err[256] = "";
    mlpz_ini *ini = mlpz_ini_parse(text, len, "/home/u/.aws/config", err, sizeof err);
    CHECK(ini == NULL, "%s: refused", what);
    CHECK(strstr(err, want) != NULL, "%s: error '%s' has '%s'", what, err, want);
    CHECK(strstr(err, "SECRETVALUE") == NULL, "%s: error does not quote the line", what);
    mlpz_ini_free(ini);
}

static void test_malformed(void)
{
    const char *t1 = "[default]\nregion = x\naws_secret_access_key SECRETVALUE\n";
    bad(t1, strlen(t1), "/home/u/.aws/config:3: expected 'key = value'", "line without '='");
    const char *t2 = "aws_secret_access_key = SECRETVALUE\n[default]\n";
    bad(t2, strlen(t2), "config:1: 'key = value' before any [section]", "property first");
    const char *t3 = "[default\nk = SECRETVALUE\n";
    bad(t3, strlen(t3), "config:1: section header without ']'", "unterminated header");
    const char *t4 = "# c\n\n[ ]\n";
    bad(t4, strlen(t4), "config:3: empty section name", "empty section name");
    const char *t5 = "[a] SECRETVALUE\n";
    bad(t5, strlen(t5), "config:1: text after", "junk after header");
    const char t6[] = "[a]\nk = SECRET\0VALUE\n";
    bad(t6, sizeof t6 - 1, "config:2: NUL byte", "NUL byte");
    const char *t7 = "[a]\n = SECRETVALUE\n";
    bad(t7, strlen(t7), "config:2: no key before '='", "empty key");
    char *big = malloc(MLPZ_INI_MAX_FILE + 2);
    if (big) {
        memset(big, '#', MLPZ_INI_MAX_FILE + 1);
        bad(big, MLPZ_INI_MAX_FILE + 1, "larger than", "file over 1 MiB");
        free(big);
    }
}

static void test_load(void)
{
    char err[256] = "";
    mlpz_ini *ini = (mlpz_ini *)1;
    CHECK(mlpz_ini_load("/nonexistent/mlpz/config", &ini, err, sizeof err) == 1 && !ini,
          "missing file: 1, no error");
    CHECK(mlpz_ini_load("/tmp", &ini, err, sizeof err) == -1 && strstr(err, "/tmp: "),
          "a directory is an error naming it (%s)", err);
    char path[] = "/tmp/mlpz-ini-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) {
        const char *text = "[default]\n\nregion\n";
        CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "temp file written");
        close(fd);
        CHECK(mlpz_ini_load(path, &ini, err, sizeof err) == -1, "malformed file refused");
        char want[64];
        snprintf(want, sizeof want, "%s:3: ", path);
        CHECK(strncmp(err, want, strlen(want)) == 0, "error starts with file:line (%s)", err);
        unlink(path);
    }
}

/* Random bytes, mostly from the grammar's alphabet: no crash, no leak (run
 * under SANITIZE=1), and a result or an error every time. */
static void test_hostile(void)
{
    static const char alphabet[] = "[]=#; \t\r\n\nabcprofile\0\xff";
    uint32_t x = 12345;
    int answered = 0;
    char buf[256];
    for (int round = 0; round < 5000; round++) {
        size_t n = (size_t)(round % 255) + 1;
        for (size_t i = 0; i < n; i++) {
            x = x * 1664525u + 1013904223u;
            buf[i] = alphabet[(x >> 24) % (sizeof alphabet - 1)];
        }
        char err[128] = "";
        mlpz_ini *ini = mlpz_ini_parse(buf, n, "fuzz", err, sizeof err);
        if (ini || strncmp(err, "fuzz:", 5) == 0)
            answered++;
        for (size_t i = 0; i < mlpz_ini_count(ini); i++)
            (void)mlpz_ini_value(ini, i, "a");
        mlpz_ini_free(ini);
    }
    CHECK(answered == 5000, "5000 random inputs each parsed or refused with file:line (%d)",
          answered);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_sample();
    test_botocore_agrees();
    test_merge();
    test_line_endings();
    test_malformed();
    test_load();
    test_hostile();
    return unit_done();
}
