#ifndef AIRLOCK_CCHILDPROCESS_H
#define AIRLOCK_CCHILDPROCESS_H
#include <spawn.h>

/// pipe2(fds, O_CLOEXEC): both ends closed in every child spawned while they are open.
int airlock_pipe_cloexec(int fds[2]);

/// posix_spawn_file_actions_addchdir_np: the child starts in `path`.
int airlock_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);
/// A child's signal state as a fresh process has it: an empty signal mask and every signal's default
/// action (the parent may block or handle some); with `new_group`, the child leads a process group of
/// its own (so the whole group can be killed).
int airlock_spawnattr_fresh(posix_spawnattr_t *attributes, int new_group);
#endif
