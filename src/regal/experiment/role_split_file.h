#pragma once
// The split file of a run whose target roles are drawn from one directory
// split (`target.roles_from`, ALGORITHM.md §1). The first command that needs
// the roles draws them and writes the file; every later command reads it as
// is, so pretraining aside (it needs no role) all of them see the same ids.
#include "regal/experiment/config.h"

namespace regal::experiment {

// No-op unless config.target.role_splits is set. Otherwise:
// - no file at `split_file`: draws the roles from the ids of `roles_from`
//   with role_splits.seed (the config's seed), writes the file atomically and
//   logs where;
// - a file there (drawn earlier or written by hand): reads it as is.
// ensures: config.target.role_ids holds the ids of d_t, d_s, d_r and d_v, so
// config.target.spec(role) carries them.
// throws regal::Error naming the file when it cannot be read, or when it
// disagrees with `roles_from` or `role_counts` (saying to delete it or to
// point `target.split_file` elsewhere); naming `target.role_counts` when the
// split has too few images to draw them.
void ensure_role_splits(RunConfig& config);

}  // namespace regal::experiment
