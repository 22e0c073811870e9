/* mq: librdkafka producer and consumer with Lectern's settings. */
#include "events/mq.h"

#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"

enum { MQ_ERRSTR_MAX = 512, MQ_DEFAULT_MESSAGE_TIMEOUT_MS = 30000 };

struct mq_producer {
	rd_kafka_t *rk;
	rd_kafka_queue_t *queue; /* the main queue, for the wake-up descriptor */
	int wake[2];             /* librdkafka writes to [1] when reports wait */
	mq_delivered_fn *on_delivery;
	void *arg;
	int in_flight;
	bool fatal;
};

struct mq_consumer {
	rd_kafka_t *rk;
	rd_kafka_queue_t *queue;
	int wake[2];
};

/* librdkafka's log lines, from its own threads, as our own lines. */
static void mq_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	enum log_level l = level <= 3   ? LOG_LEVEL_ERROR
	                   : level == 4 ? LOG_LEVEL_WARN
	                   : level <= 6 ? LOG_LEVEL_INFO
	                                : LOG_LEVEL_DEBUG;
	log_write(l, "kafka %s %s: %s", rd_kafka_name(rk), fac, buf);
}

static bool mq_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
	char errstr[MQ_ERRSTR_MAX];
	if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		log_error("kafka setting %s: %s", name, errstr);
		return false;
	}
	return true;
}

/* Applies "name=value,name=value". */
static bool mq_set_extra(rd_kafka_conf_t *conf, const char *extra)
{
	if (!extra || !*extra)
		return true;
	if (strlen(extra) >= MQ_OPTIONS_MAX) {
		log_error("kafka settings longer than %d bytes", MQ_OPTIONS_MAX);
		return false;
	}
	const char *p = extra;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char item[MQ_OPTION_MAX];
		if (n >= sizeof(item)) {
			log_error("kafka setting longer than %d bytes", MQ_OPTION_MAX);
			return false;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		char *eq = strchr(item, '=');
		if (n > 0) {
			if (!eq || eq == item) {
				log_error("kafka setting \"%s\" is not name=value", item);
				return false;
			}
			*eq = '\0';
			if (!mq_set(conf, item, eq + 1))
				return false;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return true;
}

/* The settings every client shares. */
static rd_kafka_conf_t *mq_conf(const struct mq_opts *opts)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set_log_cb(conf, mq_log_cb);
	if (!mq_set(conf, "bootstrap.servers", opts->bootstrap ? opts->bootstrap : "") ||
	    !mq_set(conf, "client.id", opts->client_id ? opts->client_id : "lectern") ||
	    !mq_set(conf, "log.queue", "false")) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	return conf;
}

static bool mq_wake_pipe(int fds[2], rd_kafka_queue_t *queue)
{
	if (pipe(fds) != 0) {
		log_error("kafka: pipe: %s", strerror(errno));
		fds[0] = fds[1] = -1;
		return false;
	}
	/* librdkafka's threads must never block on a full pipe. */
	for (int i = 0; i < 2; i++) {
		(void)fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
		(void)fcntl(fds[i], F_SETFD, FD_CLOEXEC);
	}
	rd_kafka_queue_io_event_enable(queue, fds[1], "1", 1);
	return true;
}

static void mq_wake_drain(int fd)
{
	char junk[64];
	while (fd >= 0 && read(fd, junk, sizeof(junk)) > 0)
		;
}

static void mq_wake_close(int fds[2], rd_kafka_queue_t *queue)
{
	if (queue && fds[1] >= 0)
		rd_kafka_queue_io_event_enable(queue, -1, NULL, 0);
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static enum err mq_err_of(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR_NO_ERROR:
		return ERR_OK;
	case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
	case RD_KAFKA_RESP_ERR__TIMED_OUT:
	case RD_KAFKA_RESP_ERR__TRANSPORT:
	case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
	case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
	case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
	case RD_KAFKA_RESP_ERR__QUEUE_FULL:
		return ERR_UNAVAILABLE;
	default:
		return ERR_INTERNAL;
	}
}

static void mq_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct mq_producer *p = opaque;
	enum err e = mq_err_of(m->err);
	if (e == ERR_INTERNAL)
		log_error("kafka: delivery to %s failed: %s", rd_kafka_topic_name(m->rkt),
		          rd_kafka_err2str(m->err));
	p->in_flight--;
	if (p->on_delivery)
		p->on_delivery(m->_private, e, p->arg);
}

