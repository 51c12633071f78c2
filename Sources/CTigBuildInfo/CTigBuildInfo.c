// The revision lives in a header the build scripts generate (and git ignores)
// rather than in a compiler define: clang tracks a header as a dependency, so
// a new revision recompiles this file, where a changed define in the package
// manifest can leave a stale object behind.
#include "CTigBuildInfo.h"

#if __has_include("revision.h")
#include "revision.h"
#endif

#ifndef TIG_REVISION
#define TIG_REVISION "unknown"
#endif

const char *tig_build_revision(void) { return TIG_REVISION; }
