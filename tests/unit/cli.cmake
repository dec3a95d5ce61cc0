# unit tests of agw, the az command line: arguments, the --query subset,
# the output formats, ids and etags. main() (cli.c) is left out.
agw_unit_test(test_cli test_cli.c
	${CMAKE_SOURCE_DIR}/gateway/cli_args.c
	${CMAKE_SOURCE_DIR}/gateway/cli_state.c
	${CMAKE_SOURCE_DIR}/gateway/cli_out.c
	${CMAKE_SOURCE_DIR}/gateway/cli_run.c)
