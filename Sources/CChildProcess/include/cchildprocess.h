#ifndef AIRLOCK_CCHILDPROCESS_H
#define AIRLOCK_CCHILDPROCESS_H
#include <spawn.h>

/// pipe2(fds, O_CLOEXEC): both ends closed in every child spawned while they are open.
int airlock_pipe_cloexec(int fds[2]);

/// posix_spawn_file_actions_addchdir_np: the child starts in `path`.
int airlock_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);
#endif
