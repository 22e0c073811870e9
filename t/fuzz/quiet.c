/* quiet: the one-time set-up of the targets that need nothing else, linked
 * into them (mk/fuzz.am): the code under test logs what it refuses, and a
 * fuzzer feeds it refusals by the million, so the log goes to /dev/null. */
#include <fcntl.h>

#include "core/log.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", LOG_LEVEL_ERROR);
	log_set_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
	return 0;
}
