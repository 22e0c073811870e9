/* course_impl: what the files of course.h share. */
#ifndef LECTERN_STT_COURSE_IMPL_H
#define LECTERN_STT_COURSE_IMPL_H

#include <stdbool.h>

#include "core/mem.h"
#include "course.h"

/* The pronunciation of word (lower case ASCII) into out, phones separated
 * by spaces; false when flite has none the model can say. */
bool course_pronounce(const char *word, struct buf *out);

#endif
