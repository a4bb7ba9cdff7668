/* The CSV reader: RFC 4180 decoding, line tracking, header lookup, and the
 * exact "file:line: ..." message of every malformed case. */
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"
#include "unit.h"

static char err[512];

/* Opens data (len bytes, or strlen when len is SIZE_MAX) as "t.csv". */
static int open_str(mlpz_csv *c, const char *data, size_t len)
{
    err[0] = '\0';
    return mlpz_csv_open_mem(c, "t.csv", data, len == SIZE_MAX ? strlen(data) : len, err,
                             sizeof err);
}

/* Reads every record of data and returns the message of the first error
 * ("" when none), so a malformed case is one line of test. */
static const char *first_error(const char *data, size_t len)
{
    mlpz_csv c;
    if (open_str(&c, data, len) == 0) {
        int r;
        while ((r = mlpz_csv_next(&c)) == 1)
            ;
        if (r == 0)
            err[0] = '\0';
    }
    mlpz_csv_close(&c);
    return err;
}

static void test_basic(void)
{
    mlpz_csv c;
    CHECK(open_str(&c, "a,b,c\n1,2,3\n4,,6\n", SIZE_MAX) == 0, "basic: opens");
    CHECK(c.ncols == 3 && strcmp(c.header[2].s, "c") == 0, "basic: header has 3 columns");
    CHECK(mlpz_csv_next(&c) == 1 && c.line == 2, "basic: first record on line 2");
    CHECK_STR(c.fields[1].s, "2", "basic: field 2 of record 1");
    CHECK(mlpz_csv_next(&c) == 1 && c.fields[1].len == 0 && c.fields[1].s[0] == '\0',
          "basic: empty middle field");
    CHECK_STR(c.fields[2].s, "6", "basic: last field of record 2");
    CHECK(mlpz_csv_next(&c) == 0, "basic: end of file");
    CHECK(mlpz_csv_next(&c) == 0, "basic: end of file is sticky");
    mlpz_csv_close(&c);
}

static void test_quoting(void)
{
    mlpz_csv c;
    const char *data = "id,title\n"
                       "1,\"Hello, world\"\n"
                       "2,\"She said \"\"hi\"\"\"\n"
                       "3,\"multi\nline\ntitle\"\n"
                       "4,after\n"
                       "5,\"\"\n"
                       "\"6\",\"\"\"\"\n";
    CHECK(open_str(&c, data, SIZE_MAX) == 0, "quoting: opens");
    CHECK(mlpz_csv_next(&c) == 1, "quoting: record 1");
    CHECK_STR(c.fields[1].s, "Hello, world", "quoting: comma inside quotes");
    CHECK(c.fields[1].len == 12, "quoting: length excludes the quotes");
    CHECK(mlpz_csv_next(&c) == 1, "quoting: record 2");
    CHECK_STR(c.fields[1].s, "She said \"hi\"", "quoting: doubled quotes decode to one");
    CHECK(mlpz_csv_next(&c) == 1 && c.line == 4, "quoting: multi-line record starts on line 4");
    CHECK_STR(c.fields[1].s, "multi\nline\ntitle", "quoting: newlines inside quotes kept");
    CHECK(mlpz_csv_next(&c) == 1 && c.line == 7,
          "quoting: record after a 3-line record is on physical line 7 (got %zu)", c.line);
    CHECK_STR(c.fields[1].s, "after", "quoting: plain field after multi-line record");
    CHECK(mlpz_csv_next(&c) == 1 && c.fields[1].len == 0, "quoting: \"\" is an empty field");
    CHECK(mlpz_csv_next(&c) == 1, "quoting: record 6");
    CHECK_STR(c.fields[0].s, "6", "quoting: quoted id");
    CHECK_STR(c.fields[1].s, "\"", "quoting: \"\"\"\" is one quote");
    CHECK(mlpz_csv_next(&c) == 0, "quoting: end");
    mlpz_csv_close(&c);
}

