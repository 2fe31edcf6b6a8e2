/* hp_delay_proxy — a TCP forwarder that adds a one-way delay, for the
 * partition tests on kernels without tc's netem (sch_netem).
 *
 *     hp_delay_proxy --listen 10.77.0.1:7600 --to 127.0.0.1:7521 \
 *         --delay-ms 100 [--reset-pct 0.5] [--seed 7] [--ready FILE]
 *
 * Every connection accepted on --listen gets its own connection to --to.
 * Bytes read from either side are forwarded to the other no sooner than
 * --delay-ms after they arrived, in order (a chunk never overtakes the one
 * before it), so each direction sees the delay once: a round trip through
 * the proxy takes twice it. With --reset-pct P, each chunk read has a P%
 * chance of resetting both connections instead (RST, as a middlebox that
 * lost its state would), which the peers must survive like any broken
 * connection. --ready FILE is created once the listener is bound, so a
 * test waits for the file, never for a time. On SIGTERM or SIGINT it
 * prints what it did (connections, chunks, bytes, resets) to stderr and
 * exits 0.
 *
 * One thread, poll(2); a direction holding more than 8 MiB stops reading
 * its source until it drains. Packet loss is not emulated here: a byte
 * stream cannot lose bytes. The partition test drops packets on the links
 * beneath (nftables), where TCP retransmits them. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256
#define CHUNK 65536
#define QUEUE_MAX (8u << 20)

typedef struct chunk {
    struct chunk *next;
    uint64_t due_ms; /* when it may be written */
    size_t len, off;
    unsigned char data[];
} chunk_t;

/* one direction: bytes read from `from`, written to `to` */
typedef struct dir {
    int from, to;
    chunk_t *head, *tail;
    size_t queued;
    int eof;      /* `from` ended: shut `to`'s write side once drained */
    int shut;
} dir_t;

typedef struct conn {
    int used;
    int connecting; /* the upstream connect is in progress */
    dir_t d[2];     /* d[0]: client -> upstream, d[1]: upstream -> client */
} conn_t;

static conn_t conns[MAX_CONNS];
static volatile sig_atomic_t quit;
static unsigned long long n_conns, n_chunks, n_bytes, n_resets;
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static void on_signal(int sig)
{
    (void)sig;
    quit = 1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* splitmix64: reproducible with --seed */
static double uniform01(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static int parse_addr(const char *s, struct sockaddr_in *a)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port <= 0 || port > 65535 || inet_pton(AF_INET, host, &a->sin_addr) != 1)
        return -1;
    a->sin_port = htons((uint16_t)port);
    return 0;
}

static void free_queue(dir_t *d)
{
    for (chunk_t *c = d->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    d->head = d->tail = NULL;
    d->queued = 0;
}

/* Closes both sides; with rst, so that each peer sees a reset. */
static void conn_close(conn_t *c, int rst)
{
    int fds[2] = {c->d[0].from, c->d[1].from};
    for (int i = 0; i < 2; i++) {
        if (fds[i] < 0)
            continue;
        if (rst) {
            struct linger l = {.l_onoff = 1, .l_linger = 0};
            setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &l, sizeof l);
        }
        close(fds[i]);
    }
    free_queue(&c->d[0]);
    free_queue(&c->d[1]);
    memset(c, 0, sizeof *c);
}

static void accept_one(int lfd, const struct sockaddr_in *to)
{
    int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0)
        return;
    conn_t *c = NULL;
    for (int i = 0; i < MAX_CONNS && !c; i++)
        if (!conns[i].used)
            c = &conns[i];
    int ufd = c ? socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) : -1;
    if (ufd < 0) {
        close(cfd);
        return;
    }
    int one = 1;
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc = connect(ufd, (const struct sockaddr *)to, sizeof *to);
    if (rc < 0 && errno != EINPROGRESS) {
        close(ufd);
        close(cfd);
        return;
    }
    memset(c, 0, sizeof *c);
    c->used = 1;
    c->connecting = rc < 0;
    c->d[0].from = cfd;
    c->d[0].to = ufd;
    c->d[1].from = ufd;
    c->d[1].to = cfd;
    n_conns++;
}

/* Reads what from has into d's queue, due delay_ms from now. Returns -1
 * when the connection is to go (an error, or a reset drawn). */
static int read_into(dir_t *d, uint64_t delay_ms, double reset_pct)
{
    chunk_t *k = malloc(sizeof *k + CHUNK);
    if (!k)
        return -1;
    ssize_t n = read(d->from, k->data, CHUNK);
    if (n < 0) {
        free(k);
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    }
    if (n == 0) {
        free(k);
        d->eof = 1;
        return 0;
    }
    if (reset_pct > 0 && uniform01() * 100.0 < reset_pct) {
        free(k);
        n_resets++;
        return -1;
    }
    k->next = NULL;
    k->len = (size_t)n;
    k->off = 0;
    k->due_ms = now_ms() + delay_ms;
    if (d->tail)
        d->tail->next = k;
    else
        d->head = k;
    d->tail = k;
    d->queued += (size_t)n;
    n_chunks++;
    n_bytes += (unsigned long long)n;
    return 0;
}

