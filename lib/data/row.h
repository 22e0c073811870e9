/* row: the values of a result row as JSON, the way every service's objects
 * want them (a text column as a string or null, a number as a number). */
#ifndef LECTERN_ROW_H
#define LECTERN_ROW_H

#include <json-c/json.h>
#include <libpq-fe.h>

/* The text of (row, col) as a JSON string; NULL (JSON null) for SQL NULL. */
struct json_object *row_str(const PGresult *res, int row, int col);
/* The integer of (row, col); 0 for SQL NULL or a value that is not one. */
long long row_ll(const PGresult *res, int row, int col);
/* A numeric column ("66.67") as a JSON number written as Postgres wrote it,
 * or NULL (JSON null). */
struct json_object *row_number(const PGresult *res, int row, int col);

#endif
