/* The verbs of the ugatit program; each returns the process exit status. */
#ifndef UG_CLI_COMMANDS_H
#define UG_CLI_COMMANDS_H

int cmd_translate(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_make_shapes(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_rho(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_kid(int argc, char **argv);
int cmd_eval(int argc, char **argv);

#endif