static void test_crlf_bom(void)
{
    mlpz_csv c;
    CHECK(open_str(&c, "\xEF\xBB\xBFmovieId,title\r\n1,x\r\n2,\"a\r\nb\"\r\n3,y", SIZE_MAX) == 0,
          "crlf: opens");
    CHECK(mlpz_csv_column(&c, "movieId", 0) == 0, "bom: first column found by its name");
    CHECK(mlpz_csv_next(&c) == 1 && c.fields[1].len == 1, "crlf: no CR in last field");
    CHECK_STR(c.fields[1].s, "x", "crlf: field value");
    CHECK(mlpz_csv_next(&c) == 1 && c.line == 3, "crlf: record 2 on line 3");
    CHECK_STR(c.fields[1].s, "a\r\nb", "crlf: CRLF inside quotes kept as is");
    CHECK(mlpz_csv_next(&c) == 1 && c.line == 5, "crlf: record 3 on line 5");
    CHECK_STR(c.fields[1].s, "y", "missing final newline: last field read");
    CHECK(mlpz_csv_next(&c) == 0, "missing final newline: then end of file");
    mlpz_csv_close(&c);

    CHECK(open_str(&c, "a,b\n1,\"q\"", SIZE_MAX) == 0 && mlpz_csv_next(&c) == 1,
          "missing final newline after a quoted field");
    CHECK_STR(c.fields[1].s, "q", "missing final newline: quoted value");
    mlpz_csv_close(&c);

    CHECK(open_str(&c, "a,b\n1,\n", SIZE_MAX) == 0 && mlpz_csv_next(&c) == 1 &&
              c.fields[1].len == 0,
          "trailing comma is an empty last field");
    mlpz_csv_close(&c);
}

static void test_blank_lines(void)
{
    mlpz_csv c;
    CHECK(open_str(&c, "\n\na,b\n\n1,2\r\n\r\n\n3,4\n\n", SIZE_MAX) == 0, "blank: opens");
    CHECK(c.header_line == 3, "blank: header on line 3");
    CHECK(mlpz_csv_next(&c) == 1 && c.line == 5, "blank: record on line 5");
    CHECK(mlpz_csv_next(&c) == 1 && c.line == 8, "blank: record on line 8");
    CHECK_STR(c.fields[0].s, "3", "blank: value");
    CHECK(mlpz_csv_next(&c) == 0, "blank: trailing blank lines are the end");
    mlpz_csv_close(&c);
}

static void test_header(void)
{
    mlpz_csv c;
    CHECK(open_str(&c, "EVENT_VALUE,Timestamp,ITEM_ID,user_id\n", SIZE_MAX) == 0,
          "header: opens");
    CHECK(mlpz_csv_column(&c, "USER_ID", 1) == 3, "header: case-insensitive lookup");
    CHECK(mlpz_csv_column(&c, "USER_ID", 0) == -1, "header: exact lookup is exact");
    CHECK(mlpz_csv_column(&c, "ITEM_ID", 0) == 2, "header: exact lookup");
    CHECK(mlpz_csv_column(&c, "ITEM", 1) == -1, "header: no prefix match");
    static const char *const want[] = {"USER_ID", "ITEM_ID", "TIMESTAMP"};
    int ix[3];
    CHECK(mlpz_csv_require(&c, want, 3, 1, ix) == 0 && ix[0] == 3 && ix[1] == 2 && ix[2] == 1,
          "header: require finds columns in any order and case");
    static const char *const more[] = {"USER_ID", "EVENT_TYPE"};
    CHECK(mlpz_csv_require(&c, more, 2, 1, ix) == -1, "header: require reports a missing column");
    CHECK_STR(err, "t.csv:1: missing column 'EVENT_TYPE' (found: EVENT_VALUE, Timestamp, "
                   "ITEM_ID, user_id); the header must name the columns USER_ID,EVENT_TYPE "
                   "(in any order and case)",
              "header: missing column message names it and lists the columns found");
    CHECK(mlpz_csv_next(&c) == 0, "header only: no records");
    mlpz_csv_close(&c);

    CHECK(open_str(&c, "\n\nuserId,movieId\n1,2\n", SIZE_MAX) == 0 && mlpz_csv_next(&c) == 1,
          "header: after blank lines");
    static const char *const r[] = {"userId", "rating"};
    CHECK(mlpz_csv_require(&c, r, 2, 0, ix) == -1, "header: exact require misses 'rating'");
    CHECK_STR(err, "t.csv:3: missing column 'rating' (found: userId, movieId); the header "
                   "must name the columns userId,rating (in any order)",
              "header: message points at the header line");
    mlpz_csv_close(&c);
}