static void mq_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct mq_producer *p = opaque;
	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		char why[MQ_ERRSTR_MAX];
		rd_kafka_fatal_error(rk, why, sizeof(why));
		log_error("kafka: fatal producer error: %s", why);
		if (p)
			p->fatal = true;
		return;
	}
	/* Broker down and the like: librdkafka retries by itself and its log
	 * callback has said so already. */
	log_debug("kafka: %s", reason);
}

enum err mq_producer_new(const struct mq_opts *opts, mq_delivered_fn *on_delivery, void *arg,
                         struct mq_producer **out)
{
	char errstr[MQ_ERRSTR_MAX];
	char timeout[32];
	struct mq_producer *p = xcalloc(1, sizeof(*p));
	p->wake[0] = p->wake[1] = -1;
	p->on_delivery = on_delivery;
	p->arg = arg;
	rd_kafka_conf_t *conf = mq_conf(opts);
	if (!conf)
		goto bad;
	snprintf(timeout, sizeof(timeout), "%ld",
	         opts->message_timeout_ms > 0 ? opts->message_timeout_ms
	                                      : MQ_DEFAULT_MESSAGE_TIMEOUT_MS);
	if (!mq_set(conf, "enable.idempotence", "true") || !mq_set(conf, "acks", "all") ||
	    !mq_set(conf, "linger.ms", "1") || !mq_set(conf, "message.timeout.ms", timeout) ||
	    !mq_set_extra(conf, opts->extra)) {
		rd_kafka_conf_destroy(conf);
		goto bad;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, mq_delivery_cb);
	rd_kafka_conf_set_error_cb(conf, mq_error_cb);
	rd_kafka_conf_set_opaque(conf, p);
	p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!p->rk) {
		log_error("kafka: cannot create a producer: %s", errstr);
		rd_kafka_conf_destroy(conf);
		goto bad;
	}
	p->queue = rd_kafka_queue_get_main(p->rk);
	if (!mq_wake_pipe(p->wake, p->queue))
		goto bad;
	*out = p;
	return ERR_OK;
bad:
	mq_producer_free(p, 0);
	return ERR_INVALID;
}

void mq_producer_free(struct mq_producer *p, int timeout_ms)
{
	if (!p)
		return;
	if (p->rk) {
		if (p->in_flight > 0)
			(void)rd_kafka_flush(p->rk, timeout_ms);
		/* What is left is reported as failed, so callers keep it for later. */
		rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(p->rk, 0);
	}
	mq_wake_close(p->wake, p->queue);
	if (p->queue)
		rd_kafka_queue_destroy(p->queue);
	if (p->rk)
		rd_kafka_destroy(p->rk);
	free(p);
}

enum err mq_produce(struct mq_producer *p, const char *topic, const void *key, size_t key_len,
                    const void *value, size_t len, const struct mq_header *headers, size_t nheaders,
                    void *msg_opaque)
{
	if (p->fatal)
		return ERR_INTERNAL;
	rd_kafka_headers_t *hdrs = NULL;
	if (nheaders > MQ_HEADERS_MAX)
		return ERR_INVALID;
	if (nheaders) {
		hdrs = rd_kafka_headers_new(nheaders);
		for (size_t i = 0; i < nheaders; i++)
			rd_kafka_header_add(hdrs, headers[i].name, -1, headers[i].value,
			                    (ssize_t)headers[i].len);
	}
	rd_kafka_resp_err_t err;
	if (hdrs)
		err = rd_kafka_producev(
		    p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key_len),
		    RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		    RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(msg_opaque), RD_KAFKA_V_END);
	else
		err = rd_kafka_producev(
		    p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key_len),
		    RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		    RD_KAFKA_V_OPAQUE(msg_opaque), RD_KAFKA_V_END);
	if (err) {
		if (hdrs)
			rd_kafka_headers_destroy(hdrs); /* kept by librdkafka only on success */
		if (err == RD_KAFKA_RESP_ERR__FATAL)
			p->fatal = true;
		log_warn("kafka: cannot queue a message for %s: %s", topic, rd_kafka_err2str(err));
		return err == RD_KAFKA_RESP_ERR__QUEUE_FULL ? ERR_UNAVAILABLE : ERR_INTERNAL;
	}
	p->in_flight++;
	return ERR_OK;
}

