/* lectern-chat and lectern-chat-worker: questions about one's documents,
 * answered with quotes from them (docs/api.md, "Chat"). This file is the
 * service's descriptor; sessions are in sessions.c, messages and replies in
 * messages.c, the passages of the learner's documents in passages.c. The
 * worker keeps the replica of the documents and their passages and relays
 * the outbox (chat.message). */
#include "chat.h"

static const struct param_spec create_params[] = {
    {"title", PARAM_BODY, PARAM_STRING, false, 1, CHAT_TITLE_MAX, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
/* Every /sessions/{id} route: a session id, or 404 before the handler runs. */
static const struct param_spec id_params[] = {
    {"id", PARAM_PATH, PARAM_UUID, true, 0, 0, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
static const struct param_spec message_params[] = {
    {"id", PARAM_PATH, PARAM_UUID, true, 0, 0, NULL, NULL},
    {"message", PARAM_BODY, PARAM_STRING, true, 1, CHAT_MESSAGE_MAX, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};

static const struct route chat_routes[] = {
    {"POST", "/sessions", chat_session_create, create_params, CHAT_BODY_MAX,
     ROUTE_AUTH | ROUTE_JSON | ROUTE_OPTIONAL_BODY},
    {"GET", "/sessions", chat_session_list, NULL, 0, ROUTE_AUTH},
    {"GET", "/sessions/{id}", chat_session_get, id_params, 0, ROUTE_AUTH},
    {"DELETE", "/sessions/{id}", chat_session_delete, id_params, 0, ROUTE_AUTH},
    {"POST", "/sessions/{id}/messages", chat_message_post, message_params, CHAT_BODY_MAX,
     ROUTE_AUTH | ROUTE_JSON},
    {"GET", "/sessions/{id}/messages", chat_message_list, id_params, 0, ROUTE_AUTH},
};

static const struct consumer_handler chat_consumers[] = {
    REPLICA_HANDLERS(&chat_replica_hooks),
};

static const struct service_def chat_service = {
    .name = "chat",
    .clients = SERVICE_DB | SERVICE_LLM,
    .routes = chat_routes,
    .nroutes = CFG_COUNT(chat_routes),
    .consumers = chat_consumers,
    .nconsumers = CFG_COUNT(chat_consumers),
};

int main(int argc, char **argv)
{
	return service_main(&chat_service, argc, argv);
}
