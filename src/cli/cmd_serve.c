/* aekit serve: the HTTP glue around serve_api.c (libmicrohttpd). One
 * read-only model, a thread pool of workers each with its own workspace
 * (a pthread key, made on a worker's first request and freed when it
 * exits), bounded connections (in all and per address) with a timeout, bodies capped before they are
 * read. Runs until SIGINT or SIGTERM, then stops the workers and exits 0. */
#define _GNU_SOURCE /* pipe2 */
#include "cli.h"
#include "serve_api.h"
#include "aekit/pictures.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#define SERVE_CONNECTION_LIMIT   256 /* open connections at once            */
#define SERVE_PER_IP_LIMIT       64  /* of them from one address            */
#define SERVE_CONNECTION_TIMEOUT 5   /* seconds a connection may stay idle  */

static const arg_flag serve_flags[] = {
    CLI_FLAGS_MODEL,
    { "data",    "NAME|DIR", "the data set the model was trained on",
      "data set name or folder; its test split is shown", 0, 0, 0 },
    { "port",    "N",        "8080", "TCP port (0 = any free port, printed)", 0, 0, 65535 },
    { "host",    "ADDR",     "127.0.0.1", "address to listen on (another than loopback: with a warning)", 0, 0, 0 },
    { "limit",   "N",        "all", "the first N test images only", 0, 1, INT_MAX },
    { "threads", "N",        "0 = all cores", "worker threads answering requests (each one request at a time)",
      0, 0, INT_MAX },
    { NULL, NULL, NULL, NULL, 0, 0, 0 }
};

static void serve_more_help(FILE *out)
{
    fprintf(out, "Serves a page (http://HOST:PORT/) to explore the model's latent space in a\n"
                 "browser, and its JSON API: GET /api/info, /api/points?limit=N,\n"
                 "/api/decode?z=V1,V2,... or ?p=X,Y (a PNG), /api/image/N (a PNG), and\n"
                 "POST /api/encode (a PNG or JPEG body of at most 1 MB). docs/cli.md has the\n"
                 "details. Stop it with Ctrl-C (SIGINT) or SIGTERM.\n");
}

const arg_command serve_command = {
    .name = "serve",
    .summary = "explore a model's latent space in the browser (a local web server)",
    .usage = "aekit serve MODEL [--data NAME|DIR] [--port 8080] [--host 127.0.0.1] [--limit N]",
    .positional = "MODEL",
    .flags = serve_flags,
    .examples = "  aekit serve runs/vae/model.safetensors --data mnist --limit 2000\n",
    .more_help = serve_more_help,
};

/* Host names a request may be addressed to (the Host header, and an
 * Origin's host): loopback by its names, the bound address and --host. A
 * web page elsewhere (or one whose name was rebound to 127.0.0.1) sends its
 * own name, and is refused. */
#define SERVE_MAX_HOSTS 6
typedef struct {
    serve_state    state;
    pthread_key_t  workspace_key;
    char           hosts[SERVE_MAX_HOSTS][INET6_ADDRSTRLEN + 64];
    int            nhosts, port;
} server;

/* A request's body as it arrives. */
typedef struct {
    uint8_t *data;
    size_t   size;
    int      too_big;  /* chunked past the cap: the rest is dropped, then 413 */
} upload;

static int stop_pipe[2] = { -1, -1 };

static void on_stop_signal(int sig)
{
    (void)sig;
    int saved = errno;
    ssize_t w = write(stop_pipe[1], "s", 1);
    (void)w;
    errno = saved;
}

static void free_workspace(void *ws)
{
    ae_workspace_free(ws);
}

static enum MHD_Result queue(struct MHD_Connection *c, serve_response *r)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        r->size, r->body, r->body_static ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        serve_response_free(r);
        return MHD_NO;
    }
    r->body = NULL; /* the response owns it now */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    /* the page loads nothing from elsewhere */
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                            "img-src 'self' data: blob:; connect-src 'self'");
    if (r->allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result queue_error(struct MHD_Connection *c, int status, const char *json)
{
    serve_response r = { .status = status, .content_type = "application/json",
                         .body = (uint8_t *)json, .size = strlen(json), .body_static = 1 };
    return queue(c, &r);
}

typedef struct {
    serve_arg args[SERVE_MAX_ARGS + 1];
    int       n;
} arg_list;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    arg_list *l = cls;
    if (l->n < SERVE_MAX_ARGS + 1) l->args[l->n] = (serve_arg){ key, value };
    l->n++;
    return l->n <= SERVE_MAX_ARGS ? MHD_YES : MHD_NO; /* more: a 400 anyway */
}

