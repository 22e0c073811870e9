/* lectern-broker: the lab's Kafka-protocol broker.
 *
 * librdkafka's mock cluster inside a small program: it creates every topic
 * of lib/events/topics.c (and its .dlq) with its partition count, then writes its
 * bootstrap address to a file (atomically) and to stdout, and runs until
 * SIGTERM or SIGINT. Messages live in memory only: a restart starts empty.
 *
 *   lectern-broker [--bootstrap-file PATH] [--brokers 1..3]
 *
 * SIGUSR1 makes the next produce request fail with OUT_OF_ORDER_SEQUENCE_NUMBER,
 * what a broker that lost an idempotent producer's state answers: the
 * producer then has a fatal error, and tests see its client recover.
 *
 * The mock cluster listens on random ports, so a restarted broker has a new
 * address: clients re-read the bootstrap file (lib/worker does) and
 * reconnect. The file is written only once every topic exists and removed
 * at a clean stop: a client that reads an address never meets a cluster
 * without its topics (which a client's metadata request would otherwise
 * auto-create with the wrong partition count; with fixed ports, clients
 * that knew the old address did exactly that). */
#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/cfg.h"
#include "core/log.h"
#include "events/topics.h"

enum { BROKER_ERRSTR_MAX = 512, BROKER_PATH_MAX = 4096, BROKER_MAX = 3, BROKER_CLUSTER_TRIES = 5 };

/* Kafka's ApiKey of a Produce request (the protocol's numbering). */
enum { BROKER_API_PRODUCE = 0 };

static void broker_usage(FILE *f)
{
	fprintf(f, "usage: lectern-broker [--bootstrap-file PATH] [--brokers 1..%d]\n", BROKER_MAX);
}

/* Writes text to path through a temporary file and rename, so a reader never
 * sees half an address. */
static int broker_write_file(const char *path, const char *text)
{
	char tmp[BROKER_PATH_MAX];
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		log_error("bootstrap file path too long");
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_error("cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	size_t len = strlen(text);
	int rc = 0;
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
		log_error("cannot write %s: %s", tmp, strerror(errno));
		rc = -1;
	}
	if (close(fd) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) != 0) {
		log_error("cannot rename %s to %s: %s", tmp, path, strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		unlink(tmp);
	return rc;
}

/* Creates one topic on the mock cluster. *exists is set when a client got
 * there first (its metadata request auto-created the topic). */
static bool broker_topic(rd_kafka_mock_cluster_t *mc, const char *name, int partitions,
                         int replicas, bool *exists)
{
	rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, name, partitions, replicas);
	if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
		*exists = true;
	if (err) {
		log_warn("cannot create topic %s: %s", name, rd_kafka_err2str(err));
		return false;
	}
	return true;
}

/* A mock cluster of `brokers` brokers with every topic, or NULL. A client
 * can only reach the new random ports before the topics exist if it was
 * retrying that very address (an earlier cluster's); that cluster is then
 * thrown away and a new one made on other ports. */
static rd_kafka_mock_cluster_t *broker_cluster_new(rd_kafka_t *rk, int brokers)
{
	for (int attempt = 0; attempt < BROKER_CLUSTER_TRIES; attempt++) {
		rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
		if (!mc) {
			log_error("cannot start the mock cluster");
			return NULL;
		}
		bool ok = true, exists = false;
		for (size_t i = 0; i < topics_count && ok; i++) {
			char dlq[TOPIC_NAME_MAX];
			ok = topic_dlq_name(topics[i].name, dlq, sizeof(dlq)) &&
			     broker_topic(mc, topics[i].name, topics[i].partitions, brokers,
			                  &exists) &&
			     broker_topic(mc, dlq, topics[i].partitions, brokers, &exists);
		}
		if (ok)
			return mc;
		rd_kafka_mock_cluster_destroy(mc);
		if (!exists)
			break;
		log_warn(
		    "a client reached the new cluster before its topics existed: making another");
	}
	log_error("cannot create the topics");
	return NULL;
}

int main(int argc, char **argv)
{
	const char *bootstrap_file = NULL;
	long brokers = 1;
	log_init("broker", LOG_LEVEL_INFO);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			broker_usage(stdout);
			return 0;
		}
		if (i + 1 >= argc) {
			broker_usage(stderr);
			return 2;
		}
		if (strcmp(argv[i], "--bootstrap-file") == 0) {
			bootstrap_file = argv[++i];
		} else if (strcmp(argv[i], "--brokers") == 0) {
			if (!cfg_parse_long(argv[++i], 1, BROKER_MAX, &brokers)) {
				broker_usage(stderr);
				return 2;
			}
		} else {
			broker_usage(stderr);
			return 2;
		}
	}

	/* librdkafka's threads inherit this mask, so only sigwait sees the signals. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	int status = 1;
	char errstr[BROKER_ERRSTR_MAX];
	rd_kafka_mock_cluster_t *mc = NULL;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	/* The handle only hosts the cluster: its "no bootstrap.servers" notice is noise. */
	(void)rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof(errstr));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		log_error("cannot create the Kafka handle: %s", errstr);
		rd_kafka_conf_destroy(conf);
		goto out;
	}
	mc = broker_cluster_new(rk, (int)brokers);
	if (!mc)
		goto out;
	const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
	if (bootstrap_file && broker_write_file(bootstrap_file, bootstrap) != 0)
		goto out;
	printf("%s\n", bootstrap);
	fflush(stdout);
	log_info("broker up: bootstrap=%s brokers=%ld topics=%zu", bootstrap, brokers,
	         topics_count * 2);

	int sig = 0;
	while (sigwait(&stop, &sig) != 0 || sig == SIGUSR1) {
		if (sig == SIGUSR1) {
			log_info(
			    "signal %d: the next produce request fails (out of order sequence)",
			    sig);
			rd_kafka_mock_push_request_errors(
			    mc, BROKER_API_PRODUCE, 1,
			    RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
		}
		sig = 0;
	}
	log_info("signal %d: stopping", sig);
	status = 0;
out:
	if (bootstrap_file && status == 0)
		unlink(bootstrap_file);
	if (mc)
		rd_kafka_mock_cluster_destroy(mc);
	if (rk)
		rd_kafka_destroy(rk);
	return status;
}