void mq_producer_poll(struct mq_producer *p, int timeout_ms)
{
	mq_wake_drain(p->wake[0]);
	rd_kafka_poll(p->rk, timeout_ms);
}

int mq_producer_in_flight(struct mq_producer *p)
{
	return p->in_flight;
}

enum err mq_producer_flush(struct mq_producer *p, int timeout_ms)
{
	mq_wake_drain(p->wake[0]);
	if (rd_kafka_flush(p->rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR || p->in_flight > 0)
		return ERR_TIMEOUT;
	return ERR_OK;
}

bool mq_producer_fatal(struct mq_producer *p)
{
	return p->fatal;
}

int mq_producer_fd(const struct mq_producer *p)
{
	return p->wake[0];
}

static void mq_consumer_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	log_debug("kafka consumer: %s", reason); /* logged by mq_log_cb already */
}

enum err mq_consumer_new(const struct mq_opts *opts, const char *group,
                         const char *const *topic_names, size_t ntopics, struct mq_consumer **out)
{
	char errstr[MQ_ERRSTR_MAX];
	enum err e = ERR_INVALID;
	struct mq_consumer *c = xcalloc(1, sizeof(*c));
	c->wake[0] = c->wake[1] = -1;
	rd_kafka_conf_t *conf = mq_conf(opts);
	if (!conf)
		goto bad;
	if (!mq_set(conf, "group.id", group) || !mq_set(conf, "enable.auto.commit", "false") ||
	    !mq_set(conf, "enable.auto.offset.store", "false") ||
	    !mq_set(conf, "auto.offset.reset", "earliest") || !mq_set_extra(conf, opts->extra)) {
		rd_kafka_conf_destroy(conf);
		goto bad;
	}
	rd_kafka_conf_set_error_cb(conf, mq_consumer_error_cb);
	c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!c->rk) {
		log_error("kafka: cannot create a consumer: %s", errstr);
		rd_kafka_conf_destroy(conf);
		goto bad;
	}
	rd_kafka_poll_set_consumer(c->rk);
	c->queue = rd_kafka_queue_get_consumer(c->rk);
	if (!mq_wake_pipe(c->wake, c->queue)) {
		e = ERR_INTERNAL;
		goto bad;
	}
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)ntopics);
	for (size_t i = 0; i < ntopics; i++)
		rd_kafka_topic_partition_list_add(list, topic_names[i], RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, list);
	rd_kafka_topic_partition_list_destroy(list);
	if (err) {
		log_error("kafka: cannot subscribe: %s", rd_kafka_err2str(err));
		goto bad;
	}
	*out = c;
	return ERR_OK;
bad:
	mq_consumer_free(c);
	return e;
}

static void mq_consumer_destroy(struct mq_consumer *c, bool leave)
{
	if (!c)
		return;
	mq_wake_close(c->wake, c->queue);
	if (c->queue)
		rd_kafka_queue_destroy(c->queue);
	if (c->rk) {
		if (leave) {
			rd_kafka_consumer_close(c->rk);
			rd_kafka_destroy(c->rk);
		} else {
			rd_kafka_destroy_flags(c->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
		}
	}
	free(c);
}

void mq_consumer_free(struct mq_consumer *c)
{
	mq_consumer_destroy(c, true);
}

void mq_consumer_drop(struct mq_consumer *c)
{
	mq_consumer_destroy(c, false);
}

enum err mq_consumer_poll(struct mq_consumer *c, int timeout_ms, struct mq_message *out)
{
	mq_wake_drain(c->wake[0]);
	rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, timeout_ms);
	if (!m)
		return ERR_NOT_FOUND;
	if (m->err) {
		if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
			log_warn("kafka consumer: %s", rd_kafka_message_errstr(m));
		rd_kafka_message_destroy(m);
		return ERR_NOT_FOUND;
	}
	memset(out, 0, sizeof(*out));
	out->topic = rd_kafka_topic_name(m->rkt);
	out->partition = (int)m->partition;
	out->offset = (long long)m->offset;
	out->key = m->key;
	out->key_len = m->key_len;
	out->value = m->payload ? m->payload : "";
	out->len = m->len;
	out->native = m;
	return ERR_OK;
}

void mq_message_free(struct mq_message *m)
{
	if (m->native)
		rd_kafka_message_destroy(m->native);
	memset(m, 0, sizeof(*m));
}

