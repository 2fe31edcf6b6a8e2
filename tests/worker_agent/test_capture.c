/* A trial's output kept whole up to a cap (worker/runner/capture.h): the
 * text as written below the cap; above it the head, a marked cut and the
 * tail, never longer than the cap; and the external runner hands both of a
 * real program's streams to its outcome. */
#include "capture.h"
#include "runner.h"

#include "hp_check.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* byte i of a test stream: varied, so a misplaced copy shows */
static char byte_at(uint64_t i) { return (char)('a' + (i * 7 + i / 26) % 26); }

/* feeds total bytes in chunks of `chunk` and returns the kept text */
static char *capture_of(size_t cap, uint64_t total, size_t chunk, size_t *len)
{
    hp_capture_t c;
    hp_capture_init(&c, cap);
    char *buf = malloc(chunk);
    ck_assert_ptr_nonnull(buf);
    for (uint64_t at = 0; at < total;) {
        size_t n = total - at < chunk ? (size_t)(total - at) : chunk;
        for (size_t k = 0; k < n; k++)
            buf[k] = byte_at(at + k);
        hp_capture_add(&c, buf, n);
        at += n;
    }
    free(buf);
    char *t = hp_capture_take(&c, len);
    hp_capture_fini(&c);
    return t;
}

START_TEST(test_small_stream_whole)
{
    size_t len;
    char *t = capture_of(1000, 0, 7, &len);
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(t, "");
    free(t);
    /* up to the cap less the mark's room: exactly as written */
    size_t keep = 1000 - HP_CAPTURE_MARK_ROOM;
    t = capture_of(1000, keep, 13, &len);
    ck_assert_uint_eq(len, keep);
    for (size_t i = 0; i < keep; i++)
        ck_assert_int_eq(t[i], byte_at(i));
    ck_assert_int_eq(t[len], '\0');
    free(t);
}
END_TEST

START_TEST(test_large_stream_head_cut_tail)
{
    static const size_t chunks[] = {1, 17, 400, 936, 5000, 1 << 20};
    size_t cap = 1000, keep = cap - HP_CAPTURE_MARK_ROOM, head = keep / 2, tail = keep - head;
    for (size_t ci = 0; ci < sizeof chunks / sizeof chunks[0]; ci++) {
        uint64_t total = 1234567 + ci;
        size_t len;
        char *t = capture_of(cap, total, chunks[ci], &len);
        ck_assert_uint_le(len, cap);
        for (size_t i = 0; i < head; i++)
            ck_assert_int_eq(t[i], byte_at(i));
        char mark[80];
        snprintf(mark, sizeof mark, "\n[... %llu bytes cut ...]\n",
                 (unsigned long long)(total - keep));
        ck_assert_msg(strncmp(t + head, mark, strlen(mark)) == 0, "chunk %zu: %.60s", chunks[ci],
                      t + head);
        const char *tl = t + head + strlen(mark);
        ck_assert_uint_eq(len, head + strlen(mark) + tail);
        for (size_t i = 0; i < tail; i++)
            ck_assert_msg(tl[i] == byte_at(total - tail + i), "chunk %zu, tail byte %zu",
                          chunks[ci], i);
        free(t);
    }
    /* just one byte over: one byte cut */
    size_t len;
    char *t = capture_of(cap, keep + 1, 64, &len);
    ck_assert_ptr_nonnull(strstr(t, "\n[... 1 bytes cut ...]\n"));
    ck_assert_int_eq(t[len - 1], byte_at(keep));
    free(t);
}
END_TEST

