/* lectern-extract: reads one document in a process of its own.
 *
 * Not a command for people: extract_file (lib/extract/extract_sandbox.c) forks,
 * sets the limits and execs this program with the document on descriptor 4,
 * the limits on 5 and the answer pipe on 3. A fresh program, rather than a
 * forked copy of a threaded worker, cannot inherit a lock some other thread
 * held at the moment of the fork. */
#include "extract/extract.h"

int main(int argc, char **argv)
{
	return extract_child_main(argc, argv);
}
