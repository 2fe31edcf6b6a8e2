/*
 * cmd.h — hpworker's subcommands, one file each (cmd_<name>.c), in the
 * table in main.c (tmux cmd-*.c). A command's exec runs on the main thread,
 * gets argv with argv[0] = its name and returns the exit status.
 */
#ifndef HP_WORKER_CMD_H
#define HP_WORKER_CMD_H

typedef struct hp_worker_cmd {
    const char *name;
    const char *usage;
    int (*exec)(int argc, char **argv);
} hp_worker_cmd_t;

extern const hp_worker_cmd_t hp_worker_cmd_train;   /* cmd_train.c */
extern const hp_worker_cmd_t hp_worker_cmd_connect; /* cmd_connect.c */

#endif