static void test_malformed(void)
{
    CHECK_STR(first_error("a,b\n1,2\n3,\"abc\n4,5\n", SIZE_MAX),
              "t.csv:3: field 2: unterminated quoted field; add the closing '\"'",
              "malformed: unterminated quote");
    CHECK_STR(first_error("a,b\n1,2,3\n", SIZE_MAX),
              "t.csv:2: expected 2 fields as in the header, found 3; enclose fields that "
              "contain commas in quotes",
              "malformed: too many fields");
    CHECK_STR(first_error("a,b,c\n1,2,3\n\"x\ny\",2\n", SIZE_MAX),
              "t.csv:3: expected 3 fields as in the header, found 2; enclose fields that "
              "contain commas in quotes",
              "malformed: too few fields, line of a multi-line record");
    CHECK_STR(first_error("a,b\n1,ab\"c\n", SIZE_MAX),
              "t.csv:2: field 2: quote in the middle of an unquoted field; enclose the "
              "field in quotes and double the quote",
              "malformed: quote inside an unquoted field");
    CHECK_STR(first_error("a,b\n\"x\"y,1\n", SIZE_MAX),
              "t.csv:2: field 1: unexpected text after the closing quote; double any '\"' "
              "inside a quoted field",
              "malformed: text after a closing quote");
    CHECK_STR(first_error("", 0), "t.csv:1: empty file: expected a header line naming the columns",
              "malformed: empty file");
    CHECK_STR(first_error("\xEF\xBB\xBF\r\n\n", SIZE_MAX),
              "t.csv:1: empty file: expected a header line naming the columns",
              "malformed: only a BOM and blank lines is empty");
    CHECK_STR(first_error("a,b\n1,x\0y\n", 10),
              "t.csv:2: NUL byte at offset 7: this is not a text CSV file (is it compressed "
              "or truncated?)",
              "malformed: NUL byte");
    CHECK_STR(first_error("a,b\r1,2\n", SIZE_MAX),
              "t.csv:1: field 2: carriage return not followed by a line feed; use LF or "
              "CRLF line endings",
              "malformed: bare CR");
    CHECK_STR(first_error("a,b\n1,\"x\"", 9), "", "truncated after a closing quote is fine");
    CHECK_STR(first_error("a,b\n1,\"x", 8),
              "t.csv:2: field 2: unterminated quoted field; add the closing '\"'",
              "malformed: file truncated inside quotes");
    CHECK_STR(first_error("a,b\n1,\"", 7),
              "t.csv:2: field 2: unterminated quoted field; add the closing '\"'",
              "malformed: file truncated right after an opening quote");
    CHECK_STR(first_error("\"a", 2), "t.csv:1: field 1: unterminated quoted field; add the "
                                     "closing '\"'",
              "malformed: unterminated quote in the header");
}

