/* row: result values as JSON. */
#include <stdio.h>
#include <stdlib.h>

#include "data/db.h"
#include "data/row.h"

struct json_object *row_str(const PGresult *res, int row, int col)
{
	const char *v = db_value(res, row, col);
	return v ? json_object_new_string(v) : NULL;
}

long long row_ll(const PGresult *res, int row, int col)
{
	const char *v = db_value(res, row, col);
	long long n = 0;
	if (v)
		sscanf(v, "%lld", &n);
	return n;
}

struct json_object *row_number(const PGresult *res, int row, int col)
{
	const char *v = db_value(res, row, col);
	return v ? json_object_new_double_s(strtod(v, NULL), v) : NULL;
}