/* URL decoding (libmicrohttpd's own) that leaves a path or argument holding
 * %00 undecoded: decoded, the C string would end at the NUL and
 * /api/image/1%00abc would be image 1. Undecoded, it is refused (400/404). */
static size_t unescape_keeping_nul(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    if (strstr(s, "%00")) return strlen(s);
    return MHD_http_unescape(s);
}

static void add_host(server *sv, const char *name)
{
    if (sv->nhosts < SERVE_MAX_HOSTS && strlen(name) < sizeof sv->hosts[0])
        snprintf(sv->hosts[sv->nhosts++], sizeof sv->hosts[0], "%s", name);
}

/* 1 if text is "HOST:PORT" for an accepted host and the server's port
 * (the port may be left out when it is 80, as browsers do). */
static int is_our_host(const server *sv, const char *text, size_t len)
{
    for (int i = 0; i < sv->nhosts; i++) {
        size_t n = strlen(sv->hosts[i]);
        if (len < n || strncasecmp(text, sv->hosts[i], n) != 0) continue;
        if (len == n) return sv->port == 80;
        char port[16];
        int k = snprintf(port, sizeof port, ":%d", sv->port);
        if (len - n == (size_t)k && memcmp(text + n, port, (size_t)k) == 0) return 1;
    }
    return 0;
}

/* 1 if the request's Host is ours and its Origin, when present, too. */
static int addressed_to_us(const server *sv, struct MHD_Connection *c)
{
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!host || !is_our_host(sv, host, strlen(host))) return 0;
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (!origin) return 1;
    return strncmp(origin, "http://", 7) == 0 && is_our_host(sv, origin + 7, strlen(origin + 7));
}

/* 1 if the Content-Type is image/png or image/jpeg (parameters allowed). */
static int is_image_type(const char *type)
{
    static const char *const types[] = { "image/png", "image/jpeg" };
    if (!type) return 0;
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(types[i]);
        if (strncasecmp(type, types[i], n) == 0 && (type[n] == '\0' || type[n] == ';' || type[n] == ' '))
            return 1;
    }
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    server *sv = cls;
    upload *u = *con_cls;
    if (!u) { /* the headers: refuse a body too large before reading it */
        u = calloc(1, sizeof *u);
        if (!u) return MHD_NO;
        *con_cls = u;
        if (!addressed_to_us(sv, c))
            return queue_error(c, 403, "{\"error\": \"Host: the request is not addressed to this server "
                                       "(Host or Origin names another site)\"}\n");
        if (strcmp(url, "/api/encode") == 0 && strcmp(method, "POST") == 0 &&
            !is_image_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)))
            return queue_error(c, 415, "{\"error\": \"Content-Type: image/png or image/jpeg expected\"}\n");
        const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (len && (strlen(len) > 12 || strtoull(len, NULL, 10) > SERVE_MAX_BODY))
            return queue_error(c, 413, "{\"error\": \"body: larger than 1048576 bytes\"}\n");
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* no Content-Length (chunked) and past the cap: read on and drop
         * the rest, so that the client gets its 413 */
        if (u->too_big || u->size + *upload_data_size > SERVE_MAX_BODY) {
            u->too_big = 1;
            free(u->data);
            u->data = NULL;
            u->size = 0;
            *upload_data_size = 0;
            return MHD_YES;
        }
        uint8_t *grown = realloc(u->data, u->size + *upload_data_size);
        if (!grown) return MHD_NO;
        u->data = grown;
        memcpy(u->data + u->size, upload_data, *upload_data_size);
        u->size += *upload_data_size;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (u->too_big)
        return queue_error(c, 413, "{\"error\": \"body: larger than 1048576 bytes\"}\n");

    ae_workspace *ws = pthread_getspecific(sv->workspace_key);
    if (!ws) {
        ae_error err = {{0}};
        if (ae_workspace_new(&ws, sv->state.model, 1, &err) != 0 ||
            pthread_setspecific(sv->workspace_key, ws) != 0) {
            ae_workspace_free(ws);
            return queue_error(c, 500, "{\"error\": \"out of memory for a workspace\"}\n");
        }
    }
    arg_list args = { .n = 0 };
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &args);
    serve_request rq = { .method = method, .path = url, .args = args.args,
                         .nargs = args.n, .body = u->data, .body_size = u->size };
    serve_response r;
    serve_handle(&sv->state, ws, &rq, &r);
    return queue(c, &r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    upload *u = *con_cls;
    if (u) {
        free(u->data);
        free(u);
    }
    *con_cls = NULL;
}

