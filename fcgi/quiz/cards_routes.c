/* cards: the declared parameters of the flashcard routes (cards.h). */
#include "cards.h"

static const char *const export_formats[] = {"anki", "csv", NULL};

const struct param_spec cards_create_params[] = {
    {"front", PARAM_BODY, PARAM_STRING, true, 1, CARDS_FRONT_MAX, NULL, NULL},
    {"back", PARAM_BODY, PARAM_STRING, true, 1, CARDS_BACK_MAX, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
const struct param_spec cards_list_params[] = {
    {"limit", PARAM_QUERY, PARAM_INT, false, 1, CARDS_LIST_MAX, NULL, "20"},
    {"offset", PARAM_QUERY, PARAM_INT, false, 0, 1000000000, NULL, "0"},
    {"tag", PARAM_QUERY, PARAM_STRING, false, 1, CARDS_TAG_MAX, NULL, NULL},
    {"due", PARAM_QUERY, PARAM_BOOL, false, 0, 0, NULL, "false"},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
const struct param_spec cards_id_params[] = {
    {"id", PARAM_PATH, PARAM_UUID, true, 0, 0, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
const struct param_spec cards_update_params[] = {
    {"id", PARAM_PATH, PARAM_UUID, true, 0, 0, NULL, NULL},
    {"front", PARAM_BODY, PARAM_STRING, false, 1, CARDS_FRONT_MAX, NULL, NULL},
    {"back", PARAM_BODY, PARAM_STRING, false, 1, CARDS_BACK_MAX, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
const struct param_spec cards_due_params[] = {
    {"limit", PARAM_QUERY, PARAM_INT, false, 1, CARDS_DUE_MAX, NULL, "20"},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
const struct param_spec cards_review_params[] = {
    {"id", PARAM_PATH, PARAM_UUID, true, 0, 0, NULL, NULL},
    {"rating", PARAM_BODY, PARAM_INT, true, 1, 4, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
/* desired_retention is a decimal, checked by the handler. */
const struct param_spec cards_settings_params[] = {
    {"timezone", PARAM_BODY, PARAM_STRING, false, 1, 64, NULL, NULL},
    {"new_per_day", PARAM_BODY, PARAM_INT, false, 0, 9999, NULL, NULL},
    {"reviews_per_day", PARAM_BODY, PARAM_INT, false, 0, 99999, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
const struct param_spec cards_from_document_params[] = {
    {"document_id", PARAM_BODY, PARAM_UUID, true, 0, 0, NULL, NULL},
    {"limit", PARAM_BODY, PARAM_INT, false, 1, CARDS_FROM_DOC_MAX, NULL, "20"},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
const struct param_spec cards_export_params[] = {
    {"format", PARAM_QUERY, PARAM_ENUM, false, 0, 0, export_formats, "anki"},
    {"tag", PARAM_QUERY, PARAM_STRING, false, 1, CARDS_TAG_MAX, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
