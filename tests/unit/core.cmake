# unit tests of the small core modules
agw_unit_test(test_jsonio test_jsonio.c)
agw_unit_test(test_net test_net.c)
agw_unit_test(test_tls test_tls.c)
