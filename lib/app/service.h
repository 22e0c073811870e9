/* service: a Lectern service is declared, not written.
 *
 * A service is one struct service_def: its name, the clients it uses, its
 * own settings, its routes (the FastCGI pool) and its jobs and event
 * consumers (the worker). Both programs of a service are built from the
 * same main.c, which holds the descriptor and calls service_main; the
 * program's name picks the role: lectern-NAME serves the routes and
 * lectern-NAME-worker (any name ending in "worker") runs the jobs, the
 * consumers and the outbox relay.
 *
 * service_main reads every setting (the common ones, each client's, the
 * worker's, then the service's own), answers --help and --print-config
 * with all of them, checks everything before serving, opens the clients in
 * each process (they reconnect themselves; a dependency down at start is
 * reported by /health, not fatal), answers GET /health with one check per
 * client (and Kafka, which every service's worker uses), GET /metrics
 * (app/metrics.h: to the host only) and GET /ready (app/ready.h: in the
 * pool given LECTERN_READY_URLS), and closes the clients at exit. Handlers reach the clients
 * through service_db() and its siblings. docs/design.md, "How to add a service", walks through a
 * new one. */
#ifndef LECTERN_SERVICE_H
#define LECTERN_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/cfg.h"
#include "core/err.h"
#include "data/cache.h"
#include "data/db.h"
#include "events/consumer.h"
#include "events/worker.h"
#include "storage/aws.h"
#include "storage/store.h"
#include "text/llm.h"
#include "web/http.h"

/* The clients a service uses; lib owns them (one per process). */
enum service_client {
	SERVICE_DB = 1 << 0,    /* Postgres, the service's own database: LECTERN_DB_* */
	SERVICE_CACHE = 1 << 1, /* Redis: LECTERN_REDIS_* */
	SERVICE_STORE = 1 << 2, /* object storage, file or S3: LECTERN_STORE* and LECTERN_S3_* */
	SERVICE_LLM = 1 << 3,   /* an OpenAI-compatible endpoint, when LECTERN_LLM_* names one */
	SERVICE_AWS = 1 << 4    /* AWS engines (Polly, Transcribe, Textract): AWS_* settings */
};

enum {
	SERVICE_NAME_MAX = 32,     /* bytes of a service name ([a-z]) */
	SERVICE_ROUTES_MAX = 64,   /* routes of one service, lib's three included */
	SERVICE_SETTINGS_MAX = 16, /* settings tables of one program */
	SERVICE_PREFIXES_MAX = 4   /* URI prefixes of one service */
};

struct service_def {
	const char *name; /* "documents": lectern-NAME[-worker], logs, events, store keys */
	unsigned clients; /* enum service_client */
	/* The service's own settings tables (both programs read them),
	 * NULL-terminated; NULL for none. */
	const struct cfg_table *const *settings;
	/* Once, after every setting is loaded and before any process starts:
	 * derived values and checks across settings. An error stops the start. */
	enum err (*configure)(void);

	/* --- The FastCGI pool (lectern-NAME) --- */
	const char *const *prefixes; /* NULL-terminated; NULL means {"/api/v1/NAME", NULL} */
	const struct route *routes;  /* GET /health is added by lib */
	size_t nroutes;
	/* Instead of routes: the process's own loop over the listening socket
	 * (the gate's event loop); returns the process's exit status. */
	int (*serve)(int listen_fd);
	/* Counters of the serve loop's own in the pool's shared metrics
	 * segment (app/metrics.h: metrics_add), mapped before the fork. */
	size_t metrics_counters;
	long workers_max; /* ceiling of LECTERN_WORKERS for this pool (0: 256) */
	/* In each process, after lib's clients are open / before they close. */
	enum err (*process_init)(void);
	void (*process_done)(void);

	/* --- The worker (lectern-NAME-worker) --- */
	const struct worker_job_kind *jobs; /* may be none */
	size_t njobs;
	const struct consumer_handler *consumers; /* the topics it consumes; may be none */
	size_t nconsumers;
	const struct cfg_table *const *worker_settings; /* only the worker's; NULL-terminated */
	enum err (*worker_init)(void); /* once in the worker, after its settings and clients */
	void (*worker_done)(void);
};

/* Runs the program of def that argv[0] names (see above); returns the exit
 * status: 0 after a graceful stop or --help/--print-config, 1 when it could
 * not start (bad settings are logged), 2 for a bad argument. */
int service_main(const struct service_def *def, int argc, char **argv);

/* The running service's clients (NULL when the descriptor does not use
 * it). service_llm() is NULL unless an endpoint is configured. */
struct db *service_db(void);
struct cache *service_cache(void);
struct store *service_store(void);
struct llm_client *service_llm(void);
struct aws_client *service_aws(void);
/* The settings behind them, loaded once per program. */
const struct store_config *service_store_config(void);
const struct aws_config *service_aws_config(void);
/* The running service's name ("documents"). */
const char *service_name(void);
/* True in lectern-NAME-worker. */
bool service_is_worker(void);

/* GET /health of every service: one check per client the service uses,
 * and kafka when the broker's address is configured.
 * Exposed for services that answer health on another route too. */
enum err service_health(struct http_req *req);

#endif