const void *mq_message_header(const struct mq_message *m, const char *name, size_t *len)
{
	rd_kafka_headers_t *hdrs = NULL;
	const void *value = NULL;
	size_t size = 0;
	if (!m->native ||
	    rd_kafka_message_headers(m->native, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    rd_kafka_header_get_last(hdrs, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return NULL;
	if (len)
		*len = size;
	return value;
}

enum err mq_commit(struct mq_consumer *c, const struct mq_message *m)
{
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(list, m->topic, m->partition)->offset = m->offset + 1;
	rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, list, 1);
	rd_kafka_topic_partition_list_destroy(list);
	if (err) {
		log_warn("kafka: cannot commit %s [%d] offset %lld: %s", m->topic, m->partition,
		         m->offset + 1, rd_kafka_err2str(err));
		return ERR_UNAVAILABLE;
	}
	return ERR_OK;
}

int mq_consumer_fd(const struct mq_consumer *c)
{
	return c->wake[0];
}

/* The partitions of topic, added to list; false when the broker does not
 * answer. A topic the broker does not know yet adds none (no lag). */
static bool mq_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
                          rd_kafka_topic_partition_list_t *list)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t err =
	    rkt ? rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms) : RD_KAFKA_RESP_ERR__INVALID_ARG;
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		log_warn("kafka: metadata of %s: %s", topic, rd_kafka_err2str(err));
		if (rkt)
			rd_kafka_topic_destroy(rkt);
		return false;
	}
	for (int t = 0; t < md->topic_cnt; t++)
		if (md->topics[t].err == RD_KAFKA_RESP_ERR_NO_ERROR)
			for (int p = 0; p < md->topics[t].partition_cnt; p++)
				rd_kafka_topic_partition_list_add(list, topic,
				                                  md->topics[t].partitions[p].id);
	rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return true;
}

enum err mq_group_lag(const struct mq_opts *opts, const char *group, const char *const *topics,
                      size_t ntopics, int timeout_ms, long long *lags)
{
	char errstr[MQ_ERRSTR_MAX];
	rd_kafka_conf_t *conf = mq_conf(opts);
	if (!conf)
		return ERR_INVALID;
	if (!mq_set(conf, "group.id", group) || !mq_set(conf, "enable.auto.commit", "false") ||
	    !mq_set_extra(conf, opts->extra)) {
		rd_kafka_conf_destroy(conf);
		return ERR_INVALID;
	}
	/* A consumer that never subscribes: it reads the group's committed
	 * offsets without joining it, so the worker is never rebalanced. */
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!rk) {
		log_error("kafka: cannot create a client for the lag: %s", errstr);
		rd_kafka_conf_destroy(conf);
		return ERR_INTERNAL;
	}
	enum err e = ERR_OK;
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(8);
	for (size_t i = 0; i < ntopics && e == ERR_OK; i++)
		if (!mq_partitions(rk, topics[i], timeout_ms, list))
			e = ERR_UNAVAILABLE;
	if (e == ERR_OK && list->cnt > 0) {
		rd_kafka_resp_err_t err = rd_kafka_committed(rk, list, timeout_ms);
		if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			log_warn("kafka: committed offsets of %s: %s", group,
			         rd_kafka_err2str(err));
			e = ERR_UNAVAILABLE;
		}
	}
	for (size_t i = 0; i < ntopics; i++)
		lags[i] = 0;
	for (int k = 0; k < list->cnt && e == ERR_OK; k++) {
		const rd_kafka_topic_partition_t *tp = &list->elems[k];
		int64_t low = 0, high = 0;
		rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
		    rk, tp->topic, tp->partition, &low, &high, timeout_ms);
		if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			log_warn("kafka: offsets of %s/%d: %s", tp->topic, tp->partition,
			         rd_kafka_err2str(err));
			e = ERR_UNAVAILABLE;
			break;
		}
		/* No commit yet: the group starts at the earliest message. */
		int64_t at = tp->offset >= 0 ? tp->offset : low;
		for (size_t i = 0; i < ntopics; i++)
			if (strcmp(topics[i], tp->topic) == 0 && high > at)
				lags[i] += high - at;
	}
	rd_kafka_topic_partition_list_destroy(list);
	rd_kafka_destroy(rk);
	return e;
}