/* Writes the chunks that are due. Returns -1 on a write error. */
static int write_due(dir_t *d, uint64_t now)
{
    while (d->head && d->head->due_ms <= now) {
        chunk_t *k = d->head;
        ssize_t n = write(d->to, k->data + k->off, k->len - k->off);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        k->off += (size_t)n;
        d->queued -= (size_t)n;
        if (k->off < k->len)
            return 0;
        d->head = k->next;
        if (!d->head)
            d->tail = NULL;
        free(k);
    }
    if (!d->head && d->eof && !d->shut) {
        shutdown(d->to, SHUT_WR);
        d->shut = 1;
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: hp_delay_proxy --listen IP:PORT --to IP:PORT --delay-ms N "
                    "[--reset-pct P] [--seed S] [--ready FILE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *listen_s = NULL, *to_s = NULL, *ready = NULL;
    long delay_ms = -1;
    double reset_pct = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        if (strcmp(argv[i], "--listen") == 0)
            listen_s = v;
        else if (strcmp(argv[i], "--to") == 0)
            to_s = v;
        else if (strcmp(argv[i], "--delay-ms") == 0)
            delay_ms = strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--reset-pct") == 0)
            reset_pct = strtod(v, NULL);
        else if (strcmp(argv[i], "--seed") == 0)
            rng_state ^= strtoull(v, NULL, 10) * 0x2545f4914f6cdd1du;
        else if (strcmp(argv[i], "--ready") == 0)
            ready = v;
        else
            usage();
        i++;
    }
    struct sockaddr_in la, ta;
    if (!listen_s || !to_s || delay_ms < 0 || parse_addr(listen_s, &la) < 0 ||
        parse_addr(to_s, &ta) < 0 || reset_pct < 0 || reset_pct > 100)
        usage();

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&la, sizeof la) < 0 || listen(lfd, 128) < 0) {
        fprintf(stderr, "hp_delay_proxy: cannot listen on %s: %s\n", listen_s, strerror(errno));
        return 1;
    }
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (!f) {
            fprintf(stderr, "hp_delay_proxy: cannot create %s: %s\n", ready, strerror(errno));
            return 1;
        }
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
    }
    fprintf(stderr, "hp_delay_proxy: %s -> %s, %ld ms each way, resets %.2f%% of chunks\n",
            listen_s, to_s, delay_ms, reset_pct);

    struct pollfd pf[1 + 2 * MAX_CONNS];
    while (!quit) {
        uint64_t now = now_ms();
        int timeout = -1, n = 0;
        pf[n++] = (struct pollfd){.fd = lfd, .events = POLLIN};
        for (int i = 0; i < MAX_CONNS; i++) {
            conn_t *c = &conns[i];
            if (!c->used)
                continue;
            for (int k = 0; k < 2; k++) {
                dir_t *d = &c->d[k], *o = &c->d[1 - k];
                short ev = 0;
                if (!c->connecting && !d->eof && d->queued < QUEUE_MAX)
                    ev |= POLLIN;
                /* writable interest on d->from is for the other direction */
                if (c->connecting && k == 1)
                    ev |= POLLOUT;
                if (!c->connecting && o->head && o->head->due_ms <= now)
                    ev |= POLLOUT;
                if (!c->connecting && o->head && o->head->due_ms > now) {
                    int wait = (int)(o->head->due_ms - now);
                    if (timeout < 0 || wait < timeout)
                        timeout = wait;
                }
                pf[n++] = (struct pollfd){.fd = d->from, .events = ev};
            }
        }
        if (poll(pf, (nfds_t)n, timeout) < 0 && errno != EINTR)
            break;
        if (pf[0].revents & POLLIN)
            accept_one(lfd, &ta);
        int p = 1;
        now = now_ms();
        for (int i = 0; i < MAX_CONNS; i++) {
            conn_t *c = &conns[i];
            if (!c->used || p >= n)
                continue;
            short rev[2] = {pf[p].revents, pf[p + 1].revents};
            p += 2;
            if (c->connecting) {
                if (!(rev[1] & (POLLOUT | POLLERR | POLLHUP)))
                    continue;
                int e = 0;
                socklen_t el = sizeof e;
                getsockopt(c->d[1].from, SOL_SOCKET, SO_ERROR, &e, &el);
                if (e) {
                    conn_close(c, 1);
                    continue;
                }
                c->connecting = 0;
                continue;
            }
            int bad = 0;
            for (int k = 0; k < 2 && !bad; k++) {
                dir_t *d = &c->d[k];
                if ((rev[k] & (POLLIN | POLLHUP | POLLERR)) && !d->eof && d->queued < QUEUE_MAX)
                    bad = read_into(d, (uint64_t)delay_ms, reset_pct) < 0;
            }
            for (int k = 0; k < 2 && !bad; k++)
                bad = write_due(&c->d[k], now) < 0;
            if (bad) {
                conn_close(c, 1);
                continue;
            }
            /* both sides ended and everything was passed on */
            if (c->d[0].shut && c->d[1].shut)
                conn_close(c, 0);
        }
    }
    fprintf(stderr,
            "hp_delay_proxy: %llu connections, %llu chunks (%llu bytes) delayed %ld ms, "
            "%llu resets\n",
            n_conns, n_chunks, n_bytes, delay_ms, n_resets);
    return 0;
}