/* 1 for a loopback address (127.0.0.0/8, ::1). */
static int is_loopback(const struct sockaddr *a)
{
    if (a->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127;
    if (a->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)a)->sin6_addr);
    return 0;
}

/* Opens the listening socket on host:port: the fd, or -1 after the error.
 * url gets "http://HOST:PORT/" with the port bound (port 0: the one chosen). */
static int listen_on(const char *host, int port, char *url, size_t url_size, server *sv)
{
    struct addrinfo hints = { 0 }, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    int gai = getaddrinfo(host, port_text, &hints, &res);
    if (gai != 0 || !res) {
        cli_fail(EXIT_USAGE, "serve", "--host %s: not an address to listen on (%s)", host, gai_strerror(gai));
        return -2;
    }
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        freeaddrinfo(res);
        if (e == EADDRINUSE)
            cli_fail(EXIT_ERROR, "serve", "cannot listen on %s port %d: the port is in use "
                     "(another server; try --port N)", host, port);
        else
            cli_fail(EXIT_ERROR, "serve", "cannot listen on %s port %d: %s", host, port, strerror(e));
        return -1;
    }
    /* warned once it is certain to be served */
    if (!is_loopback(res->ai_addr))
        fprintf(stderr, "aekit serve: warning: --host %s is reachable from other machines, "
                        "and anyone who reaches it can use the model (no authentication)\n",
                cli_text(host));
    struct sockaddr_storage bound;
    socklen_t len = sizeof bound;
    char numeric[INET6_ADDRSTRLEN + 2] = "?";
    int bound_port = port;
    if (getsockname(fd, (struct sockaddr *)&bound, &len) == 0) {
        if (bound.ss_family == AF_INET) {
            const struct sockaddr_in *a = (const struct sockaddr_in *)&bound;
            inet_ntop(AF_INET, &a->sin_addr, numeric, sizeof numeric);
            bound_port = ntohs(a->sin_port);
        } else if (bound.ss_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&bound;
            char text[INET6_ADDRSTRLEN];
            inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
            snprintf(numeric, sizeof numeric, "[%s]", text);
            bound_port = ntohs(a->sin6_port);
        }
    }
    freeaddrinfo(res);
    snprintf(url, url_size, "http://%s:%d/", numeric, bound_port);
    sv->port = bound_port;
    add_host(sv, "localhost");
    add_host(sv, "127.0.0.1");
    add_host(sv, "[::1]");
    if (strcmp(numeric, "127.0.0.1") != 0 && strcmp(numeric, "[::1]") != 0) add_host(sv, numeric);
    if (strchr(host, ':')) { /* an IPv6 literal: bracketed in a Host header */
        char bracketed[sizeof sv->hosts[0]];
        if (strlen(host) + 3 <= sizeof bracketed) {
            snprintf(bracketed, sizeof bracketed, "[%s]", host);
            add_host(sv, bracketed);
        }
    } else if (strcmp(host, numeric) != 0 && strcmp(host, "127.0.0.1") != 0 && strcmp(host, "localhost") != 0)
        add_host(sv, host);
    return fd;
}

/* The kind of model /api/info names, and the noise it was trained with
 * into noise (NULL when none: *noise_out): a VAE, say, trained with --task
 * denoise is a "vae" with noise. */
static const char *model_kind(const ae_model *m, char *noise, size_t size, const char **noise_out)
{
    ae_noise nz;
    cli_model_noise(m, &nz);
    *noise_out = NULL;
    if (nz.kind != AE_NOISE_NONE && ae_noise_format(&nz, noise, size) < size) *noise_out = noise;
    if (ae_model_is_upscaler(m)) return "super-resolution";
    if (ae_model_is_variational(m)) return "vae";
    if (ae_model_is_adversarial(m)) return "aae";
    return nz.kind != AE_NOISE_NONE ? "denoiser" : "autoencoder";
}