static void test_hostile(void)
{
    /* Header too wide to track. */
    size_t n = (MLPZ_CSV_MAX_COLUMNS + 10) * 2;
    char *wide = malloc(n + 1);
    for (size_t i = 0; i < n; i += 2) {
        wide[i] = 'x';
        wide[i + 1] = ',';
    }
    wide[n - 1] = '\n';
    wide[n] = '\0';
    CHECK_STR(first_error(wide, n), "t.csv:1: more than 1024 columns in the header",
              "hostile: too many header columns");
    free(wide);

    /* A 4 MB field and a record with thousands of extra fields. */
    size_t big = 4u << 20;
    char *huge = malloc(big + 64);
    memcpy(huge, "a,b\n1,", 6);
    memset(huge + 6, 'z', big);
    memcpy(huge + 6 + big, "\n", 1);
    mlpz_csv c;
    CHECK(open_str(&c, huge, big + 7) == 0 && mlpz_csv_next(&c) == 1 &&
              c.fields[1].len == big,
          "hostile: 4 MB field read whole");
    mlpz_csv_close(&c);
    memset(huge + 4, ',', big);
    huge[4 + big] = '\n';
    CHECK(strstr(first_error(huge, big + 5), "t.csv:2: expected 2 fields as in the header, "
                                             "found 4194305;") == err,
          "hostile: 4 million commas on one line: %s", err);
    free(huge);

    /* Random soup of the bytes that matter: never crash or read out of
     * bounds (run under SANITIZE=1), and every field is NUL-terminated
     * inside the buffer. */
    static const char alphabet[] = {',', '"', '\n', '\r', 'a', 'b', ',', '"',
                                    '\n', 'a', ',', 'd', '\n', 'c', '\0', (char)0xEF};
    uint64_t s = 42;
    int bad = 0, records = 0;
    char buf[64];
    for (int round = 0; round < 50000; round++) {
        size_t len = (size_t)(round % 60);
        for (size_t i = 0; i < len; i++) {
            s = s * 6364136223846793005u + 1442695040888963407u;
            buf[i] = alphabet[(s >> 59) & 15];
        }
        if (open_str(&c, buf, len) == 0) {
            int r;
            while ((r = mlpz_csv_next(&c)) == 1) {
                records++;
                for (size_t f = 0; f < c.nfields; f++) {
                    const mlpz_csv_field *fl = &c.fields[f];
                    if (fl->s < c.buf || fl->s + fl->len > c.buf + c.len ||
                        fl->s[fl->len] != '\0')
                        bad++;
                }
            }
            if (r < 0 && strncmp(err, "t.csv:", 6) != 0)
                bad++;
        } else if (strncmp(err, "t.csv:", 6) != 0) {
            bad++;
        }
        mlpz_csv_close(&c);
    }
    CHECK(bad == 0 && records > 500,
          "hostile: 50000 random inputs parse or fail with file:line (%d records, %d bad)",
          records, bad);
}

static void test_files(void)
{
    mlpz_csv c;
    CHECK(mlpz_csv_open(&c, "/nonexistent/movies.csv", err, sizeof err) == -1,
          "file: missing file fails");
    CHECK_STR(err, "/nonexistent/movies.csv: cannot open: No such file or directory",
              "file: message names the path and the reason");
    mlpz_csv_close(&c);
    CHECK(mlpz_csv_open(&c, "/tmp", err, sizeof err) == -1, "file: directory fails");
    CHECK_STR(err, "/tmp: not a regular file", "file: directory message");
    mlpz_csv_close(&c);

    char path[] = "/tmp/mlpz-csv-XXXXXX";
    int fd = mkstemp(path);
    const char data[] = "movieId,title\n1,\"A, B\"\n";
    CHECK(fd >= 0 && write(fd, data, sizeof data - 1) == (ssize_t)(sizeof data - 1),
          "file: temp file written");
    close(fd);
    CHECK(mlpz_csv_open(&c, path, err, sizeof err) == 0 && mlpz_csv_next(&c) == 1,
          "file: reads a file from disk");
    CHECK_STR(c.fields[1].s, "A, B", "file: decoded field");
    mlpz_csv_close(&c);
    unlink(path);

    char small[16];
    CHECK(first_error("a\n\"", 3) == err && mlpz_csv_open_mem(&c, "long-name.csv", "", 0, small,
                                                              sizeof small) == -1,
          "file: error into a small buffer fails cleanly");
    CHECK(strlen(small) == sizeof small - 1, "file: message truncated to the buffer");
    mlpz_csv_close(&c);
}

int main(void)
{
    test_basic();
    test_quoting();
    test_crlf_bom();
    test_blank_lines();
    test_header();
    test_malformed();
    test_hostile();
    test_files();
    return unit_done();
}
