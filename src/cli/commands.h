/* The verbs of the ugatit program; each returns the process exit status. */
#ifndef UG_CLI_COMMANDS_H
#define UG_CLI_COMMANDS_H

int cmd_translate(int argc, char **argv);
int cmd_train(int argc, char **argv);

#endif