int cmd_serve(int argc, char **argv)
{
    args a;
    int rc = args_parse(&a, &serve_command, argc, argv);
    if (rc) return rc;
    if (a.help) { args_print_help(&serve_command, stdout); return EXIT_OK; }

    const char *path = a.positional[0], *data, *host;
    int limit, threads, port;
    if ((rc = args_string(&a, "data", NULL, &data)) ||
        (rc = args_int(&a, "port", 8080, &port)) ||
        (rc = args_string(&a, "host", "127.0.0.1", &host)) ||
        (rc = args_int(&a, "limit", 0, &limit)) ||
        (rc = args_threads(&a, 0, &threads)))
        return rc;
    cli_file in[] = { { "MODEL", path, 0 } };
    if ((rc = cli_check_io("serve", in, 1, NULL, 0, data))) return rc;

    ae_model *m = NULL;
    if ((rc = cli_load_model("serve", &a, path, &m))) return rc;
    if ((rc = cli_refuse_conditional("serve", path, m))) {
        ae_model_free(m);
        return rc;
    }
    ae_dataset *test = NULL;
    server sv;
    memset(&sv, 0, sizeof sv);
    int fd = -1, key_made = 0;
    struct MHD_Daemon *d = NULL;
    if ((rc = cli_data_for("serve", data, m, path, NULL, 0, &data)) ||
        (rc = cli_open_test_set("serve", data, limit, m, &test)))
        goto done;
    int workers = ae_threads_resolve(threads);
    if (workers < 1) workers = 1;
    /* the address before the work of encoding: a busy port fails at once */
    char url[128];
    fd = listen_on(host, port, url, sizeof url, &sv);
    if (fd < 0) {
        rc = fd == -2 ? EXIT_USAGE : EXIT_ERROR;
        goto done;
    }
    args_print_notes();
    ae_error err = {{0}};
    char noise_text[64];
    const char *noise = NULL, *kind = model_kind(m, noise_text, sizeof noise_text, &noise);
    if (serve_state_init(&sv.state, m, test, data, kind, noise, threads, &err) != 0) {
        rc = cli_fail(EXIT_ERROR, "serve", "%s: %s", path, err.msg);
        goto done;
    }
    if (pthread_key_create(&sv.workspace_key, free_workspace) != 0) {
        rc = cli_fail(EXIT_ERROR, "serve", "cannot make a thread key");
        goto done;
    }
    key_made = 1;

    /* SIGINT and SIGTERM end the serving: their handler (run by whichever
     * thread gets them) writes to a pipe the main thread waits on. Until
     * here they simply end the process: nothing is written. */
    if (pipe2(stop_pipe, O_CLOEXEC) != 0) {
        rc = cli_fail(EXIT_ERROR, "serve", "cannot make a pipe: %s", strerror(errno));
        goto done;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* epoll (MHD_USE_AUTO) in each pool thread: many idle or half-sent
     * connections cost no worker; one address cannot take all of them */
    d = MHD_start_daemon(MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG,
                         0, NULL, NULL,
                         on_request, &sv,
                         MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                         MHD_OPTION_THREAD_POOL_SIZE, (unsigned)workers,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned)SERVE_CONNECTION_LIMIT,
                         MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)SERVE_PER_IP_LIMIT,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVE_CONNECTION_TIMEOUT,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                         MHD_OPTION_UNESCAPE_CALLBACK, unescape_keeping_nul, NULL,
                         MHD_OPTION_END);
    if (!d) {
        rc = cli_fail(EXIT_ERROR, "serve", "cannot start the HTTP server on %s", url);
        goto done;
    }
    printf("aekit serve: %s (%s on %d test images of %s; Ctrl-C to stop)\n", url,
           cli_text(path), test->n, cli_text(data));
    fflush(stdout);
    char byte;
    while (read(stop_pipe[0], &byte, 1) < 0 && errno == EINTR) {}
    rc = EXIT_OK;
done:
    /* joins the workers (their workspaces are freed) and closes the
     * listening socket it was given */
    if (d) MHD_stop_daemon(d);
    else if (fd >= 0) close(fd);
    /* the handler writes to the pipe: put it back before the pipe goes */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    for (int i = 0; i < 2; i++)
        if (stop_pipe[i] >= 0) {
            close(stop_pipe[i]);
            stop_pipe[i] = -1;
        }
    if (key_made) pthread_key_delete(sv.workspace_key);
    serve_state_free(&sv.state);
    if (test) ae_dataset_free(test);
    ae_model_free(m);
    return rc;
}
