/* The registry of hpsearch verbs: add one line per cmd_<name>.c
 * (and its extern in cli.h). */
#include "cli.h"

const hp_cmd_t *const hp_cli_commands[] = {
    &hp_cmd_run,
    &hp_cmd_autopilot,
    &hp_cmd_submit,
    &hp_cmd_validate,
    &hp_cmd_check,
    &hp_cmd_status,
    &hp_cmd_trials,
    &hp_cmd_best,
    &hp_cmd_report,
    &hp_cmd_examples,
    &hp_cmd_importance,
    &hp_cmd_logs,
    &hp_cmd_wait,
    &hp_cmd_enqueue,
    &hp_cmd_ask,
    &hp_cmd_tell,
    &hp_cmd_cancel,
    &hp_cmd_resume,
    &hp_cmd_workers,
    &hp_cmd_sql,
    &hp_cmd_dashboard,
    &hp_cmd_certs,
    NULL,
};
