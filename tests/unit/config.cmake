# unit tests of config (the ARM configuration model) and vocab (its table)
agw_unit_test(test_config test_config.c)
agw_unit_test(test_vocab test_vocab.c)
