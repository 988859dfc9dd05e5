/* Preloaded by record.sh: start glibc's mtrace in every process, each
   writing its own log (NZ_MTRACE_DIR/COMM.PID.trace), since one shared
   MALLOC_TRACE file would be truncated by every exec'd child. */
#define _GNU_SOURCE
#include <mcheck.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void start_mtrace(void) {
  const char *dir = getenv("NZ_MTRACE_DIR");
  if (dir == NULL) return;
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.%d.trace", dir, program_invocation_short_name, (int)getpid());
  setenv("MALLOC_TRACE", path, 1);
  mtrace();
}
