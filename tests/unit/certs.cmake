# unit tests of certs: the profile parser and the minted extensions
agw_unit_test(test_profile test_profile.c LIBS agw_certs_lib)
agw_unit_test(test_mint test_mint.c LIBS agw_certs_lib)
