#ifndef C_TIG_BUILD_INFO_H
#define C_TIG_BUILD_INFO_H

/// The source revision this binary was built from: what
/// scripts/stamp-revision.sh wrote before the build, or "unknown".
const char *tig_build_revision(void);

#endif
