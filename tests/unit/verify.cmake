# unit tests of verify and reason
agw_unit_test(test_verify test_verify.c pki_util.c)
agw_unit_test(test_reason test_reason.c)