START_TEST(test_default_cap)
{
    hp_capture_t c;
    hp_capture_init(&c, 0);
    ck_assert_uint_eq(c.max, HP_CAPTURE_MAX);
    static char block[65536];
    memset(block, 'x', sizeof block);
    for (int i = 0; i < 64; i++) /* 4 MiB */
        hp_capture_add(&c, block, sizeof block);
    size_t len;
    char *t = hp_capture_take(&c, &len);
    ck_assert_uint_le(len, HP_CAPTURE_MAX);
    ck_assert_ptr_nonnull(strstr(t, " bytes cut ...]\n"));
    ck_assert_uint_le(c.alloc, HP_CAPTURE_MAX); /* memory stays within the cap */
    free(t);
    hp_capture_fini(&c);
}
END_TEST

/* the runner gives its outcome both streams of a real program, bytes as
 * written (invalid UTF-8 too), and a long stream cut */
START_TEST(test_runner_keeps_both_streams)
{
    char dir[] = "/tmp/hp-capture-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char script[300];
    snprintf(script, sizeof script, "%s/t.sh", dir);
    FILE *f = fopen(script, "w");
    ck_assert_ptr_nonnull(f);
    fputs("#!/bin/sh\n"
          "echo 'hello out'\n"
          "printf 'bad \\377\\376 bytes\\n' >&2\n"
          "echo loss=0.5\n"
          "i=0; while [ $i -lt 300 ]; do echo \"err line $i\" >&2; i=$((i+1)); done\n",
          f);
    fclose(f);
    chmod(script, 0755);
    char tj[600];
    snprintf(tj, sizeof tj, "{\"command\":[\"%s\"]}", script);
    hp_runner_trial_t t = {.params_json = "{}", .trial_json = tj, .objective = "loss"};
    hp_runner_opts_t o = {.kill_grace_ms = 300, .output_cap = 1024};
    hp_cancel_t cancel;
    ck_assert_int_eq(hp_cancel_init(&cancel), 0);
    hp_runner_outcome_t out;
    hp_runner_run(&t, &o, NULL, NULL, &cancel, &out);
    hp_cancel_fini(&cancel);
    ck_assert_int_eq(out.status, HP_RUNNER_COMPLETED);
    ck_assert_ptr_nonnull(out.stdout_text);
    ck_assert_str_eq(out.stdout_text, "hello out\nloss=0.5\n");
    ck_assert_uint_eq(out.stdout_len, strlen("hello out\nloss=0.5\n"));
    ck_assert_uint_le(out.stderr_len, 1024);
    static const char start[] = "bad \377\376 bytes\nerr line 0\n";
    ck_assert(strncmp(out.stderr_text, start, sizeof start - 1) == 0);
    ck_assert_ptr_nonnull(strstr(out.stderr_text, " bytes cut ...]\n"));
    const char *end = "err line 299\n";
    ck_assert_str_eq(out.stderr_text + out.stderr_len - strlen(end), end);
    hp_runner_outcome_fini(&out);
    ck_assert_ptr_null(out.stdout_text);

    /* a built-in trial has no program output */
    hp_runner_trial_t fn = {.params = (hp_runner_param_t[]){{"x1", "1"}, {"x2", "2"}},
                            .n_params = 2, .params_json = "{\"x1\":1,\"x2\":2}",
                            .trial_json = "{\"function\":\"branin\",\"noise\":0}",
                            .objective = "value"};
    ck_assert_int_eq(hp_cancel_init(&cancel), 0);
    hp_runner_run(&fn, NULL, NULL, NULL, &cancel, &out);
    hp_cancel_fini(&cancel);
    ck_assert_int_eq(out.status, HP_RUNNER_COMPLETED);
    ck_assert_ptr_null(out.stdout_text);
    ck_assert_ptr_null(out.stderr_text);
    hp_runner_outcome_fini(&out);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *capture_suite(void)
{
    Suite *s = suite_create("capture");
    TCase *tc = tcase_create("capture");
    tcase_add_test(tc, test_small_stream_whole);
    tcase_add_test(tc, test_large_stream_head_cut_tail);
    tcase_add_test(tc, test_default_cap);
    tcase_add_test(tc, test_runner_keeps_both_streams);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return hp_check_run(capture_suite()); }
