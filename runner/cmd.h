/* cmd.h — the subcommands. Each takes argv with argv[0] = the command's
 * name and returns the process exit code (cli.h). Main thread only. */
#ifndef NIGHTSHIFT_CMD_H
#define NIGHTSHIFT_CMD_H

int cmd_ingest(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_providers(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_retry(int argc, char **argv);
int cmd_plan(int argc, char **argv);

#endif
