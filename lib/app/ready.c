/* ready: asks every service's health at once and answers them together. */
#include "app/ready.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"

enum { READY_BODY_MAX = 65536, READY_NAME_MAX = 32, READY_URL_MAX = 512 };

struct ready_one {
	char name[READY_NAME_MAX];
	char url[READY_URL_MAX];
	CURL *curl;
	struct buf body;
	bool too_big;
};

static size_t ready_write(char *p, size_t size, size_t n, void *arg)
{
	struct ready_one *one = arg;
	size_t len = size * n;
	if (one->body.len + len > READY_BODY_MAX) {
		one->too_big = true;
		return 0;
	}
	buf_append(&one->body, p, len);
	return len;
}

/* Splits "name=url,..." into list; returns how many (entries that do not
 * parse are logged and left out). */
static size_t ready_parse(const char *urls, struct ready_one *list, size_t max)
{
	size_t n = 0;
	const char *p = urls;
	while (p && *p && n < max) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t nlen = eq ? (size_t)(eq - p) : 0;
		size_t ulen = eq ? len - nlen - 1 : 0;
		if (!eq || nlen == 0 || nlen >= READY_NAME_MAX || ulen == 0 ||
		    ulen >= READY_URL_MAX) {
			log_error("ready: LECTERN_READY_URLS has an entry that is not name=url");
		} else {
			memset(&list[n], 0, sizeof(list[n]));
			memcpy(list[n].name, p, nlen);
			memcpy(list[n].url, eq + 1, ulen);
			n++;
		}
		p = end ? end + 1 : NULL;
	}
	return n;
}

/* One service's verdict from what it answered: its document, or a "down"
 * one saying why. */
static struct json_object *ready_verdict(struct ready_one *one, CURLcode rc, const char **status)
{
	long code = 0;
	curl_easy_getinfo(one->curl, CURLINFO_RESPONSE_CODE, &code);
	struct json_object *doc = NULL, *st = NULL;
	if (rc == CURLE_OK && (code == 200 || code == 503)) {
		buf_putc(&one->body, '\0');
		doc = json_tokener_parse(one->body.data);
	}
	if (doc && json_object_is_type(doc, json_type_object) &&
	    json_object_object_get_ex(doc, "status", &st) &&
	    json_object_is_type(st, json_type_string)) {
		*status = json_object_get_string(st);
		return doc;
	}
	json_object_put(doc);
	doc = json_object_new_object();
	json_object_object_add(doc, "service", json_object_new_string(one->name));
	json_object_object_add(doc, "status", json_object_new_string("down"));
	const char *why = rc != CURLE_OK ? curl_easy_strerror(rc)
	                  : one->too_big ? "its answer is too large"
	                                 : "it did not answer its health document";
	json_object_object_add(doc, "error", json_object_new_string(why));
	*status = "down";
	return doc;
}

enum err ready_answer(struct http_req *req, const char *urls, long timeout_ms, const char *self,
                      struct json_object *self_doc, bool self_down)
{
	struct ready_one list[READY_SERVICES_MAX];
	size_t n = ready_parse(urls, list, READY_SERVICES_MAX);
	CURLM *multi = curl_multi_init();
	if (!multi) {
		json_object_put(self_doc);
		return ERR_INTERNAL;
	}
	for (size_t i = 0; i < n; i++) {
		buf_init(&list[i].body);
		if (strcmp(list[i].name, self) == 0)
			continue;
		CURL *c = curl_easy_init();
		if (!c)
			continue;
		list[i].curl = c;
		curl_easy_setopt(c, CURLOPT_URL, list[i].url);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ready_write);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &list[i]);
		curl_easy_setopt(c, CURLOPT_PRIVATE, &list[i]);
		curl_multi_add_handle(multi, c);
	}
	int running = 1;
	while (running) {
		if (curl_multi_perform(multi, &running) != CURLM_OK)
			break;
		if (running)
			curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	struct json_object *services = json_object_new_object();
	bool down = false, degraded = false;
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct ready_one *one = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&one);
		const char *status = "down";
		struct json_object *doc = ready_verdict(one, msg->data.result, &status);
		down |= strcmp(status, "down") == 0;
		degraded |= strcmp(status, "degraded") == 0;
		json_object_object_add(services, one->name, doc);
	}
	/* The asking service itself, and any that could not even be asked. */
	bool self_listed = false;
	for (size_t i = 0; i < n; i++) {
		self_listed |= strcmp(list[i].name, self) == 0;
		if (strcmp(list[i].name, self) != 0 &&
		    !json_object_object_get_ex(services, list[i].name, NULL)) {
			struct ready_one *one = &list[i];
			struct json_object *doc = json_object_new_object();
			json_object_object_add(doc, "service", json_object_new_string(one->name));
			json_object_object_add(doc, "status", json_object_new_string("down"));
			json_object_object_add(doc, "error", json_object_new_string("not asked"));
			json_object_object_add(services, one->name, doc);
			down = true;
		}
	}
	if (self_listed) {
		struct json_object *st = NULL;
		json_object_object_get_ex(self_doc, "status", &st);
		down |= self_down;
		degraded |= st && strcmp(json_object_get_string(st), "degraded") == 0;
		json_object_object_add(services, self, self_doc);
	} else {
		json_object_put(self_doc);
	}
	for (size_t i = 0; i < n; i++) {
		if (list[i].curl) {
			curl_multi_remove_handle(multi, list[i].curl);
			curl_easy_cleanup(list[i].curl);
		}
		buf_clear(&list[i].body);
	}
	curl_multi_cleanup(multi);
	struct json_object *doc = json_object_new_object();
	json_object_object_add(doc, "status",
	                       json_object_new_string(down       ? "down"
	                                              : degraded ? "degraded"
	                                                         : "ok"));
	json_object_object_add(doc, "version", json_object_new_string(LECTERN_VERSION));
	json_object_object_add(doc, "services", services);
	return http_send_json(req, down ? 503 : 200, doc);
}
